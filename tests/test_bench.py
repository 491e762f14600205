"""The benchmark (`make bench`): what it reports, and a real run at a tiny size.

No timing is asserted here: only that the report holds every figure the
benchmark promises, and that the scaling arithmetic is right."""

from __future__ import annotations

import os
import re
import sys

import pytest
from pelican.plugins.threads.parse import parse_thread

from tests.test_progress import ESCAPE, run_on_terminal
from tools.bench import Size, edit_first_reply, generate, report, scaling


def test_scaling_compares_each_builds_growth_from_the_smallest_size_to_the_largest():
    times = {
        10000: {"a": [100.0, 130.0, 90.0], "b": [95.0, 117.0, 99.0]},
        1000: {"a": [10.0, 13.0, 9.0], "b": [9.0, 10.0, 11.0]},
        5000: {"a": [1.0, 1.0, 1.0], "b": [1.0, 1.0, 1.0]},  # neither end: not used
    }
    small, large, vanilla, project, per_round = scaling(times)
    assert (small, large) == (1000, 10000)
    assert vanilla == pytest.approx(100 / 10)  # medians 100 and 10
    assert project == pytest.approx(99 / 10)  # medians 99 and 10
    # Round 2: the project grew 117/10 = 11.7x, vanilla 130/13 = 10x.
    assert per_round == pytest.approx([(95 / 9) / 10, 11.7 / 10, (99 / 11) / 10])


def _measured(n: int, vanilla, project, edits, loop=None) -> Size:
    """Three rounds of figures, chosen so that a median is not a mean, a peak's
    largest run does not round as its smallest, and the last edit is neither
    the median nor reused alike."""
    return Size(
        n,
        times={"a": vanilla, "b": project},
        peaks={"a": [30.0 + n, 31.6 + n, 30.2 + n], "b": [70.0 + n, 69.4 + n, 69.6 + n]},
        cpus={"a": vanilla, "b": [2 * t for t in project]},
        replies=7 * n,
        topics=1.25,
        unchanged=0.44,
        index="Search index (Pagefind) in 2.0 s, peak 44 MiB",
        edits=[(e, f"{n + i} of {n + 4} pages reused") for i, e in enumerate(edits)],
        loop=loop,
    )


def test_the_report_gives_every_run_each_size_smallest_first_and_the_scaling():
    text = report(
        "## heading",
        [
            _measured(40, [4.0, 5.0, 4.4], [3.0, 4.5, 2.2], [2.0, 1.0, 4.0], loop=(0.5, 3.3)),
            _measured(20, [2.0, 2.0, 5.0], [1.0, 1.5, 4.0], [0.6, 0.5, 0.9]),
        ],
    )
    rows = [line for line in text.splitlines() if re.match(r"\| \d", line)]
    assert rows == [  # the median run, ms per item, the largest peak, the medians' ratio
        "| 20 | vanilla Pelican | 2.0, 2.0, 5.0 | 2.0 | 100.0 | 52 |  |",
        "| 20 | project (all plugins) | 1.0, 1.5, 4.0 | 1.5 | 75.0 | 90 | 0.75 |",
        "| 40 | vanilla Pelican | 4.0, 5.0, 4.4 | 4.4 | 110.0 | 72 |  |",
        "| 40 | project (all plugins) | 3.0, 4.5, 2.2 | 3.0 | 75.0 | 110 | 0.68 |",
    ]
    notes = [line for line in text.splitlines() if line.startswith("- ")]
    assert notes[:5] == [
        "- N=20: corpus of 20 items, 5 of them threads, 140 replies and comments; "
        "1.2 topics per item; b/a run by run: 0.50, 0.75, 0.80",
        "- N=20: CPU time (user + system, the build and its workers), medians: "
        "vanilla Pelican 2.0 s, project 3.0 s, 1.50x vanilla's",
        "- N=20: publish with nothing changed (the site kept): 0.4 s",
        "- N=20: the project build's search index (Pagefind) in 2.0 s, peak 44 MiB",
        # The median of the three edits, each given, and the last one's reuse;
        # its share of the median build and the index: 0.6 / (1.5 + 2.0).
        "- N=20: publish after editing one reply (incremental, with the search index), "
        "median of 3: 0.6 s (0.6, 0.5, 0.9; 22 of 24 pages reused); 0.17 of a full "
        "publish (the median build 1.5 s + index 2.0 s)",
    ]
    assert notes[5:11] == [
        "- N=40: corpus of 40 items, 10 of them threads, 280 replies and comments; "
        "1.2 topics per item; b/a run by run: 0.75, 0.90, 0.50",
        "- N=40: CPU time (user + system, the build and its workers), medians: "
        "vanilla Pelican 4.4 s, project 6.0 s, 1.36x vanilla's",
        "- N=40: publish with nothing changed (the site kept): 0.4 s",
        "- N=40: the project build's search index (Pagefind) in 2.0 s, peak 44 MiB",
        "- N=40: publish after editing one reply (incremental, with the search index), "
        "median of 3: 2.0 s (2.0, 1.0, 4.0; 42 of 44 pages reused); 0.40 of a full "
        "publish (the median build 3.0 s + index 2.0 s)",
        "- N=40: edit loop (`make devserver`): edited thread page rewritten after 0.5 s, "
        "every listing after 3.3 s",
    ]
    # Medians: vanilla 2 -> 4.4 (2.2x), the project 1.5 -> 3 (2x); round by round
    # the project grew 3/1, 4.5/1.5 and 2.2/4, vanilla 4/2, 5/2 and 4.4/5.
    assert notes[11:] == [
        "- Scaling from 20 to 40 items (medians): project 2.0x, vanilla Pelican 2.2x. "
        "Project's growth over vanilla's, round by round: 1.50, 1.20, 0.62 "
        "(median 1.20; at most 1: no worse than vanilla)"
    ]
    one = report("## heading", [_measured(20, [2.0], [1.0], [0.5, 0.7, 0.6])])
    assert "Scaling" not in one and one.count("\n- ") == 5


def test_a_real_run_at_a_tiny_size_shows_its_phases_and_reports_every_figure(tmp_path):
    """One size, one round, on a terminal as a person runs `make bench`: the
    builds, the publishes and the index really run, each phase is shown with
    its count, and every figure is reported (the report's layout is the test
    above's)."""
    results = tmp_path / "results.md"
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "400"}
    env.pop("NO_PROGRESS", None)
    command = [sys.executable, "tools/bench.py", "--sizes", "20", "--runs", "1"]
    shown = run_on_terminal([*command, "--no-edit-loop", "--results", str(results)], env)
    shown = ESCAPE.sub("", shown)
    for phase in (
        "Writing the corpora 1 of 1",
        "Round 1 of 1: 20 items, vanilla Pelican",
        "Round 1 of 1: 20 items, project",
        "20 items: publish again, nothing changed",
        "20 items: search index (Pagefind)",
        *(f"20 items: publish after editing one reply ({n})" for n in (1, 2, 3)),
    ):
        assert phase in shown, shown[-3000:]
    # Each run as it ends, and the size's lines once its publishes are done.
    assert re.search(r"N=20 run 1 vanilla: \d+\.\d s, peak \d+ MiB", shown), shown[-3000:]
    assert re.search(r"N=20 run 1 project: \d+\.\d s, peak \d+ MiB", shown), shown[-3000:]
    assert shown.count("| 20 | project (all plugins) |") == 2  # as it goes, then the report
    assert f"Appended to {results}" in shown
    report = results.read_text(encoding="utf-8")
    rows = re.findall(r"^\| 20 \| ([^|]+) \| (\d+\.\d) \| (\d+\.\d) \|", report, re.M)
    assert [name for name, _, _ in rows] == ["vanilla Pelican", "project (all plugins)"]
    assert all(run == median and float(run) > 0 for _, run, median in rows)
    for note in (
        r"corpus of 20 items, 5 of them threads, \d+ replies and comments; \d+\.\d topics "
        r"per item; b/a run by run: \d+\.\d\d",
        r"CPU time \(user \+ system, the build and its workers\), medians: "
        r"vanilla Pelican \d+\.\d s, project \d+\.\d s, \d+\.\d\dx vanilla's",
        r"publish with nothing changed \(the site kept\): \d+\.\d s",
        r"the project build's search index \(Pagefind\) in \d+\.\d s, peak \d+ MiB",
    ):
        assert re.search(rf"^- N=20: {note}$", report, re.M), (note, report)
    # Three edits, each publish reusing all but the pages the edit touched.
    edited = re.search(
        r"^- N=20: publish after editing one reply \(incremental, with the search "
        r"index\), median of 3: (\d+\.\d) s \((\d+\.\d), (\d+\.\d), (\d+\.\d); "
        r"(\d+) of (\d+) pages reused\); \d\.\d\d of a full publish",
        report,
        re.M,
    )
    assert edited, report
    assert sorted(edited.groups()[1:4])[1] == edited[1]
    assert 0 < int(edited[6]) - int(edited[5]) < int(edited[6]) / 2
    assert "Scaling" not in report


def test_the_edit_loop_changes_the_first_reply_and_nothing_else(tmp_path):
    generate(tmp_path, 8)
    for path in sorted((tmp_path / "project" / "threads").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        before = parse_thread(text, str(path))
        after = parse_thread(edit_first_reply(text, " Edited."), str(path))
        assert not after.problems and after.metadata == before.metadata
        assert after.body == before.body
        first, *rest = after.replies
        assert first.body == before.replies[0].body + " Edited."
        assert [r.body for r in rest] == [r.body for r in before.replies[1:]]
        assert [r.id for r in after.replies] == [r.id for r in before.replies]


def test_the_edit_loop_can_edit_a_thread_with_a_single_reply():
    text = (
        "Title: One reply\nDate: 2024-01-01 10:00\nKind: question\nAuthor: A\n\nAsked.\n\n"
        "```reply\nid: r0\nauthor: B\ndate: 2024-01-01 11:00\n```\n\nAnswered.\n"
    )
    parsed = parse_thread(edit_first_reply(text, " Edited."), "one.md")
    assert not parsed.problems
    assert parsed.body == "Asked." and [r.body for r in parsed.replies] == ["Answered. Edited."]
