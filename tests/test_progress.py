"""Progress on long work: phases and counts on a terminal, silence elsewhere.

The build is run through a real pseudo-terminal (as a person at a shell runs
it) and through pipes (as CI and `make test` do), on a corpus big enough that
the speed layer forks workers while the progress display is up.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.sitebuild import ROOT, snapshot
from tools.bench import generate
from tools.progress import Progress, on_terminal

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(command: list[str], env: dict) -> str:
    """Run `command` with a pseudo-terminal as its stdout and stderr; return what it showed."""
    parent, child = pty.openpty()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env, cwd=ROOT
    )
    os.close(child)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # EIO: the terminal's other end is closed, the process is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(parent)
    assert process.wait(timeout=600) == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("progress-corpus")
    generate(folder, 150, seed=11, max_replies=6)
    return folder / "project"


def build_command(corpus: Path, output: Path) -> list[str]:
    return [sys.executable, "tools/build.py", "--content", str(corpus), "-o", str(output)]


def test_a_build_on_a_terminal_shows_its_phases_and_counts(corpus, tmp_path):
    env = {**os.environ, "BUILD_JOBS": "2", "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_PROGRESS", None)
    shown = run_on_terminal(build_command(corpus, tmp_path / "tty"), env)
    plain = ESCAPE.sub("", shown)
    for phase in ("Reading posts, threads and pages", "Writing pages", "Search index (Pagefind)"):
        assert phase in plain, plain[-2000:]
    # The counts grow while the work runs, and the last one shown is the whole of it.
    written = [int(n.replace(",", "")) for n in re.findall(r"Writing pages\s+([\d,]+) ", plain)]
    assert len(set(written)) > 1, plain[-2000:]
    pages = len(list((tmp_path / "tty").resolve().rglob("*.html")))
    assert max(written) >= pages - len(list((tmp_path / "tty" / "pagefind").rglob("*.html")))
    read = [
        int(n.replace(",", ""))
        for n in re.findall(r"Reading posts, threads and pages\s+([\d,]+) ", plain)
    ]
    assert max(read) >= 150
    assert "Built " in plain  # the summary is still printed, after the progress

    # The same build through pipes shows none of it, and the site is the same
    # byte for byte: drawing progress beside forked workers changes nothing.
    piped = subprocess.run(
        build_command(corpus, tmp_path / "piped"),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert piped.returncode == 0, piped.stderr
    said = piped.stdout + piped.stderr
    assert "\x1b[" not in said and "Writing pages" not in said
    assert "Built " in said
    site = (tmp_path / "tty").resolve()
    # Pagefind's own files aside: it names the same index differently on each run.
    assert snapshot(site, skip=("pagefind",)) == snapshot(tmp_path / "piped", skip=("pagefind",))

    # Two builds being the same needs every file to be free of the build's
    # time: a topic with nothing in it has no feed (an empty feed is dated
    # "now"), and its page links none.
    topics = sorted((site / "topics").glob("*/index.html"))
    empty = 0
    for page in topics:
        soup = BeautifulSoup(page.read_text(), "html.parser")
        items = soup.select("li.item")
        empty += not items
        feed = site / "feeds" / "topics" / f"{page.parent.name}.atom.xml"
        links = soup.select(f'link[href$="{page.parent.name}.atom.xml"], .feed-link a')
        assert bool(items) == bool(links) == feed.exists(), page
    assert empty, "the corpus should have a topic with nothing in it"


def test_no_progress_turns_it_off_on_a_terminal_too(monkeypatch):
    monkeypatch.setenv("NO_PROGRESS", "1")
    parent, child = pty.openpty()
    try:
        with os.fdopen(os.dup(child), "w") as terminal:
            assert terminal.isatty()
            assert not on_terminal(terminal)
            monkeypatch.delenv("NO_PROGRESS")
            monkeypatch.setenv("TERM", "dumb")
            assert not on_terminal(terminal)
            monkeypatch.setenv("TERM", "xterm")
            assert on_terminal(terminal)
    finally:
        os.close(parent)
        os.close(child)


def test_off_a_terminal_progress_draws_nothing_and_still_does_the_work():
    stream = io.StringIO()
    with Progress(stream) as progress:
        assert not progress.enabled
        seen = list(progress.track(range(5), "Counting"))
        with progress.phase("Waiting") as phase:
            phase.advance(3)
            progress.tick()
    assert seen == [0, 1, 2, 3, 4]
    assert phase.count == 3
    assert stream.getvalue() == ""


def test_an_import_on_a_terminal_shows_what_it_writes(tmp_path):
    export = ROOT / "tests" / "importers" / "wxr12_https.xml"
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_PROGRESS", None)
    content = tmp_path / "content"
    content.mkdir()
    shown = ESCAPE.sub(
        "",
        run_on_terminal(
            [
                sys.executable,
                "tools/import_content.py",
                "wordpress",
                str(export),
                "--content",
                str(content),
            ],
            env,
        ),
    )
    assert "Reading the export" in shown and "Writing posts, pages and threads" in shown
    assert "Imported from" in shown
    written = [int(n) for n in re.findall(r"Writing posts, pages and threads\s+(\d+) ", shown)]
    assert written and max(written) == len(list(content.rglob("*.md"))) - len(
        list((content / "comments").rglob("*.md"))
    )
