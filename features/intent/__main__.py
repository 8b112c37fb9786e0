"""`python -m features.intent train`: rebuild the shipped model from the tuning set.
`python -m features.intent threshold`: cross-validate on the tuning set and print
precision and recall of the combined rule (vocabulary OR model, with vetoes) at
each threshold, to choose [model] threshold in config/intent.toml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from features.intent.dataset import TUNING, read_labelled
from features.intent.detect import load_vocabulary, model_vetoed, vocabulary_match
from features.intent.train import cross_validate, train

DEFAULT_MODEL = Path(__file__).resolve().parent / "model.json"


def _train(out: Path) -> None:
    model = train(read_labelled(TUNING))
    out.write_text(model.to_json(), encoding="utf-8")
    print(f"{out}: {len(model.weights)} n-gram weights from {TUNING.name}")


def _threshold() -> None:
    examples = read_labelled(TUNING)
    vocab = load_vocabulary()
    probabilities = cross_validate(examples, progress=lambda f: print(f"fold {f + 1}/5 trained"))
    by_vocab = [vocabulary_match(e.text, vocab) is not None for e in examples]
    vetoes = [model_vetoed(e.text, vocab) for e in examples]
    print("threshold  model P/R       combined P/R    combined F1")
    best = (0.0, 0.0)
    for step in range(10, 100, 5):
        threshold = step / 100
        model = [p >= threshold for p in probabilities]
        combined = [
            v or (m and not veto) for v, m, veto in zip(by_vocab, model, vetoes, strict=True)
        ]
        rows = []
        for predicted in (model, combined):
            tp = sum(p and e.label for p, e in zip(predicted, examples, strict=True))
            fp = sum(p and not e.label for p, e in zip(predicted, examples, strict=True))
            fn = sum(not p and e.label for p, e in zip(predicted, examples, strict=True))
            rows.append((tp / max(tp + fp, 1), tp / max(tp + fn, 1)))
        (mp, mr), (cp, cr) = rows
        f1 = 2 * cp * cr / max(cp + cr, 1e-9)
        print(f"{threshold:9.2f}  {mp:.3f}/{mr:.3f}     {cp:.3f}/{cr:.3f}     {f1:.3f}")
        # The goal is precision and recall alike (0.95 / 0.95): the threshold that
        # raises the lower of the two; a tie goes to the higher threshold.
        best = max(best, (round(min(cp, cr), 3), threshold))
    print(f"the lower of combined P and R is highest, {best[0]:.3f}, at {best[1]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m features.intent")
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="write the model trained on tuning.tsv")
    train_cmd.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    commands.add_parser("threshold", help="cross-validated P/R per threshold on tuning.tsv")
    args = parser.parse_args(argv)
    if args.command == "train":
        _train(args.out)
    else:
        _threshold()
    return 0


if __name__ == "__main__":
    sys.exit(main())
