"""Tag a text with topics from a controlled vocabulary, and say why.

Pure functions, no Pelican. A vocabulary is compiled once per build into an
index from each phrase's first word to the phrase variants starting with it,
so tagging reads every token once and tries only the few phrases that can
start there: time linear in the text, whatever the vocabulary.

Phrase templates (the vocabulary's `phrases` and `against` lists) are not
regular expressions. A template is words separated by spaces:

* every word is matched by its stem, so `interview` also matches interviews,
  interviewed and interviewing, and case, accents and punctuation never matter;
* `a|b|c` matches any one of the alternatives;
* `(word)` or `(a|b)` is optional;
* `...` skips up to three words (`offer ... position`);
* `#money` matches an amount of money ("$52,000", "52k");
* a trailing ` ^N` sets the phrase's weight (default: 1 for one word, 2 for
  more: phrases count for more than single words).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from itertools import compress, count, pairwise
from operator import itemgetter
from typing import NamedTuple

import snowballstemmer

GAP_WORDS = 3
EVIDENCE_KEPT = 20
# Words too common to look phrases up by: a phrase starting with one ("the
# offer", "my staff") is looked up by a later word of it instead (see Index).
COMMON_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "a an the and or but so of to in on at for with by from as into about than then "
    "i im ive me my we were us our you your youre he him his she her it its they them their "
    "this that these those there here who what when where why how which "
    "is are was be been being am do does did have has had will would can could should may "
    "not no yes if just very all any some one two more most up out over off back"
).split()
MONEY = "#money"
_STEMMER = snowballstemmer.stemmer("english")
_MONEY_RE = re.compile(r"\$\s?\d[\d,]*(?:\.\d+)?\s?k?\b|\b\d+(?:\.\d+)?k\b", re.IGNORECASE)
_TOKEN_RE = re.compile(r"#money|[a-z0-9]+(?:['’][a-z]+)?")
# Every match of _MONEY_RE without a "$" has a digit followed by "k".
_DIGIT_K_RE = re.compile(r"\dk", re.IGNORECASE)


class _Stems(dict):
    """word -> stem. The same few thousand words make up nearly all text: each
    is stemmed once, and looked up with a plain dictionary read (in C) after."""

    LIMIT = 1 << 17  # emptied when a text of made-up words fills it

    def __missing__(self, word: str) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        found = self[word] = word if word == MONEY else _STEMMER.stemWord(word)
        return found


# stem(word): a bound dictionary read, so `map(stem, words)` runs in C.
stem = _Stems().__getitem__
COMMON_STEMS = frozenset(map(stem, COMMON_WORDS))


def fold(text: str) -> str:
    """Lower case, accents off (résumé -> resume), money amounts marked."""
    if text.isascii():  # nearly all text: nothing to take off
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    if "$" not in plain and not _DIGIT_K_RE.search(plain):
        return plain  # no amount of money in it: most text
    return _MONEY_RE.sub(f" {MONEY} ", plain)


# For `words_of`'s split: every ASCII character but a-z, 0-9 and the apostrophe
# is a space, and so are the typographic marks text is full of (the curly
# apostrophe is an apostrophe): what `_TOKEN_RE` takes as the space between words.
_SPACES = {c: " " for c in range(128) if not re.fullmatch(r"[a-z0-9']", chr(c))}
_SPACES.update(dict.fromkeys(map(ord, "\u2018\u201c\u201d\u2013\u2014\u2022\u00ab\u00bb"), " "))
_SPACES[ord("\u2019")] = "'"


def _joined(chunk: str) -> list[str]:
    return [w.replace("'", "") for w in _TOKEN_RE.findall(chunk)]


def words_of(text: str) -> list[str]:
    """Every word, folded; apostrophes join ("didn't" -> "didnt")."""
    folded = fold(text)
    if "#" not in folded:
        # The words are what is left between spaces once every character that
        # is not in one is a space (in C; a third of the regular expression's
        # time); where an apostrophe is, the expression splits that piece.
        spaced = folded.translate(_SPACES)
        if spaced.isascii():  # nothing `_SPACES` does not name
            words = spaced.split()
            if "'" not in spaced:
                return words
            return [w for chunk in words for w in (_joined(chunk) if "'" in chunk else (chunk,))]
    words = _TOKEN_RE.findall(folded)
    if "'" not in folded and "’" not in folded:
        return words
    return [w.replace("'", "").replace("’", "") if "'" in w or "’" in w else w for w in words]


def tokens(text: str) -> list[tuple[str, str]]:
    """(stem, word as written) for every word."""
    return [(stem(w), w) for w in words_of(text)]


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Gap:
    most: int = GAP_WORDS


Element = frozenset | Gap  # a set of stems for one word, or a gap


@dataclass(frozen=True)
class Phrase:
    template: str
    topic: str
    weight: float | None  # None: by the length of the variant that matched
    against: bool
    variants: tuple[tuple[Element, ...], ...]

    def weight_of(self, variant: tuple[Element, ...]) -> float:
        return self.weight if self.weight is not None else _length_weight(variant)


@cache
def _length_weight(variant: tuple[Element, ...]) -> float:
    """1 for a one-word variant, 2 for a longer phrase (computed once per variant)."""
    return 1.0 if sum(1 for e in variant if not isinstance(e, Gap)) == 1 else 2.0


def compile_template(template: str, topic: str, against: bool = False) -> Phrase:
    """Turn a template into its variants (one per choice of optional words)."""
    text, weight = template.strip(), None
    if " ^" in text:
        text, _, number = text.rpartition(" ^")
        try:
            weight = float(number)
        except ValueError as exc:
            raise TemplateError(f"weight {number!r} is not a number") from exc
    parts = text.split()
    if not parts:
        raise TemplateError("the phrase is empty")
    slots: list[tuple[Element, bool]] = []
    for part in parts:
        if part == "...":
            slots.append((Gap(), False))
            continue
        optional = part.startswith("(") and part.endswith(")")
        inner = part[1:-1] if optional else part
        words = [w for w in inner.split("|") if w]
        stems = set()
        for word in words:
            found = [s for s, _ in tokens(word)]
            if len(found) != 1:
                raise TemplateError(f"{word!r} is not one word (use spaces between words)")
            stems.add(found[0])
        if not stems:
            raise TemplateError(f"{part!r} has no word in it")
        slots.append((frozenset(stems), optional))

    variants: list[tuple[Element, ...]] = [()]
    for element, optional in slots:
        variants = [(*v, element) for v in variants] + (variants if optional else [])
    cleaned = set()
    for variant in variants:
        trimmed = list(variant)
        while trimmed and isinstance(trimmed[0], Gap):
            trimmed.pop(0)
        while trimmed and isinstance(trimmed[-1], Gap):
            trimmed.pop()
        if trimmed:
            cleaned.add(tuple(trimmed))
    required = sum(
        1 for element, optional in slots if not optional and not isinstance(element, Gap)
    )
    if required == 0 or not cleaned:
        raise TemplateError("every word in the phrase is optional")
    if len(parts) > 1 and required < 2:
        raise TemplateError(
            "only one of its words is required, so it also matches that word alone: "
            "make another word required, or list the single word as its own phrase"
        )
    return Phrase(template, topic, weight, against, tuple(sorted(cleaned, key=repr)))


# (phrase, variant, weight, the anchor's place in it, what must follow a gap right after it)
Candidate = tuple["Phrase", tuple[Element, ...], float, int, frozenset | None]


@dataclass
class Index:
    """Stem -> the phrase variants to try where it occurs, read once per word.

    One-word variants (most of a vocabulary) are looked up by their word: the
    lookup is the whole match. A longer variant is looked up by its anchor: the
    first word of its fixed opening (before any `...`) that is not a common
    word, so "the offer" and "my staff" are tried where "offer" and "staff"
    occur, not at every "the" and "my". Under its anchor it is filed by the
    word that must follow the anchor (or, failing that, precede it), so one
    more dictionary read rules out nearly every phrase that cannot match.
    """

    phrases: list[Phrase] = field(default_factory=list)  # every phrase added, in order
    single: dict[str, list[tuple[Phrase, float]]] = field(default_factory=dict)
    # anchor stem -> (by the next stem, by the previous stem, the rest)
    anchored: dict[
        str, tuple[dict[str, list[Candidate]], dict[str, list[Candidate]], list[Candidate]]
    ] = field(default_factory=dict)
    # Where `find_in` tries longer variants, without a step per word: the
    # anchors of gapped ones (wherever they occur), and the (anchor, next) and
    # (previous, anchor) pairs the others are filed under (at both words of
    # the pair, only where it occurs).
    gapped: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    # Words with one-word variants of more than one topic or kind: hits at
    # one place, in the order `_outermost` gives them.
    shared: set[str] = field(default_factory=set)

    def add(self, phrase: Phrase) -> None:
        self.phrases.append(phrase)
        for variant in phrase.variants:
            weight = phrase.weight_of(variant)
            if len(variant) == 1:
                for word in variant[0]:
                    self._add_single(word, phrase, weight)
                continue
            opening = 0  # the elements before the first gap
            while opening < len(variant) and not isinstance(variant[opening], Gap):
                opening += 1
            anchor = next((k for k in range(opening) if variant[k].isdisjoint(COMMON_STEMS)), 0)
            after = None
            if anchor + 1 == opening < len(variant) - 1:  # a gap right after the anchor
                following = variant[opening + 1]
                after = following if not isinstance(following, Gap) else None
            entry = (phrase, variant, weight, anchor, after)
            for word in variant[anchor]:
                nexts, prevs, rest = self.anchored.setdefault(word, ({}, {}, []))
                if anchor + 1 < opening:
                    for following in variant[anchor + 1]:
                        nexts.setdefault(following, []).append(entry)
                        self.pairs.add((word, following))
                elif anchor > 0:
                    for before in variant[anchor - 1]:
                        prevs.setdefault(before, []).append(entry)
                        self.pairs.add((before, word))
                else:
                    rest.append(entry)
                    self.gapped.add(word)

    def _add_single(self, word: str, phrase: Phrase, weight: float) -> None:
        """A one-word variant, unless the word has one of the same topic and
        kind at least as heavy: where the word occurs, `_outermost` would keep
        only that one (the heavier of two at one place; the first if equal)."""
        found = self.single.setdefault(word, [])
        for n, (other, other_weight) in enumerate(found):
            if (other.topic, other.against) == (phrase.topic, phrase.against):
                if weight > other_weight:
                    found[n] = (phrase, weight)
                return
        found.append((phrase, weight))
        if len(found) > 1:
            self.shared.add(word)


def _match_at(
    stems: list[str], start: int, variant: tuple[Element, ...], done: int = 0
) -> int | None:
    """End (exclusive) of the shortest match of variant at start, or None.

    `done`: how many of its first elements are known to match already."""
    # Small explicit search: gaps give at most (GAP_WORDS + 1) choices each.
    stack = [(start + done, done)]
    while stack:
        position, element_index = stack.pop()
        if element_index == len(variant):
            return position
        element = variant[element_index]
        if isinstance(element, Gap):
            for skip in range(element.most, -1, -1):
                if position + skip <= len(stems):
                    stack.append((position + skip, element_index + 1))
            continue
        if position < len(stems) and stems[position] in element:
            stack.append((position + 1, element_index + 1))
    return None


class Hit(NamedTuple):
    """One phrase found in one field (a tuple: long texts make many of them)."""

    phrase: Phrase
    field: str
    start: int
    end: int
    text: str
    weight: float


def find(index: Index, field_name: str, text: str) -> list[Hit]:
    """Every phrase occurrence in one field; `against` hits cancel what they overlap."""
    return find_counted(index, field_name, text)[0]


def find_counted(index: Index, field_name: str, text: str) -> tuple[list[Hit], int]:
    """`find`, and the number of words in the field (for density and the opening)."""
    words = words_of(text)
    stems = list(map(stem, words))
    return find_in(index, field_name, words, stems), len(stems)


def find_in(index: Index, field_name: str, words: list[str], stems: list[str]) -> list[Hit]:
    """`find` over a field already split into words and their stems."""
    single, anchored = index.single, index.anchored
    # One-word variants, nearly every hit: one wherever their word is, the
    # places found in C and the hits made in one comprehension (by
    # `tuple.__new__`: a NamedTuple's own constructor is a Python function).
    hits = [
        _new_hit(Hit, (phrase, field_name, place, place + 1, words[place], weight))
        for place in compress(count(), map(single.__contains__, stems))
        for phrase, weight in single[stems[place]]
    ]
    # Longer variants are tried only where one can match: at a gapped one's
    # anchor, or at a pair one is filed under (each test in C). At any other
    # word the loop below would find nothing.
    places = set(compress(count(), map(index.gapped.__contains__, stems)))
    for first in compress(count(), map(index.pairs.__contains__, pairwise(stems))):
        places.update((first, first + 1))  # the anchor is one of the two
    longer: list[Hit] = []
    last = len(stems) - 1
    for position in sorted(places):
        entry = anchored.get(stems[position])
        if entry is None:
            continue
        nexts, prevs, rest = entry
        if rest:  # gapped phrases: try only those whose next words are within reach
            reach = set(stems[position + 1 : position + 2 + GAP_WORDS])
            rest = [c for c in rest if c[4] is None or not c[4].isdisjoint(reach)]
        for group in (
            rest,
            nexts.get(stems[position + 1], ()) if nexts and position < last else (),
            prevs.get(stems[position - 1], ()) if prevs and position else (),
        ):
            for phrase, variant, weight, anchor, _after in group:
                begin = position - anchor
                if begin < 0:
                    continue
                if anchor and any(stems[begin + k] not in variant[k] for k in range(anchor)):
                    continue  # the words before the anchor are not there
                # A two-word variant's other word was checked by the lookup: found.
                end = (
                    begin + 2 if len(variant) == 2 else _match_at(stems, begin, variant, anchor + 1)
                )
                if end is not None:
                    shown = " ".join(words[begin:end])
                    longer.append((position, Hit(phrase, field_name, begin, end, shown, weight)))
    if longer or not index.shared.isdisjoint(stems):
        hits = _outermost(_as_tried(hits, longer))
    # Else every hit is one word and no two share a place (`Index._add_single`
    # files one variant per topic and kind on a word): none is inside another,
    # and they are in order of place already.
    return _cancel(hits)


def _as_tried(single: list[Hit], longer: list[tuple[int, Hit]]) -> list[Hit]:
    """The hits in the order the words were tried: at each word its one-word
    hits, then the longer ones tried there (`longer`: (that word, hit), in
    order). `_outermost` orders hits at one place by it."""
    tried: list[Hit] = []
    done = 0
    for position, hit in longer:
        upto = bisect_right(single, position, lo=done, key=_START)
        tried += single[done:upto]
        tried.append(hit)
        done = upto
    tried += single[done:]
    return tried


_new_hit = tuple.__new__


def _outermost(hits: list[Hit]) -> list[Hit]:
    """Per topic, drop hits inside a longer (or equal, heavier) one of the same kind.

    The words of one place count once per topic: "pay scale" is one phrase, not
    "pay" as well, and manager/managing/management (one stem) are one word.
    """
    kept: list[Hit] = []
    groups: dict[tuple[str, bool], list[Hit]] = defaultdict(list)
    for hit in hits:
        groups[(hit.phrase.topic, hit.phrase.against)].append(hit)
    for group in groups.values():
        group.sort(key=lambda h: (h.start, -h.end, -h.weight))
        reach = -1
        for hit in group:
            if hit.end > reach:
                kept.append(hit)
                reach = hit.end
    return sorted(kept, key=_PLACE)


_START = itemgetter(2)  # a hit's start
_PLACE = itemgetter(2, 3)  # a hit's (start, end)


def _cancel(hits: list[Hit]) -> list[Hit]:
    """A topic's hit that overlaps one of its `against` cues does not count.

    Each topic's cancelling spans are sorted by start, with the furthest end
    reached so far: a hit [a, b) overlaps one iff some span starting before b
    ends after a, one binary search per hit (a long reply has thousands of
    hits and spans; comparing every pair took minutes on a 1 MB reply)."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hit in hits:
        if hit.phrase.against:
            spans[hit.phrase.topic].append((hit.start, hit.end))
    reach: dict[str, tuple[list[int], list[int]]] = {}
    for topic, found in spans.items():
        found.sort()
        starts, furthest, end = [], [], -1
        for start, stop in found:
            end = max(end, stop)
            starts.append(start)
            furthest.append(end)
        reach[topic] = (starts, furthest)
    if not reach:
        return hits

    def overlaps(hit: Hit) -> bool:
        topic = reach.get(hit.phrase.topic)
        if topic is None:
            return False
        starts, furthest = topic
        before = bisect_left(starts, hit.end)  # spans starting before the hit ends
        return before > 0 and furthest[before - 1] > hit.start

    return [h for h in hits if h.phrase.against or not overlaps(h)]


@dataclass
class Scoring:
    """How hits add up to a topic's score (the [tagger] table of the vocabulary).

    * Within a field, a phrase counts fully once and each repeat adds
      `repeat_weight` of it, so one word said twenty times does not drown the rest.
    * `caps` bound what one field (e.g. replies) adds to a topic.
    * Aboutness: the first `lead_words` words of a long field (the opening, where
      a writer says what the text is about) count `lead_weight` times; past
      `length_words` words a field's hits are scaled by sqrt(length_words / n),
      so a passing mention in a long text weighs less than in a short one.
    * A topic needs `min_distinct` different phrases, or one hit adding at least
      `strong` on its own (a heavy phrase, or one in the title or opening): one
      word said in passing is a mention, not a subject.
    """

    repeat_weight: float = 0.25
    caps: dict[str, float] = field(default_factory=dict)
    lead_words: int = 40
    lead_weight: float = 1.5
    length_words: int = 250
    lead_fields: tuple[str, ...] = ("body",)
    min_distinct: int = 2
    strong: float = 3.0


@dataclass
class Evidence:
    """Why a topic scored: its first EVIDENCE_KEPT hits (and against cues), and counts.

    A long post can hit one phrase hundreds of times; a reader of the evidence
    needs the first few and the total, and a build need not keep them all. The
    hits are kept as found and turned into dictionaries only when read.
    """

    score: float = 0.0
    hit_count: int = 0
    templates: set[str] = field(default_factory=set)  # the distinct phrases that fired
    strongest: float = 0.0  # the most one hit added (its weight in its field and place)
    strong: bool = True  # enough distinct cues, or one strong one
    kept: list[Hit] = field(default_factory=list)
    kept_against: list[Hit] = field(default_factory=list)
    # The learned layer (model.py), where there is one: its probability for the
    # topic, and the words that weighed most for it, as (word as written, weight).
    probability: float | None = None
    words: list[tuple[str, float]] = field(default_factory=list)

    @staticmethod
    def _shown(hits: list[Hit]) -> list[dict]:
        return [{"phrase": h.phrase.template, "field": h.field, "text": h.text} for h in hits]

    @property
    def hits(self) -> list[dict]:
        """The phrases that fired, then the words the model weighed most."""
        return self._shown(self.kept) + [
            {"phrase": f"(model) {w} {weight:+.2f}", "field": "model", "text": w}
            for w, weight in self.words
        ]

    @property
    def against(self) -> list[dict]:
        return self._shown(self.kept_against)

    def add(self, hit: Hit) -> None:
        if hit.phrase.against:
            if len(self.kept_against) < EVIDENCE_KEPT:
                self.kept_against.append(hit)
            return
        self.hit_count += 1
        if len(self.kept) < EVIDENCE_KEPT:
            self.kept.append(hit)


def score(
    fields: list[tuple[str, str, float]],
    index: Index,
    scoring: Scoring | None = None,
    read: dict[str, tuple[list[str], list[str]]] | None = None,
) -> dict[str, Evidence]:
    """Score every topic over (field name, text, field weight) triples (see Scoring).

    `read`, if given, gets each field's words and their stems (for the model)."""
    scoring = scoring or Scoring()
    results: dict[str, Evidence] = defaultdict(Evidence)
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for field_name, text, weight in fields:
        words = words_of(text)
        stems = list(map(stem, words))
        if read is not None:
            read[field_name] = (words, stems)
        found_hits, length = find_in(index, field_name, words, stems), len(stems)
        if length > scoring.length_words:
            weight *= (scoring.length_words / length) ** 0.5
        lead = scoring.lead_words if field_name in scoring.lead_fields else 0
        lead_value = weight * scoring.lead_weight
        for hit in found_hits:
            phrase = hit.phrase
            results[phrase.topic].add(hit)
            if not phrase.against:
                values[(phrase.topic, field_name, phrase.template)].append(
                    hit.weight * (lead_value if hit.start < lead else weight)
                )
    per_field: dict[tuple[str, str], float] = defaultdict(float)
    for (topic, field_name, template), found in values.items():
        top = max(found)
        per_field[(topic, field_name)] += top + scoring.repeat_weight * (sum(found) - top)
        evidence = results[topic]
        evidence.templates.add(template)
        evidence.strongest = max(evidence.strongest, top)
    for (topic, field_name), total in per_field.items():
        cap = scoring.caps.get(field_name)
        results[topic].score += total if cap is None else min(total, cap)
    for evidence in results.values():
        evidence.strong = (
            len(evidence.templates) >= scoring.min_distinct or evidence.strongest >= scoring.strong
        )
    return dict(results)


def choose(
    evidence: dict[str, Evidence],
    thresholds: dict[str, float],
    relative: float,
    confident: float = float("inf"),
) -> list[str]:
    """Topics over their threshold, with enough distinct cues, and either near the
    best one's score (a passing mention beside the subject is not a topic) or
    sure on their own (at least `confident` times their threshold)."""
    passing = {t: e.score for t, e in evidence.items() if e.score >= thresholds[t] and e.strong}
    if not passing:
        return []
    top = max(passing.values())
    chosen = [
        t for t, s in passing.items() if s >= top * relative or s >= thresholds[t] * confident
    ]
    return sorted(chosen, key=lambda t: (-passing[t], t))
