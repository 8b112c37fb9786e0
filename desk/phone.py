"""Phone numbers: mainland mobiles normalised to 11 digits via libphonenumber."""

from __future__ import annotations

import re

import phonenumbers

from desk.errors import InvalidInput

_MAX_RAW = 32
# Digits and the usual separators only: libphonenumber alone would read a
# number out of "📱138…" or "tel:138…", which is not a phone field's value.
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]+$")
_MOBILE_TYPES = frozenset({
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
})  # fmt: skip
# A mobile is 11 digits with at most a few separators between them: text without
# such a run (most log lines: ids split by words) skips libphonenumber (~90 µs).
_ELEVEN_DIGITS = re.compile(r"\d(?:\W{0,3}\d){10}")
# Defence in depth for masking: any 11-digit run shaped like a mainland mobile
# (138 1234 5678, 138-1234-5678) that libphonenumber did not take.
_MOBILE_LIKE = re.compile(r"(?<!\d)1\d{2}[ -]?\d{4}[ -]?\d{4}(?!\d)")


def _type_patterns() -> tuple[re.Pattern[str] | None, list[re.Pattern[str]]]:
    """libphonenumber's own CN patterns: the mobile one, and every pattern whose
    number type number_type() would name before MOBILE (so its answer differs)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    if meta is None or meta.mobile is None or 11 not in (meta.mobile.possible_length or ()):
        return None, []
    others = []
    for name in ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
                 "pager", "uan", "voicemail"):  # fmt: skip
        desc = getattr(meta, name, None)
        if desc is not None and desc.national_number_pattern:
            others.append(re.compile(desc.national_number_pattern))
    general = meta.general_desc.national_number_pattern if meta.general_desc else None
    if not general or not meta.mobile.national_number_pattern:
        return None, []
    mobile = re.compile(f"(?=(?:{general})$)(?:{meta.mobile.national_number_pattern})")
    return mobile, others


_CN_MOBILE, _CN_OTHER_TYPES = _type_patterns()


def _plain_mobile(text: str) -> bool:
    """11 bare digits that libphonenumber's CN mobile pattern takes (and no type it
    checks first): its answer, without its parse (~100 µs a number, most of an
    import row's reading and a tenth of a capture)."""
    return (
        _CN_MOBILE is not None
        and len(text) == 11
        and text.isascii()
        and text.isdigit()
        and _CN_MOBILE.fullmatch(text) is not None
        and not any(p.fullmatch(text) for p in _CN_OTHER_TYPES)
    )


def normalize_phone(raw: str) -> str:
    """'+86 138-1234-5678' → '13812345678'; anything else raises InvalidInput."""
    text = (raw or "").strip()
    if _plain_mobile(text):
        return text
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


def _mobile_matches(text: str) -> list[tuple[int, int, str]]:
    """(start, end, 11-digit number) of each valid mainland mobile in the text."""
    if not isinstance(text, str) or not _ELEVEN_DIGITS.search(text):
        return []
    found: list[tuple[int, int, str]] = []
    try:
        for match in phonenumbers.PhoneNumberMatcher(text, "CN"):
            number = match.number
            if number.country_code == 86 and phonenumbers.number_type(number) in _MOBILE_TYPES:
                found.append((match.start, match.end, str(number.national_number)))
    except Exception:  # a third-party parser must not take a message handler down
        return found
    return found


def extract_phones(text: str) -> list[str]:
    """Valid mainland mobile numbers in a text, as 11 digits, first occurrence order."""
    return list(dict.fromkeys(phone for _, _, phone in _mobile_matches(text)))


def mask_phones_in_text(text: str) -> str:
    """The text with every mobile number replaced by its mask (138****5678): for group
    replies, stored notes and log lines (the bot's log patcher uses it)."""
    if not isinstance(text, str):
        return ""
    spans = [(start, end, mask_phone(phone)) for start, end, phone in _mobile_matches(text)]
    for match in _MOBILE_LIKE.finditer(text):
        if not any(s < match.end() and match.start() < e for s, e, _ in spans):
            digits = re.sub(r"\D", "", match.group())
            spans.append((match.start(), match.end(), mask_phone(digits)))
    for start, end, masked in sorted(spans, reverse=True):
        text = text[:start] + masked + text[end:]
    return text
