"""Purchase-intent detection and phone handling (the chat front: bot/plugins/intent).

The vocabulary and the scoring rule are data in config/intent.toml.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from desk.config_file import config_path, load_toml
from desk.phone import extract_phones, mask_phone, mask_phones_in_text
from desk.settings import DEFAULT_CONFIG_DIR, REPO_ROOT
from features.intent.model import IntentModel, load_model

__all__ = [
    "DEFAULT_VOCABULARY_PATH",
    "IntentMatch",
    "IntentVocabulary",
    "ModelSettings",
    "detect_intent",
    "extract_phones",
    "load_vocabulary",
    "mask_phone",
    "model_vetoed",
    "mask_phones_in_text",
    "vocabulary_match",
]

DEFAULT_VOCABULARY_PATH = DEFAULT_CONFIG_DIR / "intent.toml"

_CLAUSE_END = r"(?=[\s,.!?;:~。、…]|$)"
# 收不收, 贵不贵, 有没有: a yes-no question (anchored on 不/没 so the prefilter applies)
_A_NOT_A = r"[不没](?<=(?P<a>\w)[不没])(?P=a)"

Word = Annotated[str, Field(min_length=1, max_length=20)]


def _normalize(text: str) -> str:
    """Full-width to half-width, lower case: the form both words and messages are matched in."""
    return unicodedata.normalize("NFKC", text).casefold()


def _trie_pattern(words: list[str]) -> str:
    """One regex alternative per first character: leftmost-longest match without backtracking."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _first_chars(words: list[str]) -> str:
    """A lookahead on the possible first characters: lets the regex engine skip ahead fast."""
    return "(?=[" + "".join(sorted({re.escape(w[0]) for w in words})) + "])"


class ModelSettings(BaseModel):
    """[model] in config/intent.toml: the learned scorer beside the vocabulary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Annotated[str, Field(min_length=1)]  # relative paths are from the repository root
    threshold: Annotated[float, Field(gt=0, lt=1)]
    vetoes: list[Word] = []

    _scorer: IntentModel = PrivateAttr()
    _vetoes: re.Pattern[str] | None = PrivateAttr(default=None)

    @field_validator("vetoes", mode="after")
    @classmethod
    def _normalize_vetoes(cls, words: list[str]) -> list[str]:
        return [_normalized_word(w) for w in words]

    @model_validator(mode="after")
    def _load(self) -> ModelSettings:
        # A missing or corrupt model file stops the start, naming the key.
        try:
            self._scorer = load_model(self.file)
        except ValueError as exc:
            raise ValueError(f"model.path = {self.path!r}: {exc}") from None
        if self.vetoes:
            self._vetoes = re.compile(f"{_first_chars(self.vetoes)}{_trie_pattern(self.vetoes)}")
        return self

    @property
    def file(self) -> Path:
        path = Path(self.path)
        return path if path.is_absolute() else REPO_ROOT / path

    @property
    def scorer(self) -> IntentModel:
        return self._scorer

    def vetoed(self, normalized: str) -> bool:
        """A veto word is in the (normalised) message: the model alone cannot make it a lead."""
        return self._vetoes is not None and self._vetoes.search(normalized) is not None


class IntentVocabulary(BaseModel):
    """The intent words and scoring knobs; see config/intent.toml for the rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: Annotated[int, Field(ge=1, le=20)] = 3
    question_bonus: Annotated[int, Field(ge=0, le=10)] = 1
    corroboration_bonus: Annotated[int, Field(ge=0, le=10)] = 1
    phone_bonus: Annotated[int, Field(ge=0, le=10)] = 1
    max_chars: Annotated[int, Field(ge=20, le=100_000)] = 500
    question_markers: list[Word] = []
    question_endings: list[Word] = []
    price_contexts: list[Word] = []
    intent: Annotated[dict[Word, Annotated[int, Field(ge=1, le=10)]], Field(min_length=1)]
    price: dict[Word, Annotated[int, Field(ge=1, le=10)]] = {}
    owner_talk: dict[Word, Annotated[int, Field(ge=-10, le=-1)]] = {}
    model: ModelSettings | None = None  # None: the vocabulary alone decides

    _words: re.Pattern[str] = PrivateAttr()
    _questions: re.Pattern[str] = PrivateAttr()
    _kinds: dict[str, tuple[str, int]] = PrivateAttr(default_factory=dict)

    @field_validator("question_markers", "question_endings", "price_contexts", mode="after")
    @classmethod
    def _normalize_list(cls, words: list[str]) -> list[str]:
        return [_normalized_word(w) for w in words]

    @field_validator("intent", "price", "owner_talk", mode="after")
    @classmethod
    def _normalize_table(cls, table: dict[str, int]) -> dict[str, int]:
        return {_normalized_word(w): weight for w, weight in table.items()}

    @model_validator(mode="after")
    def _words_listed_once(self) -> IntentVocabulary:
        seen: dict[str, str] = {}
        tables = {
            "intent": self.intent,
            "price": self.price,
            "owner_talk": self.owner_talk,
            "price_contexts": dict.fromkeys(self.price_contexts, 0),
        }
        for table, words in tables.items():
            for word in words:
                if word in seen:
                    raise ValueError(f"{word!r} is listed in both {seen[word]} and {table}")
                seen[word] = table
        return self

    def model_post_init(self, context: object, /) -> None:
        kinds: dict[str, tuple[str, int]] = {w: ("context", 0) for w in self.price_contexts}
        kinds |= {w: ("owner", n) for w, n in self.owner_talk.items()}
        kinds |= {w: ("price", n) for w, n in self.price.items()}
        kinds |= {w: ("intent", n) for w, n in self.intent.items()}
        self._kinds = kinds
        words = list(kinds)
        # The longest word starting at each position, overlaps included.
        self._words = re.compile(f"{_first_chars(words)}(?=({_trie_pattern(words)}))")
        alternatives = [_A_NOT_A]
        if self.question_markers:
            alternatives.append(_trie_pattern(self.question_markers))
        if self.question_endings:
            alternatives.append(f"(?:{_trie_pattern(self.question_endings)}){_CLAUSE_END}")
        starts = [*self.question_markers, *self.question_endings, "不", "没"]
        self._questions = re.compile(f"{_first_chars(starts)}(?:{'|'.join(alternatives)})")


def _normalized_word(word: str) -> str:
    normalized = _normalize(word.strip())
    if not normalized:
        raise ValueError("empty word")
    return normalized


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A message that reads as purchase or service intent."""

    words: tuple[str, ...]  # the intent and price words that counted (may be empty: model only)
    score: int  # the vocabulary's score
    phones: tuple[str, ...]  # mainland mobiles, 11 digits
    probability: float | None = None  # the learned model's; None without [model]


def detect_intent(text: str, vocab: IntentVocabulary) -> IntentMatch | None:
    """Score one message; None when it is not a lead. Never raises on any text.

    A lead when the vocabulary says so, or else when the learned model's
    probability reaches [model] threshold, unless a [model] veto word (owners'
    price talk about fuel, parking, a repair) or an [owner_talk] word (an owner
    telling what already happened) is in the message.
    """
    if not isinstance(text, str) or not text:
        return None
    normalized = _normalize(text[: vocab.max_chars])
    verdict = _vocabulary_verdict(normalized, vocab)
    settings = vocab.model
    phones: list[str] | None = None
    if verdict.words:
        phones = extract_phones(text)
        score = verdict.score + (vocab.phone_bonus if phones else 0)
        if score >= vocab.threshold:
            probability = settings.scorer.probability(text) if settings else None
            return IntentMatch(verdict.words, score, tuple(phones), probability)
    if settings is None:
        return None
    if verdict.owner_talk or settings.vetoed(normalized):
        return None
    probability = settings.scorer.probability(text)
    if probability < settings.threshold:
        return None
    if phones is None:
        phones = extract_phones(text)
    return IntentMatch(verdict.words, verdict.score, tuple(phones), probability)


def model_vetoed(text: str, vocab: IntentVocabulary) -> bool:
    """Whether the model alone may not make this message a lead (see detect_intent)."""
    normalized = _normalize(text[: vocab.max_chars])
    if _vocabulary_verdict(normalized, vocab).owner_talk:
        return True
    return vocab.model is not None and vocab.model.vetoed(normalized)


def vocabulary_match(text: str, vocab: IntentVocabulary) -> IntentMatch | None:
    """The vocabulary's verdict alone, without the model (the bench compares them)."""
    if not isinstance(text, str) or not text:
        return None
    verdict = _vocabulary_verdict(_normalize(text[: vocab.max_chars]), vocab)
    if not verdict.words:
        return None
    phones = extract_phones(text)
    score = verdict.score + (vocab.phone_bonus if phones else 0)
    if score < vocab.threshold:
        return None
    return IntentMatch(verdict.words, score, tuple(phones))


@dataclass(frozen=True, slots=True)
class _Verdict:
    words: tuple[str, ...]  # the intent and price words that counted; () when none
    score: int  # without the phone bonus (the caller extracts phones once)
    owner_talk: bool  # an [owner_talk] word is in the message


def _vocabulary_verdict(normalized: str, vocab: IntentVocabulary) -> _Verdict:
    intent: list[tuple[str, int, int]] = []  # word, start, end
    best = 0
    price: list[str] = []
    price_best = 0
    penalty = 0
    has_context = False
    kinds = vocab._kinds
    for found in vocab._words.finditer(normalized):
        word = found.group(1)
        kind, weight = kinds[word]
        if kind == "intent":
            intent.append((word, found.start(), found.start() + len(word)))
            best = max(best, weight)
        elif kind == "price":
            price.append(word)
            price_best = max(price_best, weight)
        elif kind == "owner":
            penalty += weight
        else:
            has_context = True
    if has_context:
        price, price_best = [], 0
    if not intent and not price:
        return _Verdict((), 0, penalty < 0)
    score = max(best, price_best) + penalty
    if _corroborated(intent):
        score += vocab.corroboration_bonus
    if vocab._questions.search(normalized):
        score += vocab.question_bonus
    words = dict.fromkeys([*(word for word, _, _ in intent), *price])
    return _Verdict(tuple(words), score, penalty < 0)


def _corroborated(intent: list[tuple[str, int, int]]) -> bool:
    """Two different intent words side by side, not one nested in the other (去店里 / 店里)."""
    return any(
        a_word != b_word and (a_end <= b_start or b_end <= a_start)
        for i, (a_word, a_start, a_end) in enumerate(intent)
        for b_word, b_start, b_end in intent[i + 1 :]
    )


def load_vocabulary(path: Path | None = None) -> IntentVocabulary:
    """Read and validate config/intent.toml; a bad file raises desk.ConfigError naming the key."""
    return load_toml(IntentVocabulary, path or config_path("intent.toml"), "intent vocabulary")
