"""Rank related items by weighted overlap of their terms (topics, tags).

Pure functions. Items are indexed by term; for each item only the items that
share a term with it are ever looked at, and for a term shared by very many
items only the `window` nearest in time on each side. The cost is therefore
at most items x terms x 2·window, near linear in the number of items, instead
of comparing all pairs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass


@dataclass
class Stats:
    """How much work ranking did (candidate scores added up)."""

    items: int = 0
    accumulations: int = 0


def rank_related(
    terms: Sequence[dict[Hashable, float]],
    dates: Sequence[float],
    limit: int = 5,
    window: int = 50,
    stats: Stats | None = None,
    map_items: Callable[[Callable[[int], list[int]], Iterable[int]], list] | None = None,
) -> list[list[int]]:
    """For item i (terms[i]: term -> weight, dates[i]: a timestamp), up to
    `limit` other items sharing the most term weight; newer first on ties.

    `map_items(rank, indexes)` may rank the items elsewhere (in worker
    processes, say) and must return [rank(i) for i in indexes]; `stats` is
    only counted when ranking happens here (no `map_items`).
    """
    postings: dict[Hashable, list[int]] = defaultdict(list)
    for i in sorted(range(len(terms)), key=lambda i: (dates[i], i)):
        for term in terms[i]:
            postings[term].append(i)
    keys = {term: [(dates[j], j) for j in items] for term, items in postings.items()}

    def rank(i: int) -> list[int]:
        own = terms[i]
        scores: dict[int, float] = defaultdict(float)
        added = 0
        for term, weight in own.items():
            posting = postings[term]
            if len(posting) <= 2 * window + 1:
                nearby = posting
            else:
                at = bisect_left(keys[term], (dates[i], i))
                nearby = posting[max(0, at - window) : at + window + 1]
            for j in nearby:
                if j != i:
                    scores[j] += weight
                    added += 1
        if stats is not None:
            stats.items += 1
            stats.accumulations += added  # the additions made, counted as they were made
        return sorted(scores, key=lambda j: (-scores[j], -dates[j], j))[:limit]

    if map_items is None or stats is not None:
        return [rank(i) for i in range(len(terms))]
    return list(map_items(rank, range(len(terms))))
