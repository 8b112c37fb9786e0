"""The labelled messages (features/intent/labelled/*.tsv): `label<TAB>source<TAB>text`.

tuning.tsv is what the vocabulary and the model may be fitted to; heldout.tsv is
never fitted to, only measured on (bench/intent_bench.py, tests/features/intent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["HELDOUT", "LABELLED_DIR", "SOURCES", "TUNING", "Example", "read_labelled"]

LABELLED_DIR = Path(__file__).resolve().parent / "labelled"
TUNING = LABELLED_DIR / "tuning.tsv"
HELDOUT = LABELLED_DIR / "heldout.tsv"
SOURCES = ("group", "dm", "signup")  # group chat, direct message, a sign-up's note


@dataclass(frozen=True, slots=True)
class Example:
    label: bool  # True: a lead
    source: str
    text: str


def read_labelled(path: Path) -> list[Example]:
    """Every row of a labelled file; ValueError naming the line when one is malformed."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in ("0", "1") or parts[1] not in SOURCES:
            raise ValueError(f"{path.name} line {number}: expected label<TAB>source<TAB>text")
        if not parts[2].strip():
            raise ValueError(f"{path.name} line {number}: empty text")
        rows.append(Example(label=parts[0] == "1", source=parts[1], text=parts[2]))
    return rows
