"""The console frame's words in Chinese and English (each area registers its own too)."""

from events.web.i18n import N_

# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.festival"),
    N_("console.form.required"),
    N_("console.login.failed"),
    N_("console.login.not_staff"),
    N_("console.login.throttled"),
    N_("console.nav.dashboard"),
    N_("console.refused.csrf_failed"),
    N_("console.refused.forbidden"),
    N_("console.refused.not_found"),
    N_("console.refused.validation_failed"),
    N_("console.role.gate"),
    N_("console.role.official"),
    N_("console.role.organiser"),
    N_("console.signed_in_as"),
)
