"""The learned intent scorer: character n-grams and logistic regression.

Run time is pure Python: the shipped model (features/intent/model.json) is a
table of n-gram weights, and scoring a message is one dict lookup per n-gram
plus a sigmoid. Training (features/intent/train.py, `python -m features.intent
train`) writes that file from the labelled tuning set.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FORMAT", "IntentModel", "grams", "load_model"]

FORMAT = "intent-char-ngram-logreg/1"
MAX_N = 3  # n-grams of 1..3 characters
_START, _END = "\x02", "\x03"  # so a message's first and last characters are n-grams of their own
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def grams(text: str, max_chars: int) -> set[str]:
    """The message's character n-grams (1..MAX_N), after the same normalisation
    the vocabulary uses; any run of digits reads as "0" (prices, phones, years)."""
    normalized = unicodedata.normalize("NFKC", text[:max_chars]).casefold()
    normalized = _SPACES.sub(" ", _DIGITS.sub("0", normalized)).strip()
    padded = f"{_START}{normalized}{_END}"
    found: set[str] = set()
    add = found.add
    for i in range(len(padded)):
        add(padded[i])
        add(padded[i : i + 2])
        add(padded[i : i + 3])
    return found


@dataclass(frozen=True, slots=True)
class IntentModel:
    """Logistic regression over n-gram presence: P(intent) = sigmoid(bias + sum of weights)."""

    bias: float
    weights: dict[str, float]
    max_chars: int = 500

    def probability(self, text: str) -> float:
        weights = self.weights
        z = self.bias
        for gram in grams(text, self.max_chars):
            z += weights.get(gram, 0.0)
        if z < -30.0:  # exp overflow guard; the answer is 0 to any precision that matters
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> str:
        """The shipped file: sorted keys, fixed rounding, so a retrain is byte-identical."""
        body = {
            "format": FORMAT,
            "max_n": MAX_N,
            "max_chars": self.max_chars,
            "bias": self.bias,
            "weights": dict(sorted(self.weights.items())),
        }
        return json.dumps(body, ensure_ascii=False, indent=0, sort_keys=False) + "\n"


def load_model(path: Path) -> IntentModel:
    """Read a model file; ValueError (the config loader names the key) when it is
    missing, unreadable or not a model this code can score with."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read intent model {path}: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("max_n") != MAX_N:
        raise ValueError(f"{path} is not an intent model of format {FORMAT}")
    bias, weights, max_chars = body.get("bias"), body.get("weights"), body.get("max_chars")
    if (
        not isinstance(bias, float | int)
        or not isinstance(max_chars, int)
        or max_chars < 1
        or not isinstance(weights, dict)
        or not weights
        or not all(isinstance(w, float | int) and math.isfinite(w) for w in weights.values())
        or not math.isfinite(bias)
    ):
        raise ValueError(f"{path}: bias, max_chars or weights are missing or not numbers")
    return IntentModel(
        bias=float(bias),
        weights={str(g): float(w) for g, w in weights.items()},
        max_chars=max_chars,
    )
