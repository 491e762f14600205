"""Related-item ranking as a plain function: weights, ties, and the work it does."""

from __future__ import annotations

import random

from pelican.plugins.indexes.related import Stats, rank_related


def test_shared_topics_weigh_more_than_shared_tags_and_newer_wins_ties():
    terms = [
        {"topic:salary": 2, "tag:pay": 1},  # 0: the item we ask about
        {"tag:pay": 1},  # 1: one shared tag
        {"topic:salary": 2},  # 2: one shared topic
        {"topic:salary": 2, "tag:pay": 1},  # 3: both, older
        {"topic:salary": 2, "tag:pay": 1},  # 4: both, newer
        {"topic:other": 2},  # 5: nothing shared
    ]
    dates = [50, 10, 20, 30, 40, 60]
    assert rank_related(terms, dates, limit=5)[0] == [4, 3, 2, 1]


def test_an_item_is_never_related_to_itself_and_limit_holds():
    terms = [{"t": 1.0} for _ in range(20)]
    ranked = rank_related(terms, list(range(20)), limit=5)
    assert all(i not in ranked[i] and len(ranked[i]) == 5 for i in range(20))


def test_ten_thousand_items_cost_near_linear_work():
    rng = random.Random(7)
    topics = [f"topic:{i}" for i in range(12)]
    tags = [f"tag:{i}" for i in range(300)]
    n = 10_000
    terms = []
    for _ in range(n):
        chosen = {t: 2.0 for t in rng.sample(topics, rng.randint(1, 3))}
        chosen.update({t: 1.0 for t in rng.sample(tags, rng.randint(0, 4))})
        terms.append(chosen)
    dates = [rng.uniform(0, 3e7) for _ in range(n)]
    stats = Stats()
    ranked = rank_related(terms, dates, limit=5, window=50, stats=stats)
    assert stats.items == n and all(len(r) == 5 for r in ranked)
    # Each item looks at no more than 2*window+1 others per term it has (at most 7
    # terms here): a bound linear in n. All pairs would be n*n = 100,000,000.
    assert stats.accumulations <= n * 7 * 101
    assert stats.accumulations < n * n / 10  # 3.4% of all pairs with these figures


def test_a_term_many_items_share_scores_only_the_nearest_in_time():
    # 1,000 items share one term; with a window of 5, item 500 is scored against
    # the 5 before and the 5 after it in time, and no other.
    n, window = 1_000, 5
    terms = [{"topic:salary": 2.0} for _ in range(n)]
    dates = [float(i) for i in range(n)]
    stats = Stats()
    ranked = rank_related(terms, dates, limit=20, window=window, stats=stats)
    assert sorted(ranked[500]) == [495, 496, 497, 498, 499, 501, 502, 503, 504, 505]
    assert sorted(ranked[0]) == [1, 2, 3, 4, 5]  # at the edge, what there is on one side
    assert stats.accumulations == sum(len(r) for r in ranked) < n * (2 * window)
    # Without the window every item would be scored against all 999 others.
    wide = Stats()
    rank_related(terms, dates, limit=20, window=n, stats=wide)
    assert wide.accumulations == n * (n - 1)
