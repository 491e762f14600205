"""The benchmark (`make bench`): what it reports, from a real run at tiny sizes.

No timing is asserted here: only that the report holds every figure the
benchmark promises, and that the scaling arithmetic is right."""

from __future__ import annotations

import re

import pytest
from pelican.plugins.threads.parse import parse_thread

from tools.bench import edit_first_reply, generate, main, scaling


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


def test_a_tiny_benchmark_reports_every_run_both_sizes_and_the_scaling(tmp_path, capsys):
    results = tmp_path / "results.md"
    assert (
        main(["--sizes", "40", "20", "--runs", "2", "--no-edit-loop", "--results", str(results)])
        == 0
    )
    report = results.read_text(encoding="utf-8")
    assert capsys.readouterr().out.rstrip().endswith(f"Appended to {results}")

    rows = re.findall(
        r"^\| (\d+) \| (vanilla Pelican|project \(all plugins\)) \| ([^|]+) \|", report, re.M
    )
    # Smallest size first whatever the order given; two runs of each build.
    assert [(n, name) for n, name, _ in rows] == [
        ("20", "vanilla Pelican"),
        ("20", "project (all plugins)"),
        ("40", "vanilla Pelican"),
        ("40", "project (all plugins)"),
    ]
    assert all(len(runs.split(", ")) == 2 for _, _, runs in rows)
    for n in (20, 40):
        line = next(x for x in report.splitlines() if x.startswith(f"- N={n}: corpus of {n} items"))
        assert re.search(r"b/a run by run: \d+\.\d\d, \d+\.\d\d$", line), line
        assert re.search(
            rf"^- N={n}: CPU time \(user \+ system, the build and its workers\), medians: "
            r"vanilla Pelican \d+\.\d s, project \d+\.\d s, \d+\.\d\dx vanilla's$",
            report,
            re.M,
        )
        assert re.search(
            rf"^- N={n}: publish with nothing changed \(the site kept\): \d+\.\d s$", report, re.M
        )
        assert re.search(
            rf"^- N={n}: the project build's search index \(Pagefind\) in \d+\.\d s, "
            r"peak \d+ MiB$",
            report,
            re.M,
        )
        # Three edits, each publish reusing all but the pages the edit touched.
        edited = re.search(
            rf"^- N={n}: publish after editing one reply \(incremental, with the search "
            r"index\), median of 3: (\d+\.\d) s \((\d+\.\d), (\d+\.\d), (\d+\.\d); "
            r"(\d+) of (\d+) pages reused\); \d\.\d\d of a full publish",
            report,
            re.M,
        )
        assert edited, report
        assert sorted(edited.groups()[1:4])[1] == edited[1]
        assert 0 < int(edited[6]) - int(edited[5]) < int(edited[6]) / 2
    assert re.search(
        r"^- Scaling from 20 to 40 items \(medians\): project \d+\.\dx, vanilla Pelican \d+\.\dx\. "
        r"Project's growth over vanilla's, round by round: \d+\.\d\d, \d+\.\d\d "
        r"\(median \d+\.\d\d;",
        report,
        re.M,
    )


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
