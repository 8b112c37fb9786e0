"""The labelled intent data: the held-out file keeps its format, has no message
twice and shares none with the tuning file, so figures measured on it stay honest
(features/intent/labelled/README.md)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from desk.phone import extract_phones

LABELLED = Path(__file__).resolve().parents[3] / "features" / "intent" / "labelled"
HELDOUT = LABELLED / "heldout.tsv"
TUNING = LABELLED / "tuning.tsv"
SOURCES = {"group", "dm", "signup"}
HELDOUT_FLOOR = 800  # the held-out set only grows


def same_message(text: str) -> str:
    """One key for texts a reader would call the same message (width, case, spacing)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def read_rows(path: Path) -> list[tuple[int, list[str]]]:
    raw = path.read_bytes()
    text = raw.decode("utf-8")  # UnicodeDecodeError fails the test with the offset
    assert not text.startswith("\ufeff"), f"{path.name}: no byte-order mark"
    assert "\r" not in text, f"{path.name}: line ends are \\n only"
    assert text.endswith("\n"), f"{path.name}: ends with a line break"
    return [(n, line.split("\t")) for n, line in enumerate(text.split("\n")[:-1], start=1)]


def heldout_texts() -> list[str]:
    return [cols[2] for _, cols in read_rows(HELDOUT)]


def test_every_heldout_line_is_label_source_text() -> None:
    rows = read_rows(HELDOUT)
    for n, cols in rows:
        assert len(cols) == 3, f"heldout.tsv:{n}: three tab-separated columns, got {len(cols)}"
        label, source, text = cols
        assert label in {"0", "1"}, f"heldout.tsv:{n}: label {label!r} is not 0 or 1"
        assert source in SOURCES, f"heldout.tsv:{n}: source {source!r} not in {sorted(SOURCES)}"
        assert text and text == text.strip(), f"heldout.tsv:{n}: text empty or padded"
    assert len(rows) >= HELDOUT_FLOOR


def test_heldout_has_each_source_and_both_labels() -> None:
    seen = {(cols[1], cols[0]) for _, cols in read_rows(HELDOUT)}
    assert seen == {(s, label) for s in SOURCES for label in ("0", "1")}


def test_no_heldout_message_twice() -> None:
    first: dict[str, int] = {}
    for n, text in enumerate(heldout_texts(), start=1):
        key = same_message(text)
        assert key not in first, f"heldout.tsv:{n} repeats line {first[key]}: {text}"
        first[key] = n


def test_phone_numbers_are_well_formed_mobiles() -> None:
    # Made-up numbers only, and shaped like real ones so the phone rules see them.
    for n, text in enumerate(heldout_texts(), start=1):
        runs = re.findall(r"\d{7,}", text)
        assert runs == extract_phones(text), f"heldout.tsv:{n}: digits that are no mobile: {text}"


def test_no_tuning_message_is_heldout() -> None:
    if not TUNING.exists():
        pytest.skip("no tuning.tsv yet")
    heldout = {same_message(t) for t in heldout_texts()}
    shared = [
        f"tuning.tsv:{n}: {cols[-1]}"
        for n, cols in read_rows(TUNING)
        if same_message(cols[-1]) in heldout
    ]
    assert not shared, "held-out messages in the tuning set:\n" + "\n".join(shared)
