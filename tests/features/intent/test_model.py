"""The learned scorer: the shipped file is what training builds, the held-out floors,
the vetoes it cannot override, and its [model] table in config/intent.toml."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from desk import ConfigError
from features.intent.dataset import HELDOUT, SOURCES, TUNING, read_labelled
from features.intent.detect import (
    IntentVocabulary,
    detect_intent,
    load_vocabulary,
    vocabulary_match,
)
from features.intent.model import FORMAT, IntentModel
from features.intent.train import train

# The combined rule (vocabulary OR model, with vetoes) on the held-out set, which no
# word, weight or threshold was fitted to: bench/intent_bench.py's figures, rounded
# down, at the second reading of the held-out set (the first: 0.863 / 0.955, before
# a round of tuning data written without sight of it). The goal is
# 0.95 / 0.95: precision is below it (see features/intent/labelled/README.md).
MIN_HELDOUT_PRECISION = 0.89
MIN_HELDOUT_RECALL = 0.95


SHIPPED = Path(__file__).resolve().parents[3] / "features" / "intent" / "model.json"


@pytest.fixture(scope="module")
def vocab() -> IntentVocabulary:
    return load_vocabulary()


def test_shipped_model_is_what_training_builds_from_the_tuning_set() -> None:
    # `python -m features.intent train` after a change to tuning.tsv or the trainer
    assert train(read_labelled(TUNING)).to_json() == SHIPPED.read_text(encoding="utf-8")


def test_the_shipped_config_uses_the_shipped_model(vocab: IntentVocabulary) -> None:
    assert vocab.model is not None and vocab.model.file == SHIPPED


def test_precision_and_recall_on_the_heldout_set(vocab: IntentVocabulary) -> None:
    rows = read_labelled(HELDOUT)
    assert {row.source for row in rows} == set(SOURCES)
    tp = fp = fn = 0
    misses = []
    for row in rows:
        predicted = detect_intent(row.text, vocab) is not None
        tp += predicted and row.label
        fp += predicted and not row.label
        fn += row.label and not predicted
        if predicted != row.label:
            misses.append(f"  {'false positive' if predicted else 'false negative'}: {row.text}")
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    report = f"held-out precision {precision:.3f} recall {recall:.3f}\n" + "\n".join(misses)
    assert precision >= MIN_HELDOUT_PRECISION and recall >= MIN_HELDOUT_RECALL, report


def test_a_message_only_the_model_reads_as_intent(vocab: IntentVocabulary) -> None:
    text = "保险和上牌能一起办吗，一共多少钱"  # an insurance-and-plates package: no word for it
    assert vocabulary_match(text, vocab) is None
    match = detect_intent(text, vocab)
    assert match is not None and match.probability is not None
    assert match.words == () and match.phones == ()


# --- vetoes: with a model that calls everything a lead ---------------------------------


def write_config(tmp_path: Path, model_body: str | None, table: str) -> Path:
    model = tmp_path / "model.json"
    if model_body is not None:
        model.write_text(model_body, encoding="utf-8")
    config = tmp_path / "intent.toml"
    vocabulary = load_vocabulary()
    config.write_text(
        "[intent]\n"
        + "".join(f'"{w}" = {n}\n' for w, n in vocabulary.intent.items())
        + "[price]\n"
        + "".join(f'"{w}" = {n}\n' for w, n in vocabulary.price.items())
        + "[owner_talk]\n"
        + "".join(f'"{w}" = {n}\n' for w, n in vocabulary.owner_talk.items())
        + f"[model]\npath = {json.dumps(str(model))}\n{table}",
        encoding="utf-8",
    )
    return config


def eager_model() -> str:
    return IntentModel(bias=20.0, weights={"车": 0.0}).to_json()


@pytest.fixture
def eager(tmp_path: Path) -> IntentVocabulary:
    vetoes = '["油价", "加油", "92号", "停车", "补胎", "修车"]'
    return load_vocabulary(
        write_config(tmp_path, eager_model(), f"threshold = 0.5\nvetoes = {vetoes}\n")
    )


@pytest.mark.parametrize(
    "text",
    ["油价又涨了，92号多少钱一升？", "加油站今天有优惠吗", "停车费多少钱一小时？",
     "补胎多少钱？", "修车花了两千，你们多少"],
)  # fmt: skip
def test_fuel_parking_and_repair_price_talk_is_vetoed(eager: IntentVocabulary, text: str) -> None:
    assert eager.model is not None and eager.model.scorer.probability(text) > 0.99
    assert detect_intent(text, eager) is None


def test_owner_talk_vetoes_the_model(eager: IntentVocabulary) -> None:
    assert detect_intent("我当时落地二十一万多", eager) is None  # 当时: [owner_talk]
    assert detect_intent("今天天气不错", eager) is not None  # no veto: the (eager) model decides


def test_the_vocabulary_still_decides_alone(eager: IntentVocabulary) -> None:
    match = detect_intent("这车落地多少钱", eager)
    assert match is not None and "落地" in match.words


# --- the [model] table -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "table", "key"),
    [
        (None, "threshold = 0.5\n", "model.path"),
        ("{not json", "threshold = 0.5\n", "model.path"),
        ('{"format": "other"}', "threshold = 0.5\n", "model.path"),
        (json.dumps({"format": FORMAT, "max_n": 3, "max_chars": 500, "bias": 0, "weights": {}}),
         "threshold = 0.5\n", "model.path"),
        (eager_model(), "threshold = 1.5\n", "model.threshold"),
        (eager_model(), "", "model.threshold"),
        (eager_model(), 'threshold = 0.5\nvetoes = [" "]\n', "model.vetoes"),
    ],
)  # fmt: skip
def test_a_bad_model_stops_the_start_naming_the_key(
    tmp_path: Path, body: str | None, table: str, key: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_vocabulary(write_config(tmp_path, body, table))
