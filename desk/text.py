"""People's text, fit to store and show: one rule for every feature."""

from __future__ import annotations

import unicodedata

# Control, surrogate, private-use and unassigned code points: NUL breaks
# PostgreSQL, a lone surrogate breaks UTF-8, the rest shows as nothing.
_UNFIT = frozenset(("Cc", "Cs", "Co", "Cn"))


def clean_text(text: str | None) -> str:
    """`text` with unfit characters dropped (line breaks and tabs kept), trimmed."""
    if not text:
        return ""
    if text.isprintable():  # no Cc/Cs/Co/Cn in it: nothing to drop (C speed; imports)
        return text.strip()
    kept = (ch for ch in text or "" if ch in "\n\t" or unicodedata.category(ch) not in _UNFIT)
    return "".join(kept).strip()


def checked_text(text: str, limit: int) -> str | None:
    """`text` trimmed when it is non-empty, at most `limit` characters and has no
    unfit character; else None (the caller answers with its usage line)."""
    text = text.strip()
    if not text or len(text) > limit:
        return None
    if any(unicodedata.category(ch) in _UNFIT for ch in text):
        return None
    return text
