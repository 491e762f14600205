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


def _measured(n: int, vanilla: list[float], project: list[float], edits: list[float]) -> Size:
    return Size(
        n,
        times={"a": vanilla, "b": project},
        peaks={"a": [30.0 + n, 31.0 + n], "b": [70.0 + n, 69.5 + n]},
        cpus={"a": vanilla, "b": [2 * t for t in project]},
        replies=7 * n,
        topics=1.25,
        unchanged=0.44,
        index="Search index (Pagefind) in 2.0 s, peak 44 MiB",
        edits=[(e, f"{n} of {n + 4} pages reused") for e in edits],
    )


def test_the_report_gives_every_run_each_size_smallest_first_and_the_scaling():
    text = report(
        "## heading",
        [
            _measured(40, [4.0, 5.0], [3.0, 4.5], [1.0, 3.0, 2.0]),
            _measured(20, [2.0, 2.0], [1.0, 1.5], [0.5, 0.7, 0.6]),
        ],
    )
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|.*\| ([^|]*) \|$", text, re.M)
    assert rows == [
        ("20", "vanilla Pelican", "2.0, 2.0", "2.0", ""),
        ("20", "project (all plugins)", "1.0, 1.5", "1.2", "0.62"),
        ("40", "vanilla Pelican", "4.0, 5.0", "4.5", ""),
        ("40", "project (all plugins)", "3.0, 4.5", "3.8", "0.83"),
    ]
    assert "| 40 | project (all plugins) | 3.0, 4.5 | 3.8 | 93.8 | 110 | 0.83 |" in text
    notes = [line for line in text.splitlines() if line.startswith("- ")]
    assert notes[:5] == [
        "- N=20: corpus of 20 items, 5 of them threads, 140 replies and comments; "
        "1.2 topics per item; b/a run by run: 0.50, 0.75",
        "- N=20: CPU time (user + system, the build and its workers), medians: "
        "vanilla Pelican 2.0 s, project 2.5 s, 1.25x vanilla's",
        "- N=20: publish with nothing changed (the site kept): 0.4 s",
        "- N=20: the project build's search index (Pagefind) in 2.0 s, peak 44 MiB",
        # The median of the three edits, each given, and the last one's reuse;
        # its share of the median build and the index.
        "- N=20: publish after editing one reply (incremental, with the search index), "
        "median of 3: 0.6 s (0.5, 0.7, 0.6; 20 of 24 pages reused); 0.18 of a full "
        "publish (the median build 1.2 s + index 2.0 s)",
    ]
    assert notes[5].startswith("- N=40: corpus of 40 items")
    # Medians: vanilla 2 -> 4.5 (2.25x), the project 1.25 -> 3.75 (3x); round by
    # round the project grew 3/1 and 4.5/1.5, vanilla 4/2 and 5/2.
    assert notes[-1] == (
        "- Scaling from 20 to 40 items (medians): project 3.0x, vanilla Pelican 2.2x. "
        "Project's growth over vanilla's, round by round: 1.50, 1.20 "
        "(median 1.35; at most 1: no worse than vanilla)"
    )
    assert len(notes) == 11
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
        "20 items: publish after editing one reply (3)",
    ):
        assert phase in shown, shown[-3000:]
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
