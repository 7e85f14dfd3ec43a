"""How people and horses are told apart: mobile numbers and microchips, normalised.

A mainland China mobile number is 11 digits, ``1[3-9]`` then nine more; ``+86`` / ``86`` in
front and spaces or dashes inside are accepted and dropped. A microchip (ISO 11784/11785)
is exactly 15 digits.
"""

import re

_MOBILE = re.compile(r"1[3-9]\d{9}")
_MICROCHIP = re.compile(r"\d{15}")
_SEPARATORS = re.compile(r"[\s\-()]")

MOBILE_MESSAGE = (
    "A mainland China mobile number: 11 digits starting 13-19, optionally "
    "with +86 in front (e.g. 13812345678)."
)
MICROCHIP_MESSAGE = "A microchip number is exactly 15 digits."


def normalise_mobile(text: str) -> str | None:
    """The 11-digit number, or None when ``text`` is not a mainland China mobile number."""
    digits = _SEPARATORS.sub("", text or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


def normalise_microchip(text: str) -> str | None:
    """The 15 digits, or None when ``text`` is not a microchip number."""
    digits = re.sub(r"\s", "", text or "")
    return digits if _MICROCHIP.fullmatch(digits) else None


def mask_mobile(mobile: str) -> str:
    """138****5678, for pages others may see."""
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) == 11 else mobile
