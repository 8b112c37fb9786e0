"""Phone numbers: mainland mobiles normalised to 11 digits via libphonenumber."""

from __future__ import annotations

import re

import phonenumbers

from desk.errors import InvalidInput

_MAX_RAW = 32
# Digits and the usual separators only: libphonenumber alone would read a
# number out of "📱138…" or "tel:138…", which is not a phone field's value.
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]+$")


def normalize_phone(raw: str) -> str:
    """'+86 138-1234-5678' → '13812345678'; anything else raises InvalidInput."""
    text = (raw or "").strip()
    if not text or len(text) > _MAX_RAW or not _PHONE_CHARS.match(text):
        raise InvalidInput("phone", "手机号格式不对")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput("phone", "手机号格式不对") from None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise InvalidInput("phone", "手机号格式不对")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput("phone", "请填写手机号")
    return str(number.national_number)


def mask_phone(phone: str) -> str:
    """'13812345678' → '138****5678', safe to show in a group."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
