"""Load and check the topic vocabulary (a TOML file under content/)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .model import (
    Model,
    ModelError,
    evidence_features,
    fingerprint,
    load_model,
    rule_features,
)
from .tagger import Evidence, Index, Scoring, TemplateError, choose, compile_template, score

TAGGER_DEFAULTS = {
    "threshold": 2.0,  # score a topic needs, unless the topic sets its own
    "relative": 0.25,  # ...and at least this share of the best topic's score
    "confident": 1000.0,  # ...unless it scores this many times its threshold
    "repeat_weight": 0.25,  # what each repeat of a phrase in one field adds
    "lead_words": 40,  # the opening of the body: its first this many words...
    "lead_weight": 1.5,  # ...count this many times
    "length_words": 250,  # past this many words a field's hits are scaled down
    "min_distinct": 2,  # a topic needs this many different phrases...
    "strong": 3.0,  # ...or one phrase of at least this weight
}
DECOY = "(decoy)"  # the pseudo-topic of the [decoy] cues
DECOY_KEYS = {"phrases", "threshold", "factor"}
MODEL_KEYS = {"file"}
FIELD_DEFAULTS = {"title": 3.0, "summary": 2.0, "body": 1.0, "replies": 0.5}
CAP_DEFAULTS = {"replies": 2.0}
TOPIC_KEYS = {"slug", "name", "description", "phrases", "against", "threshold"}


class VocabularyError(ValueError):
    """A mistake in the vocabulary file; the message names file, line and fix."""


@dataclass(frozen=True)
class TopicDef:
    slug: str
    name: str
    description: str
    threshold: float


@dataclass
class Vocabulary:
    path: str
    topics: dict[str, TopicDef]
    index: Index
    threshold: dict[str, float]
    relative: float
    confident: float
    repeat_weight: float
    field_weights: dict[str, float]
    caps: dict[str, float]
    scoring: Scoring = field(default_factory=Scoring)
    decoy_threshold: float = 0.0  # 0: no [decoy] table
    decoy_factor: float = 1.0
    model: Model | None = None  # the learned layer, where the [model] table names one
    model_stale: bool = False  # the model was trained with another version of this file
    _names: dict[str, str] = field(default_factory=dict)

    def lookup(self, name: str) -> str | None:
        """Slug of a topic given by slug or display name, any case."""
        return self._names.get(name.strip().casefold())

    def tag(self, texts: dict[str, str]) -> tuple[list[str], dict[str, Evidence]]:
        """Topics for texts by field name ("title", "summary", "body", "replies")."""
        fields = [(name, text, self.field_weights[name]) for name, text in texts.items() if text]
        read: dict[str, tuple[list[str], list[str]]] | None = {} if self.model else None
        evidence = score(fields, self.index, self.scoring, read)
        thresholds = self.threshold
        decoy = evidence.pop(DECOY, None)
        if decoy is not None and self.decoy_threshold and decoy.score >= self.decoy_threshold:
            # A job ad, a staff bio, programme news: its trap words are not its subject.
            thresholds = {t: v * self.decoy_factor for t, v in thresholds.items()}
        chosen = choose(evidence, thresholds, self.relative, self.confident)
        if self.model is not None and read is not None:
            chosen = self._second_opinion(chosen, evidence, decoy, read)
        if decoy is not None:
            evidence[DECOY] = decoy
        return chosen, evidence

    def phrase_features(self, evidence: dict[str, Evidence], decoy: Evidence | None) -> dict:
        """The model's features of the phrases that fired (model.evidence_features)."""
        found = dict(evidence)
        if decoy is not None:
            found[DECOY] = decoy
        scoring = self.scoring
        return evidence_features(found, scoring.lead_words, scoring.lead_fields)

    def _second_opinion(
        self,
        chosen: list[str],
        evidence: dict[str, Evidence],
        decoy: Evidence | None,
        read: dict[str, tuple[list[str], list[str]]],
    ) -> list[str]:
        """The learned layer: drop a chosen topic it finds very unlikely, add one
        it finds likely, and give an added topic the words that weighed most."""
        model = self.model
        rules = rule_features(
            {t: e.score for t, e in evidence.items()}, chosen, decoy.score if decoy else 0.0
        )
        rules.update(self.phrase_features(evidence, decoy))
        stems = {name: stems for name, (_, stems) in read.items()}
        probabilities = model.tag_probabilities(rules, stems)
        final, added, _dropped = model.decide(chosen, probabilities)
        for topic in chosen:
            evidence[topic].probability = probabilities.get(topic)
        if added:
            features = model.features(stems)
            features.update((k, v) for k, v in rules.items() if k.startswith("p:"))
        for topic in added:
            found = evidence.setdefault(topic, Evidence())
            found.probability = probabilities[topic]
            found.words = [
                (_written(key, read, evidence), weight)
                for key, weight in model.reasons(topic, features)
            ]
        return final


def _written(
    key: str, read: dict[str, tuple[list[str], list[str]]], evidence: dict | None = None
) -> str:
    """A model feature as the text wrote it: "b:leverag point" -> "leverage point";
    a phrase of another topic ("p:offers:counter offer") as its first hit."""
    kind, _, rest = key.partition(":")
    if kind == "p":
        topic, _, template = rest.partition(":")
        found = (evidence or {}).get(topic)
        hits = found.kept if found is not None else []
        return next((h.text for h in hits if h.phrase.template == template), template)
    wanted = rest.split(" ")
    fields = [read["title"]] if kind == "t" and "title" in read else list(read.values())
    for words, stems in fields:
        for i in range(len(stems) - len(wanted) + 1):
            if stems[i : i + len(wanted)] == wanted:
                return " ".join(words[i : i + len(wanted)])
    return rest


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _fail(path: str, text: str, needle: str, message: str) -> VocabularyError:
    line = _line_of(text, needle)
    return VocabularyError(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def load(path: str | Path, with_model: bool = True) -> Vocabulary:
    """The vocabulary at path, compiled; with its [model] unless `with_model` is
    false (the rules alone, as the model is trained on)."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise VocabularyError(
            f"{path}: cannot read the topic vocabulary ({exc.strerror}). "
            "Create it, or set TOPICS_VOCABULARY to its path."
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{path}: not valid TOML: {exc}. Fix the line it names.") from exc

    tagger = {**TAGGER_DEFAULTS, **data.get("tagger", {})}
    fields = {**FIELD_DEFAULTS, **tagger.pop("fields", {})}
    caps = {**CAP_DEFAULTS, **tagger.pop("caps", {})}
    unknown = set(tagger) - set(TAGGER_DEFAULTS)
    if unknown:
        key = sorted(unknown)[0]
        raise _fail(
            path,
            text,
            key,
            f"unknown [tagger] key {key!r}; known: {', '.join(TAGGER_DEFAULTS)}, fields, caps",
        )
    for key, value in [*tagger.items(), *fields.items(), *caps.items()]:
        if not isinstance(value, int | float) or value < 0:
            raise _fail(path, text, key, f"[tagger] {key} = {value!r}: use a number >= 0")

    entries = data.get("topics")
    if not isinstance(entries, list) or not entries:
        raise VocabularyError(
            f"{path}: no topics. Add [[topics]] tables with slug, name, description and phrases."
        )
    topics: dict[str, TopicDef] = {}
    names: dict[str, str] = {}
    index = Index()
    for number, entry in enumerate(entries, 1):
        slug = entry.get("slug")
        where = f"topic {slug!r}" if slug else f"topic number {number}"
        needle = f'"{slug}"' if slug else "[[topics]]"
        for key in sorted(set(entry) - TOPIC_KEYS):
            raise _fail(
                path,
                text,
                key,
                f"{where}: unknown key {key!r}; known: {', '.join(sorted(TOPIC_KEYS))}",
            )
        for key in ("slug", "name", "description"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise _fail(path, text, needle, f'{where} needs {key} = "..."')
        if slug in topics:
            raise _fail(path, text, needle, f"{where} is defined twice: keep one")
        phrases = entry.get("phrases")
        if not isinstance(phrases, list) or not phrases:
            raise _fail(path, text, needle, f'{where} needs phrases = ["...", ...]')
        for template, against in [(p, False) for p in phrases] + [
            (p, True) for p in entry.get("against", [])
        ]:
            try:
                index.add(compile_template(str(template), slug, against))
            except TemplateError as exc:
                raise _fail(
                    path, text, f'"{template}"', f"{where}: phrase {template!r}: {exc}"
                ) from exc
        threshold = float(entry.get("threshold", tagger["threshold"]))
        topics[slug] = TopicDef(
            slug, entry["name"].strip(), entry["description"].strip(), threshold
        )
        names[slug.casefold()] = slug
        names[entry["name"].strip().casefold()] = slug
    decoy = data.get("decoy", {})
    for key in sorted(set(decoy) - DECOY_KEYS):
        raise _fail(
            path, text, key, f"[decoy]: unknown key {key!r}; known: {', '.join(sorted(DECOY_KEYS))}"
        )
    for template in decoy.get("phrases", []):
        try:
            index.add(compile_template(str(template), DECOY))
        except TemplateError as exc:
            raise _fail(
                path, text, f'"{template}"', f"[decoy]: phrase {template!r}: {exc}"
            ) from exc
    decoy_numbers = {"threshold": 0.0, "factor": 1.0}
    for key in decoy_numbers:
        value = decoy.get(key, decoy_numbers[key])
        if not isinstance(value, int | float) or value < 0:
            raise _fail(path, text, key, f"[decoy] {key} = {value!r}: use a number >= 0")
        decoy_numbers[key] = float(value)
    model, stale = _load_model(path, text, data.get("model") if with_model else None, set(topics))
    scoring = Scoring(
        repeat_weight=float(tagger["repeat_weight"]),
        caps=caps,
        lead_words=int(tagger["lead_words"]),
        lead_weight=float(tagger["lead_weight"]),
        length_words=max(1, int(tagger["length_words"])),
        min_distinct=int(tagger["min_distinct"]),
        strong=float(tagger["strong"]),
    )
    return Vocabulary(
        path=path,
        topics=topics,
        index=index,
        threshold={s: t.threshold for s, t in topics.items()},
        relative=float(tagger["relative"]),
        confident=float(tagger["confident"]),
        repeat_weight=float(tagger["repeat_weight"]),
        field_weights=fields,
        caps=caps,
        scoring=scoring,
        decoy_threshold=decoy_numbers["threshold"] if decoy.get("phrases") else 0.0,
        decoy_factor=decoy_numbers["factor"],
        model=model,
        model_stale=stale,
        _names=names,
    )


def _load_model(path: str, text: str, table, topics: set[str]) -> tuple[Model | None, bool]:
    """The learned layer the [model] table names (its file relative to the
    vocabulary's folder), and whether it was trained with another version of
    the vocabulary. No [model] table: no model, the rules alone."""
    if table is None:
        return None, False
    if not isinstance(table, dict) or not isinstance(table.get("file"), str):
        raise _fail(path, text, "[model]", '[model] needs file = "topics-model.json"')
    for key in sorted(set(table) - MODEL_KEYS):
        raise _fail(path, text, key, f"[model]: unknown key {key!r}; known: file")
    try:
        model = load_model(Path(path).parent / table["file"])
    except ModelError as exc:
        raise _fail(path, text, "[model]", str(exc)) from exc
    unknown = sorted(set(model.topics) - topics)
    if unknown:
        raise _fail(
            path,
            text,
            "[model]",
            f"the model {model.path} knows topics this file does not ({', '.join(unknown)}): "
            "retrain it with `make topics-train`",
        )
    return model, model.vocabulary != fingerprint(_without_model_table(text))


def _without_model_table(text: str) -> str:
    """The vocabulary as the model sees it: everything but the [model] table."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line.strip().startswith("["):
            skipping = line.strip() == "[model]"
        if not skipping:
            kept.append(line)
    return "\n".join(kept)
