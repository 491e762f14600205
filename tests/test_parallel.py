"""Reading and writing on every core (plugins/parallel): the same site, the same
messages, and failures that stop the build instead of vanishing."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import time
from pathlib import Path

import jinja2
import pytest
from parallel import plugin
from pelican import signals
from pelican.settings import DEFAULT_CONFIG

import pelicanconf
from stacks_offers.forkmap import WorkerError, default_jobs, fork_map
from tests.sitebuild import build_local
from tools.bench import generate

logger = logging.getLogger("tests.parallel")


def wait_for_file(path: Path, timeout: float = 120) -> None:
    """Wait until another process makes `path` (a failure to, after `timeout`,
    shows up in what the test then asserts)."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


class EveryProcess:
    """Each process's first item waits until `parties` processes have each begun
    one: then every process takes part in a fork_map, however the machine
    schedules them (no test depends on one process being faster than another)."""

    def __init__(self, parties: int) -> None:
        self.barrier = multiprocessing.Barrier(parties)
        self.waited: set[int] = set()  # in each process, its own copy

    def wait(self) -> None:
        if os.getpid() not in self.waited:
            self.waited.add(os.getpid())
            self.barrier.wait(timeout=120)


def test_fork_map_gives_the_results_of_a_plain_loop_from_several_processes():
    everyone = EveryProcess(3)

    def square_with_pid(n: int) -> tuple[int, int]:
        everyone.wait()
        return n * n, os.getpid()

    results = fork_map(square_with_pid, range(200), jobs=3)
    assert [value for value, _pid in results] == [n * n for n in range(200)]
    pids = {pid for _value, pid in results}
    assert len(pids) == 3 and os.getpid() in pids


def _slow_for_some(n: int) -> int:
    time.sleep(0.02 if n % 7 == 0 else 0.001)
    return n


def test_fork_map_hands_out_work_to_whichever_process_is_free():
    # Items of very unequal cost: every item is done exactly once, in order.
    results = fork_map(_slow_for_some, range(300), jobs=2)
    assert results == list(range(300))


def test_few_items_make_few_workers_or_none():
    def pid(_n: int) -> int:
        return os.getpid()

    assert set(fork_map(pid, range(20), jobs=8)) == {os.getpid()}
    everyone = EveryProcess(2)

    def pid_of_two(_n: int) -> int:
        everyone.wait()
        return os.getpid()

    assert len(set(fork_map(pid_of_two, range(40), jobs=8))) == 2


def test_a_small_site_forks_nothing_however_many_jobs(tmp_path, monkeypatch):
    def no_fork():
        raise AssertionError("a worker process was made for the 18-item demo site")

    monkeypatch.setattr(os, "fork", no_fork)
    site = build_local(tmp_path / "out", BUILD_JOBS=8)
    assert not [m for m in site.messages if m.startswith("The build stopped")]
    assert (site.output / "sitemap.xml").exists()


def test_fork_map_logs_what_the_workers_logged_once_each(caplog):
    def warn(n: int) -> int:
        logger.warning("item %d looked odd", n)
        return n

    with caplog.at_level(logging.WARNING, logger="tests.parallel"):
        assert fork_map(warn, range(100), jobs=2) == list(range(100))
    messages = sorted(r.getMessage() for r in caplog.records if r.name == "tests.parallel")
    assert messages == sorted(f"item {n} looked odd" for n in range(100))


def test_a_failing_worker_raises_with_its_traceback():
    parent = os.getpid()
    everyone = EveryProcess(2)

    def fail_in_a_worker(n: int) -> int:
        everyone.wait()  # the worker takes an item
        if os.getpid() != parent:
            raise ZeroDivisionError(f"cannot do item {n}")
        return n

    with pytest.raises(WorkerError) as caught:
        fork_map(fail_in_a_worker, range(100), jobs=2, what="testing")
    assert "testing failed" in str(caught.value)
    assert "ZeroDivisionError: cannot do item" in str(caught.value)
    assert "fail_in_a_worker" in str(caught.value)  # the worker's traceback


def test_a_killed_worker_is_reported():
    parent = os.getpid()
    everyone = EveryProcess(2)

    def die(n: int) -> int:
        everyone.wait()
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return n

    with pytest.raises(WorkerError, match="killed by SIGKILL"):
        fork_map(die, range(100), jobs=2)


def test_a_failure_in_the_main_process_leaves_no_worker_behind():
    parent = os.getpid()
    everyone = EveryProcess(3)

    def fail_here(n: int) -> int:
        everyone.wait()  # both workers are at work when the main process fails
        if os.getpid() == parent:
            raise KeyError("in the main process")
        return n

    with pytest.raises(KeyError):
        fork_map(fail_here, range(100), jobs=3)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left to reap


def test_build_jobs_must_be_a_number(monkeypatch):
    monkeypatch.setenv("BUILD_JOBS", "two")
    with pytest.raises(ValueError, match="BUILD_JOBS='two': set it to a whole number"):
        default_jobs()
    monkeypatch.setenv("BUILD_JOBS", "3")
    assert default_jobs() == 3
    # The setting, where it is given, wins over the environment.
    assert default_jobs({"BUILD_JOBS": 1}) == 1
    assert default_jobs({"BUILD_JOBS": None}) == 3


def _site_files(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".xml" and b"<entry>" not in data:
                # A feed with no entries was last updated "now".
                data = re.sub(rb"<updated>[^<]*</updated>", b"", data)
            files[str(path.relative_to(root))] = data
    return files


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Enough items that every step forks: 120 posts and threads, comments,
    and a few files with mistakes for the readers to report."""
    folder = tmp_path_factory.mktemp("parallel-corpus")
    generate(folder, 120, seed=7)
    content = folder / "project"
    broken = content / "threads" / "broken.md"
    broken.write_text(
        "Title: A thread with mistakes\nDate: 2025-01-01 10:00\nCategory: The Search\n\n"
        "Is this on?\n\n```reply\nid: a\nauthor: Someone\ndate: not a date\n```\n\nYes.\n",
        encoding="utf-8",
    )
    (content / "posts" / "bad-date.md").write_text(
        "Title: Bad date\nDate: the day after\n\nText.\n", encoding="utf-8"
    )
    # A link within the site: Pelican rewrites it for each page's address (a
    # build with workers writes each item's text from a compressed copy).
    # A link to a page too, which Pelican reads after the posts: the feeds show
    # it written, however many processes tagged the posts' topics.
    (content / "posts" / "linking.md").write_text(
        "Title: A post that links\nDate: 2025-02-01 10:00\nCategory: The Search\n\n"
        "See [the first post]({filename}item-1.md), [the guide]({filename}../pages/guide.md)"
        " and the caf\u00e9 \u2014 twice.\n",
        encoding="utf-8",
    )
    (content / "pages").mkdir(exist_ok=True)
    (content / "pages" / "guide.md").write_text(
        "Title: A guide\n\nHow to read this site.\n", encoding="utf-8"
    )
    stray = content / "comments" / "no-such-post"
    stray.mkdir(parents=True)
    (stray / "c1.md").write_text("Author: A\nDate: 2025-01-01\n\nHello.\n", encoding="utf-8")
    return content


@pytest.fixture(scope="module")
def builds(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("parallel-out")
    return {jobs: build_local(out / f"jobs-{jobs}", corpus, BUILD_JOBS=jobs) for jobs in (1, 2, 3)}


def test_every_file_is_the_same_whatever_the_number_of_processes(builds):
    one = _site_files(builds[1].output)
    assert len(one) > 300  # pages, feeds, continuation pages, static files
    for jobs in (2, 3):
        other = _site_files(builds[jobs].output)
        assert sorted(other) == sorted(one)
        assert [name for name in one if other[name] != one[name]] == []


def test_every_message_is_reported_once_whatever_the_number_of_processes(builds):
    expected = sorted(builds[1].messages)
    assert any("not a date" in m and "broken.md" in m for m in expected)
    assert any("bad-date.md" in m for m in expected)
    assert any("no-such-post" in m for m in expected)
    for jobs in (2, 3):
        assert sorted(builds[jobs].messages) == expected


def test_every_path_is_owned_by_exactly_one_process(tmp_path):
    writers = []
    for index in range(3):
        writer = plugin.PartitionedWriter(str(tmp_path), settings=dict(DEFAULT_CONFIG))
        writer.share = (index, 3)
        writers.append(writer)
    paths = [f"page-{n}/index.html" for n in range(3000)]
    owners = [[w for w, writer in enumerate(writers) if writer.owns(path)] for path in paths]
    assert all(len(found) == 1 for found in owners)
    shares = [sum(found == [w] for found in owners) for w in range(3)]
    assert all(900 < share < 1100 for share in shares), shares  # about a third each
    # The same answer however the path is written, and on every asking.
    assert writers[0].owns("a/../page-1/index.html") == writers[0].owns("page-1/index.html")


def test_a_worker_that_fails_while_writing_stops_the_build(corpus, tmp_path):
    parent = os.getpid()
    failed = tmp_path / "worker-failed"

    def time_tag(when, fmt=None):  # noqa: ARG001 - a filter's signature
        if os.getpid() != parent:
            failed.touch()
            raise RuntimeError("a template failed in a worker")
        # The main process waits for the worker to come to a page of its own
        # (while it waits, it claims nothing more).
        wait_for_file(failed)
        return str(when)

    site = build_local(
        tmp_path / "out",
        corpus,
        BUILD_JOBS=2,
        JINJA_FILTERS={**pelicanconf.JINJA_FILTERS, "time_tag": time_tag},
    )
    [stopped] = [m for m in site.messages if m.startswith("The build stopped")]
    assert "WorkerError" in stopped
    assert "a template failed in a worker" in stopped
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    # The next build in this process is whole again, sitemap included.
    again = build_local(tmp_path / "again", corpus, BUILD_JOBS=2)
    assert (again.output / "sitemap.xml").exists()
    assert not [m for m in again.messages if m.startswith("The build stopped")]


def test_one_job_means_one_process(corpus, tmp_path, monkeypatch):
    def no_fork():
        raise AssertionError("a worker process was made with BUILD_JOBS=1")

    monkeypatch.setattr(os, "fork", no_fork)
    site = build_local(tmp_path / "out", corpus, BUILD_JOBS=1)
    assert not [m for m in site.messages if m.startswith("The build stopped")]
    assert (site.output / "sitemap.xml").exists()


def test_a_message_logged_in_two_processes_is_reported_once(caplog):
    # Pelican's logger drops a message it has logged already by raising
    # FilteredMessage from its filter; a worker's copy must not stop the build.
    from pelican.log import LimitFilter

    LimitFilter._raised_messages.clear()
    log = logging.getLogger("pelican.tests.repeated")

    everyone = EveryProcess(2)

    def warn(n):
        everyone.wait()  # the worker takes a share
        log.warning("the same warning from every item")
        return n

    with caplog.at_level(logging.WARNING):
        assert fork_map(warn, range(200), jobs=2, per_worker=1) == list(range(200))
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("the same warning from every item") == 1


def test_the_writer_hands_free_memory_back_every_so_many_files(tmp_path, monkeypatch):
    trims = []
    monkeypatch.setattr(plugin, "release_free_memory", lambda: trims.append(1))
    writer = plugin.PartitionedWriter(str(tmp_path), settings=dict(DEFAULT_CONFIG))
    writer.trim_every = 3
    template = jinja2.Template("<p>{{ output_file }}</p>")
    # Not a build: nothing listening to content_written (the sitemap) may count these.
    with signals.content_written.muted():
        for n in range(7):
            writer.write_file(f"page-{n}/index.html", template, {})
        assert len(trims) == 2
        assert (tmp_path / "page-6" / "index.html").read_text() == "<p>page-6/index.html</p>"
        writer.share = (1, 2)  # files another process owns are neither written nor counted
        for n in range(7, 40):
            writer.write_file(f"page-{n}/index.html", template, {})
    assert writer.written == 7 + sum(writer.owns(f"page-{n}/index.html") for n in range(7, 40))
    assert len(trims) == writer.written // 3


def test_each_path_has_one_owner_and_the_shares_are_as_asked():
    """Every path is written by exactly one process; an even share by default,
    and the main process's smaller share (an incremental build's) when asked."""
    owner = plugin.owner
    paths = [f"{year}/item-{n}/index.html" for year in (2024, 2025) for n in range(3000)]
    for jobs in (2, 3, 4):
        for main_part in (None, 1 / (jobs + 1)):
            owners = [owner(p, jobs, main_part) for p in paths]
            assert set(owners) == set(range(jobs))
            assert owners == [owner(p, jobs, main_part) for p in paths]  # fixed
            want = 1 / jobs if main_part is None else main_part
            assert abs(owners.count(0) / len(paths) - want) < 0.03
            for worker in range(1, jobs):  # the workers share the rest evenly
                assert abs(owners.count(worker) / len(paths) - (1 - want) / (jobs - 1)) < 0.03
    assert all(owner(p, 1) == 0 for p in paths)
