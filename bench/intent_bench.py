"""The intent detector's quality and cost: precision and recall on the tuning set
(what the vocabulary and the model are fitted to) and on the held-out set (never
fitted to), per source (group chat, DM, sign-up note), for the vocabulary alone,
the model alone and the two combined (what the bot uses); then the scoring time
per message of each, beside a bare `str.__contains__` loop over the vocabulary's
words, in the same run. Prints figures, asserts nothing.

    .venv/bin/python bench/intent_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from features.intent.dataset import HELDOUT, SOURCES, TUNING, Example, read_labelled  # noqa: E402
from features.intent.detect import (  # noqa: E402
    IntentVocabulary,
    detect_intent,
    load_vocabulary,
    vocabulary_match,
)


def deciders(vocab: IntentVocabulary) -> dict[str, Callable[[str], bool]]:
    settings = vocab.model
    assert settings is not None, "config/intent.toml has no [model] table"
    scorer, threshold = settings.scorer, settings.threshold
    words = [*vocab.intent, *vocab.price]
    return {
        # the baseline: is any intent or price word in the text (no scoring, no vetoes)
        "baseline: str.__contains__ loop": lambda text: any(w in text for w in words),
        "vocabulary alone": lambda text: vocabulary_match(text, vocab) is not None,
        "model alone": lambda text: scorer.probability(text) >= threshold,
        "combined (the bot)": lambda text: detect_intent(text, vocab) is not None,
    }


def precision_recall(examples: Sequence[Example], decide: Callable[[str], bool]) -> str:
    tp = fp = fn = 0
    for example in examples:
        predicted = decide(example.text)
        tp += predicted and example.label
        fp += predicted and not example.label
        fn += not predicted and example.label
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return f"{precision:.3f}/{recall:.3f}"


def quality(name: str, examples: list[Example], vocab: IntentVocabulary) -> None:
    counts = {s: sum(e.source == s for e in examples) for s in SOURCES}
    positives = sum(e.label for e in examples)
    print(
        f"\n{name}: {len(examples)} messages, {positives} leads; "
        + ", ".join(f"{s} {n}" for s, n in counts.items())
    )
    print(f"  precision/recall       {'all':>11}" + "".join(f"{s:>13}" for s in SOURCES))
    for label, decide in deciders(vocab).items():
        if label.startswith("baseline"):
            continue
        cells = [precision_recall(examples, decide)]
        cells += [precision_recall([e for e in examples if e.source == s], decide) for s in SOURCES]
        print(f"  {label:<22}" + "".join(f"{c:>13}" for c in cells))


def timing(texts: list[str], vocab: IntentVocabulary, rounds: int) -> None:
    print(f"\nscoring time per message ({len(texts)} messages, best of {rounds} rounds)")
    results: dict[str, float] = {}
    for label, decide in deciders(vocab).items():
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            for text in texts:
                decide(text)
            best = min(best, time.perf_counter() - start)
        results[label] = best / len(texts) * 1e6
    baseline = next(iter(results.values()))
    for label, micros in results.items():
        print(f"  {label:<34} {micros:8.1f} µs   {micros / baseline:6.2f}x the baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description="intent detector: quality and cost")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    vocab = load_vocabulary()
    assert vocab.model is not None
    print(
        f"model {vocab.model.file.name}: {len(vocab.model.scorer.weights)} n-gram weights, "
        f"threshold {vocab.model.threshold}"
    )
    tuning = read_labelled(TUNING)
    quality("tuning set (fitted to)", tuning, vocab)
    texts = [e.text for e in tuning]
    if HELDOUT.exists():
        heldout = read_labelled(HELDOUT)
        quality("held-out set (never fitted to)", heldout, vocab)
        texts += [e.text for e in heldout]
    else:
        print(f"\nheld-out set: {HELDOUT} is not there")
    timing(texts, vocab, args.rounds)


if __name__ == "__main__":
    main()
