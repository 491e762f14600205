"""Precision, recall and F1 of the tagger on labelled items (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(
    pairs: list[tuple[set[str], set[str]]], topics: list[str]
) -> tuple[dict[str, Counts], Counts]:
    """(gold labels, predicted topics) per item -> counts per topic and micro total."""
    per_topic = {t: Counts() for t in topics}
    for gold, predicted in pairs:
        for topic in topics:
            counts = per_topic[topic]
            if topic in predicted and topic in gold:
                counts.tp += 1
            elif topic in predicted:
                counts.fp += 1
            elif topic in gold:
                counts.fn += 1
    micro = Counts(
        tp=sum(c.tp for c in per_topic.values()),
        fp=sum(c.fp for c in per_topic.values()),
        fn=sum(c.fn for c in per_topic.values()),
    )
    return per_topic, micro
