"""desk.phone.normalize_phone: its shortcut for 11 bare digits gives libphonenumber's
answer (the shortcut is what imports and captures take for nearly every number)."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from desk import InvalidInput, normalize_phone
from desk.phone import _plain_mobile


def libphonenumber(text: str) -> str | None:
    """The full parse's answer: the number, or None when refused."""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    return str(number.national_number) if phonenumbers.number_type(number) in mobile else None


def test_the_shortcut_agrees_with_libphonenumber() -> None:
    rng = random.Random(11)
    numbers = ["1" + "".join(rng.choices("0123456789", k=10)) for _ in range(20_000)]
    numbers += ["16012345678", "16812345", "10086123456", "4001234567", "95012345678"]
    taken = [n for n in numbers if _plain_mobile(n)]
    assert len(taken) > 5_000  # the shortcut is used
    assert [n for n in taken if libphonenumber(n) != n] == []
    for n in numbers:  # with or without it, the same answer
        try:
            got: str | None = normalize_phone(n)
        except InvalidInput:
            got = None
        assert got == libphonenumber(n), n


@pytest.mark.parametrize("raw", ["+86 138-1234-5678", " 13812345678 ", "138 1234 5678"])
def test_written_forms(raw: str) -> None:
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["12012345678", "1381234567", "tel:13812345678", "138123456789"])
def test_refusals(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_phone(raw)
