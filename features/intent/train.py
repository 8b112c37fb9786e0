"""Training the learned scorer (features/intent/model.py) from the tuning set.

Plain Python, no numerical library: the data is a few thousand short messages,
and plain Python keeps the run byte-for-byte reproducible (fixed seed, features
in sorted order, sums in a fixed order, weights rounded) without a dependency.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from features.intent.dataset import Example
from features.intent.model import IntentModel, grams

__all__ = ["Hyper", "cross_validate", "train"]


@dataclass(frozen=True, slots=True)
class Hyper:
    """Training knobs; the defaults are what the shipped model is trained with."""

    epochs: int = 30
    learning_rate: float = 0.2
    l2: float = 1e-2  # per update, on the weights a message touches (5-fold CV on tuning)
    min_count: int = 2  # an n-gram seen in fewer tuning messages is noise
    prune: float = 0.01  # smaller weights are not shipped (they barely move a score)
    digits: int = 4  # weights rounded to this many decimals
    seed: int = 13
    max_chars: int = 500


def _sigmoid(z: float) -> float:
    if z < -30.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def train(examples: Sequence[Example], hyper: Hyper = Hyper()) -> IntentModel:
    """Stochastic gradient descent on the log loss, examples in a seeded order."""
    counts: dict[str, int] = {}
    message_grams = [grams(e.text, hyper.max_chars) for e in examples]
    for found in message_grams:
        for gram in found:
            counts[gram] = counts.get(gram, 0) + 1
    names = sorted(g for g, n in counts.items() if n >= hyper.min_count)
    index = {g: i for i, g in enumerate(names)}
    features = [tuple(sorted(index[g] for g in found if g in index)) for found in message_grams]
    labels = [1.0 if e.label else 0.0 for e in examples]
    weights = [0.0] * len(names)
    bias = 0.0
    rng = random.Random(hyper.seed)
    order = list(range(len(examples)))
    for epoch in range(hyper.epochs):
        rng.shuffle(order)
        rate = hyper.learning_rate / (1.0 + 0.1 * epoch)
        for i in order:
            active = features[i]
            z = bias
            for f in active:
                z += weights[f]
            error = _sigmoid(z) - labels[i]
            bias -= rate * error
            for f in active:
                weights[f] -= rate * (error + hyper.l2 * weights[f])
    kept = {
        names[f]: round(w, hyper.digits)
        for f, w in enumerate(weights)
        if abs(round(w, hyper.digits)) >= hyper.prune
    }
    return IntentModel(bias=round(bias, hyper.digits), weights=kept, max_chars=hyper.max_chars)


def cross_validate(
    examples: Sequence[Example],
    hyper: Hyper = Hyper(),
    folds: int = 5,
    progress: Callable[[int], None] | None = None,
) -> list[float]:
    """Each example's probability from a model trained without it (stratified
    folds, seeded): what the threshold is chosen on."""
    rng = random.Random(hyper.seed)
    fold_of = [0] * len(examples)
    for label in (True, False):
        members = [i for i, e in enumerate(examples) if e.label is label]
        rng.shuffle(members)
        for position, i in enumerate(members):
            fold_of[i] = position % folds
    probabilities = [0.0] * len(examples)
    for fold in range(folds):
        model = train([e for i, e in enumerate(examples) if fold_of[i] != fold], hyper)
        for i, e in enumerate(examples):
            if fold_of[i] == fold:
                probabilities[i] = model.probability(e.text)
        if progress:
            progress(fold)
    return probabilities
