"""A small learned layer over the rules: one logistic model per topic.

Pure Python, no dependency. It is trained at development time
(`tools/train_topics.py`, `make topics-train`) on the labelled sets in
tests/topics/ and shipped as a JSON file that the vocabulary's `[model]`
table names. Its features are things a reader can check:

* `rule:<topic>`: the rules' score for every topic, as log(1 + score);
  `chosen:<topic>`: the rules chose that topic; `decoy`: the decoy cues' score;
* `p:<topic>:<phrase>`: that phrase of the vocabulary fired (so the model learns
  which phrases carry to new writers and which are mentions), `n:<topic>`:
  log(1 + how many different phrases of the topic fired), `rt:<topic>` and
  `rl:<topic>`: one of them fired in the title, in the opening of the body;
* `w:<stem>`: a word of the text (by stem, common words left out),
  `t:<stem>`: a word of the title, `b:<stem> <stem>`: two words in a row;
  each 1 where present, read in the first OPENING words of the title and of
  the body (a thread's replies read as the rest of its question).

A topic's probability is the logistic of its bias plus the weights of the
features present. The rules keep the first word: a topic they chose is
*dropped* only when the model finds it very unlikely (below `drop`), and a
topic they did not choose is *added* only when it is likely (at least `add`),
with the words that weighed most for it as its evidence.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from .tagger import COMMON_STEMS

OPENING = 250  # only the first this many words of a field are features


class ModelError(ValueError):
    """A broken model file; the message names it and how to fix it."""


def fingerprint(vocabulary_text: str) -> str:
    """What a model records of the vocabulary it was trained with."""
    return hashlib.sha256(vocabulary_text.encode("utf-8")).hexdigest()[:16]


def _pairs(stems: list[str]) -> set[tuple[str, str]]:
    return set(zip(stems, islice(stems, 1, None), strict=False))


def _openings(stems_by_field: dict[str, list[str]]) -> dict[str, list[str]]:
    """The words that give features: the first OPENING words of each field, a
    thread's replies read as the rest of its question (as the labelled sets
    write threads: the question, then "Reply: ..."). A long text is read no
    further than its opening: that is where it says what it is about."""
    opened = {n: s[:OPENING] for n, s in stems_by_field.items() if n != "replies"}
    replies = stems_by_field.get("replies")
    if replies:
        body = opened.get("body", [])
        opened["body"] = body + replies[: OPENING - len(body)]
    return opened


def word_features(stems_by_field: dict[str, list[str]]) -> dict[str, float]:
    """Every word feature of a text (for training; see Model.features)."""
    found: dict[str, float] = {}
    for name, stems in _openings(stems_by_field).items():
        words = set(stems) - COMMON_STEMS
        found.update((f"w:{w}", 1.0) for w in words)
        found.update(
            (f"b:{a} {b}", 1.0)
            for a, b in _pairs(stems)
            if not (a in COMMON_STEMS and b in COMMON_STEMS)
        )
        if name == "title":
            found.update((f"t:{w}", 1.0) for w in words)
    return found


def rule_features(scores: dict[str, float], chosen: list[str], decoy: float) -> dict[str, float]:
    found = {f"rule:{t}": math.log1p(s) for t, s in scores.items() if s > 0}
    found.update((f"chosen:{t}", 1.0) for t in chosen)
    if decoy > 0:
        found["decoy"] = math.log1p(decoy)
    return found


def evidence_features(
    evidence: dict, lead_words: int = 40, lead_fields: tuple[str, ...] = ("body",)
) -> dict[str, float]:
    """The phrase features of the rules' evidence (topic or decoy -> Evidence):
    which phrases fired, how many different ones, and whether one fired in the
    title or in the opening (the first `lead_words` words of a lead field)."""
    found: dict[str, float] = {}
    for topic, found_evidence in evidence.items():
        if not found_evidence.templates:
            continue
        found.update((f"p:{topic}:{t}", 1.0) for t in found_evidence.templates)
        found[f"n:{topic}"] = math.log1p(len(found_evidence.templates))
        for hit in found_evidence.kept:  # the first hits, in reading order
            if hit.field == "title":
                found[f"rt:{topic}"] = 1.0
            elif hit.field in lead_fields and hit.start < lead_words:
                found[f"rl:{topic}"] = 1.0
    return found


def _logistic(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@dataclass
class Model:
    """The weights of every topic, and the thresholds that turn them into topics."""

    topics: list[str]
    bias: dict[str, float]
    weights: dict[str, dict[str, float]]  # topic -> feature -> weight
    add: float = 0.8
    drop: float = 0.05
    most: int = 4  # never more topics than this on one item
    drops: dict[str, float] = field(default_factory=dict)  # a topic's own `drop`, where set
    vocabulary: str = ""  # fingerprint of the vocabulary it was trained with
    path: str = ""
    # For tagging: each word, title word and pair of words (by stem: no strings
    # built) and each rule feature -> the (topic, weight) of the topics that weigh it.
    _by_word: dict[str, list] = field(default_factory=dict)
    _by_title: dict[str, list] = field(default_factory=dict)
    _by_pair: dict[tuple[str, str], list] = field(default_factory=dict)
    _by_rule: dict[str, list] = field(default_factory=dict)
    _words: frozenset = field(default_factory=frozenset)
    _titles: frozenset = field(default_factory=frozenset)
    _pairs: frozenset = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # Topics by their place in self.topics; a rule feature weighs every topic
        # (a row of weights), a word only a few (a list of (place, weight)).
        for place, topic in enumerate(self.topics):
            for key, weight in self.weights.get(topic, {}).items():
                kind, _, name = key.partition(":")
                if kind == "w":
                    self._by_word.setdefault(name, []).append((place, weight))
                elif kind == "t":
                    self._by_title.setdefault(name, []).append((place, weight))
                elif kind == "b":
                    pair = tuple(name.split(" ", 1))
                    self._by_pair.setdefault(pair, []).append((place, weight))
                else:
                    row = self._by_rule.setdefault(key, [0.0] * len(self.topics))
                    row[place] = weight
        self._words = frozenset(self._by_word)
        self._titles = frozenset(self._by_title)
        self._pairs = frozenset(self._by_pair)

    def features(self, stems_by_field: dict[str, list[str]]) -> dict[str, float]:
        """The word features of a text that the model weighs (as word_features()
        gives them, restricted to those the model knows)."""
        words, titles, pairs = self._present(stems_by_field)
        found = {f"w:{w}": 1.0 for w in words}
        found.update((f"t:{w}", 1.0) for w in titles)
        found.update((f"b:{a} {b}", 1.0) for a, b in pairs)
        return found

    def _present(self, stems_by_field: dict[str, list[str]]) -> tuple[set, set, set]:
        words: set[str] = set()
        titles: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for name, stems in _openings(stems_by_field).items():
            present = self._words.intersection(stems)
            words |= present
            pairs |= self._pairs.intersection(zip(stems, islice(stems, 1, None), strict=False))
            if name == "title":
                titles |= self._titles.intersection(stems)
        return words, titles, pairs

    def probabilities(self, features: dict[str, float]) -> dict[str, float]:
        """Each topic's probability given features by name (as training sees them)."""
        return {
            t: _logistic(
                self.bias[t]
                + sum(w * features[k] for k, w in self.weights[t].items() if k in features)
            )
            for t in self.topics
        }

    def tag_probabilities(
        self, rules: dict[str, float], stems_by_field: dict[str, list[str]]
    ) -> dict[str, float]:
        """The same as probabilities(rules + word features), by look-ups of the
        words present: tagging a site must not cost much more than the rules."""
        words, titles, pairs = self._present(stems_by_field)
        margins = [self.bias[t] for t in self.topics]
        by_rule = self._by_rule
        for key, value in rules.items():
            row = by_rule.get(key)
            if row is not None:
                margins = [m + w * value for m, w in zip(margins, row, strict=True)]
        for found, weighed in (
            (words, self._by_word),
            (titles, self._by_title),
            (pairs, self._by_pair),
        ):
            for key in found:
                for place, weight in weighed[key]:
                    margins[place] += weight
        return dict(zip(self.topics, map(_logistic, margins), strict=True))

    def reasons(
        self, topic: str, features: dict[str, float], most: int = 5
    ) -> list[tuple[str, float]]:
        """The words and phrases that argued most for a topic: (feature, weight),
        heaviest first (a phrase of another topic can argue for this one:
        "counter offer" for negotiation)."""
        weights = self.weights.get(topic, {})
        pushed = [
            (k, weights[k] * v)
            for k, v in features.items()
            if k[:2] in ("w:", "t:", "b:", "p:") and weights.get(k, 0.0) > 0
        ]
        return sorted(pushed, key=lambda p: (-p[1], p[0]))[:most]

    def decide(
        self, chosen: list[str], probabilities: dict[str, float]
    ) -> tuple[list[str], list[str], list[str]]:
        """(final topics, topics added, topics dropped)."""
        kept = [t for t in chosen if probabilities.get(t, 1.0) >= self.drops.get(t, self.drop)]
        dropped = [t for t in chosen if t not in kept]
        room = max(0, self.most - len(kept))
        added = sorted(
            (t for t, p in probabilities.items() if p >= self.add and t not in chosen),
            key=lambda t: (-probabilities[t], t),
        )[:room]
        return kept + added, added, dropped

    def to_json(self) -> dict:
        return {
            "vocabulary": self.vocabulary,
            "add": self.add,
            "drop": self.drop,
            "most": self.most,
            "drops": dict(sorted(self.drops.items())),
            "topics": {
                t: {
                    "bias": round(self.bias[t], 4),
                    "weights": {k: round(w, 4) for k, w in sorted(self.weights[t].items())},
                }
                for t in self.topics
            },
        }


def from_json(data: dict, path: str = "") -> Model:
    try:
        topics = list(data["topics"])
        return Model(
            topics,
            bias={t: float(data["topics"][t]["bias"]) for t in topics},
            weights={
                t: {str(k): float(w) for k, w in data["topics"][t]["weights"].items()}
                for t in topics
            },
            add=float(data.get("add", 0.8)),
            drop=float(data.get("drop", 0.05)),
            most=int(data.get("most", 4)),
            drops={str(t): float(v) for t, v in data.get("drops", {}).items()},
            vocabulary=str(data.get("vocabulary", "")),
            path=path,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(
            f"{path}: not a topic model ({type(exc).__name__}: {exc}). "
            "Rebuild it with `make topics-train`."
        ) from exc


def load_model(path: str | Path) -> Model:
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a null byte in the name, not UTF-8
        raise ModelError(
            f"{path}: cannot read the topic model ({getattr(exc, 'strerror', None) or exc}). "
            "Train it with `make topics-train`, or remove the [model] table."
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"{path}: not valid JSON ({exc.msg}). Rebuild it with `make topics-train`."
        ) from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path}: not a topic model. Rebuild it with `make topics-train`.")
    return from_json(data, path)


def train(
    examples: list[tuple[dict[str, float], set[str]]],
    topics: list[str],
    l2: float = 16.0,
    epochs: int = 30,
    rate: float = 0.5,
    min_count: int = 2,
    keep: float = 0.05,
    positive: float = 1.0,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Logistic regression per topic (AdaGrad with an L2 penalty) on sparse features.

    A word feature seen in fewer than `min_count` texts is left out (a word one
    writer used once is no evidence), and weights under `keep` are not kept.
    A text about the topic counts `positive` times (each topic is on few texts:
    without it the model learns that "no" is nearly always right).
    Deterministic: the examples are read in the order given."""
    counts: dict[str, int] = {}
    for features, _ in examples:
        for k in features:
            counts[k] = counts.get(k, 0) + 1

    def kept(key: str) -> bool:
        return counts[key] >= min_count or key[:2] not in ("w:", "t:", "b:")

    usable = [({k: v for k, v in f.items() if kept(k)}, gold) for f, gold in examples]
    penalty = l2 / max(1, len(usable))
    biases, all_weights = {}, {}
    for topic in topics:
        weights: dict[str, float] = {}
        squares: dict[str, float] = {}
        bias, bias_sq = 0.0, 1e-8
        for _ in range(epochs):
            for features, gold in usable:
                margin = bias + sum(weights.get(k, 0.0) * v for k, v in features.items())
                about = topic in gold
                error = _logistic(margin) - (1.0 if about else 0.0)
                if about:
                    error *= positive
                bias_sq += error * error
                bias -= rate * error / math.sqrt(bias_sq)
                for k, v in features.items():
                    w = weights.get(k, 0.0)
                    g = error * v + penalty * w
                    squares[k] = squares.get(k, 1e-8) + g * g
                    weights[k] = w - rate * g / math.sqrt(squares[k])
        biases[topic] = bias
        all_weights[topic] = {k: w for k, w in weights.items() if abs(w) >= keep}
    return biases, all_weights
