"""Every status a person reads, in Chinese and English: the one table.

Keys are the values on the wire (``canceled``, never ``cancelled``). Pages say
``t("status.order." + order.status)``; Python says ``status_label("order", status, lang)``.
A status missing here shows as its own value, so a new status is visible, not blank.
"""

from events.web.i18n import N_, Lang

STATUS_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "entry": {
        "waiting": ("候补", "Waiting list"),
        "pending_payment": ("待付款", "Fee due"),
        "confirmed": ("已确认", "Confirmed"),
        "inspected": ("已验马", "Inspected"),
        "withdrawn": ("已退赛", "Withdrawn"),
        "scratched": ("已取消参赛", "Scratched"),
        "canceled": ("未付款已取消", "Cancelled (unpaid)"),
    },
    "payment": {
        "created": ("待支付", "Awaiting payment"),
        "pending": ("待支付", "Awaiting payment"),
        "succeeded": ("支付成功", "Paid"),
        "failed": ("支付失败", "Payment failed"),
        "expired": ("已过期", "Expired"),
        "canceled": ("已取消", "Cancelled"),
        "partially_refunded": ("已部分退款", "Partly refunded"),
        "refunded": ("已退款", "Refunded"),
    },
    "order": {
        "pending": ("待支付", "Awaiting payment"),
        "paid": ("已支付", "Paid"),
        "expired": ("已过期", "Expired"),
        "canceled": ("已取消", "Cancelled"),
        "refunded": ("已退款", "Refunded"),
    },
    "ticket": {
        "valid": ("有效", "Valid"),
        "canceled": ("已取消", "Cancelled"),
        "refunded": ("已退款", "Refunded"),
    },
}


def status_labels(kind: str, status: str) -> tuple[str, str]:
    """The Chinese and the English label."""
    return STATUS_LABELS.get(kind, {}).get(status, (status, status))


def status_label(kind: str, status: str, lang: Lang) -> str:
    zh, en = status_labels(kind, status)
    return zh if lang == "zh" else en


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("status.entry.canceled"),
    N_("status.entry.confirmed"),
    N_("status.entry.inspected"),
    N_("status.entry.pending_payment"),
    N_("status.entry.scratched"),
    N_("status.entry.waiting"),
    N_("status.entry.withdrawn"),
    N_("status.order.canceled"),
    N_("status.order.expired"),
    N_("status.order.paid"),
    N_("status.order.pending"),
    N_("status.order.refunded"),
    N_("status.payment.canceled"),
    N_("status.payment.created"),
    N_("status.payment.expired"),
    N_("status.payment.failed"),
    N_("status.payment.partially_refunded"),
    N_("status.payment.pending"),
    N_("status.payment.refunded"),
    N_("status.payment.succeeded"),
    N_("status.ticket.canceled"),
    N_("status.ticket.refunded"),
    N_("status.ticket.valid"),
)
