"""Benchmark the build against vanilla Pelican on the same synthetic corpus.

    python tools/bench.py [--sizes 1000 5000] [--runs 3] [--no-edit-loop]

For each size N it generates a seeded corpus in the project's formats (a
quarter of the items are threads with 5 to 40 replies at realistic depths;
some posts have comment files) and the same text for vanilla Pelican (threads
as plain articles with their replies inlined as Markdown). Then it builds
(a) vanilla Pelican (same pinned version, default theme, no plugins) and
(b) the project's full configuration, alternating runs, every run cold (fresh
output, no cache), and prints every run, the median wall time, ms per item,
peak memory (summed over the build's processes) and the ratio b/a. Each round
builds every size in turn, so a machine that slows down during the benchmark
slows all sizes alike; with two sizes or more it also prints how each build
grows from the smallest to the largest, from the medians and round by round.
The Pagefind index is timed on its own line. With the edit loop on, it starts the
dev server (tools/devserver.py, what `make devserver` runs), changes the
first reply of a thread and times until that thread's page, and then every
listing it is on, is rewritten.
Results are appended to bench/results.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PYTHON = sys.executable

from tools import tidy_versions  # noqa: E402
from tools.build import SEARCH_SUFFIX  # noqa: E402
from tools.progress import Progress  # noqa: E402
from tools.search_index import build_search_index  # noqa: E402

# Everyday words of the field that name no topic, and small groups of words that
# do. Each item draws on one to three groups, about one word in ten (the tagger
# gives these items 1.4 topics each: words sprinkled into filler read as
# mentions; a word salad of every group gave 8.8 and made topic pages and
# tagging unrealistic).
GENERIC = (  # noqa: SIM905 - a word bank reads better as text
    "library librarian archive catalog patron branch director collection public academic "
    "school special digital records processing instruction outreach volunteer program "
    "budget team supervisor week month year today morning afternoon desk shelf book "
    "answer advice think feel hope wait call email phone note meeting project report "
    "the a an and or but so because when while after before with without about into over "
    "is was were be been have had do did will would could should can may might must not very "
    "really just still also only even more most less first last next new old good bad best"
).split()
TOPICAL = [
    group.split()
    for group in (
        "application applications resume cover letter posting applied",
        "interview interviews interviewed committee presentation finalist",
        "offer offered accepted start date",
        "salary pay range benefits pension raise",
        "negotiate negotiation counteroffer leverage",
        "rejection rejected ghosted unsuccessful",
        "relocate relocation move city commute",
        "stress burnout anxious exhausted",
        "mentor network networking conference",
        "degree tuition coursework certificate",
    )
]
TOPICAL_SHARE = 0.1
CATEGORIES = [
    "The Search",
    "Applications",
    "Interviews",
    "Offers & Negotiation",
    "Career Paths",
    "Education & Training",
    "Workplace",
]
# End in a letter: vanilla Pelican names page 3 of "tag2" tag23.html, which is "tag23".
TAGS = [f"tag{n}x" for n in range(60)]
VANILLA_CONF = """\
AUTHOR = "Bench"
SITENAME = "Vanilla"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
LOCALE = ("C.UTF-8",)
PLUGINS = []
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
DELETE_OUTPUT_DIRECTORY = False
DEFAULT_PAGINATION = 10
"""


def word(rng: random.Random, themes: list[list[str]]) -> str:
    if themes and rng.random() < TOPICAL_SHARE:
        return rng.choice(rng.choice(themes))
    return rng.choice(GENERIC)


def sentence(rng: random.Random, words: int, themes: list[list[str]]) -> str:
    text = " ".join(word(rng, themes) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def paragraphs(rng: random.Random, total_words: int, themes: list[list[str]]) -> str:
    out, left = [], total_words
    while left > 0:
        n = min(left, rng.randint(40, 120))
        out.append(
            " ".join(sentence(rng, rng.randint(8, 20), themes) for _ in range(max(1, n // 14)))
        )
        left -= n
    return "\n\n".join(out)


@dataclass
class Reply:
    id: str
    parent: str | None
    author: str
    date: datetime
    body: str


def replies_for(
    rng: random.Random, start: datetime, count: int, themes: list[list[str]]
) -> list[Reply]:
    replies: list[Reply] = []
    for n in range(count):
        parent = None
        if replies and rng.random() < 0.55:  # about half answer another reply
            parent = rng.choice(replies[-8:]).id
        date = start + timedelta(hours=1 + n * rng.randint(1, 6))
        replies.append(
            Reply(
                f"r{n}",
                parent,
                f"Reader {rng.randint(1, 400)}",
                date,
                paragraphs(rng, rng.randint(20, 150), themes),
            )
        )
    return replies


def generate(folder: Path, n: int, seed: int = 20261122, max_replies: int = 40) -> int:
    """Write corpus/project/ (the project's formats) and corpus/vanilla/ (plain
    articles); threads get 5 to `max_replies` replies. Returns how many replies
    and comments there are in all."""
    rng = random.Random(seed)
    project, vanilla = folder / "project", folder / "vanilla" / "content"
    for path in (project / "posts", project / "threads", project / "comments", vanilla):
        path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "content" / "topics.toml", project / "topics.toml")
    shutil.copy(ROOT / "content" / "topics-model.json", project / "topics-model.json")
    shutil.copy(ROOT / "content" / "categories.toml", project / "categories.toml")
    (folder / "vanilla" / "pelicanconf.py").write_text(VANILLA_CONF, encoding="utf-8")
    start = datetime(2024, 1, 1, 9, 0)
    total_replies = 0
    for i in range(n):
        date = start + timedelta(hours=i * 7 + rng.randint(0, 5))
        themes = rng.sample(TOPICAL, rng.choice((1, 1, 2, 2, 3)))
        title = sentence(rng, rng.randint(4, 10), themes)[:-1]
        slug = f"item-{i}"
        header = (
            f"Title: {title}\nSlug: {slug}\nDate: {date:%Y-%m-%d %H:%M}\n"
            f"Category: {rng.choice(CATEGORIES)}\n"
            f"Tags: {', '.join(rng.sample(TAGS, rng.randint(1, 4)))}\n"
        )
        thread = i % 4 == 0
        # A thread is by its asker on both sides (author pages included).
        asker = f"Author: Asker {i}\n" if thread else ""
        if thread:
            body = paragraphs(rng, rng.randint(60, 250), themes)
            replies = replies_for(rng, date, rng.randint(5, max_replies), themes)
            kind = "question" if rng.random() < 0.7 else "discussion"
            blocks = "".join(
                f"\n\n```reply\nid: {r.id}\n"
                + (f"parent: {r.parent}\n" if r.parent else "")
                + f"author: {r.author}\ndate: {r.date:%Y-%m-%d %H:%M}\n```\n\n{r.body}"
                for r in replies
            )
            (project / "threads" / f"{slug}.md").write_text(
                header + f"Kind: {kind}\n{asker}\n{body}{blocks}\n", encoding="utf-8"
            )
        else:
            body = paragraphs(rng, rng.randint(300, 1200), themes)
            replies = (
                replies_for(rng, date, rng.randint(1, 10), themes) if rng.random() < 0.2 else []
            )
            (project / "posts" / f"{slug}.md").write_text(header + f"\n{body}\n", encoding="utf-8")
            for r in replies:
                folder_ = project / "comments" / slug
                folder_.mkdir(exist_ok=True)
                (folder_ / f"{r.id}.md").write_text(
                    f"Id: {r.id}\n"
                    + (f"Parent: {r.parent}\n" if r.parent else "")
                    + f"Author: {r.author}\nDate: {r.date:%Y-%m-%d %H:%M}\n\n{r.body}\n",
                    encoding="utf-8",
                )
        total_replies += len(replies)
        inlined = "".join(
            f"\n\n### {r.author}, {r.date:%Y-%m-%d %H:%M}\n\n{r.body}" for r in replies
        )
        (vanilla / f"{slug}.md").write_text(
            header + f"{asker}\n{body}{inlined}\n", encoding="utf-8"
        )
    return total_replies


def topics_per_item(site: Path, n: int) -> float:
    """Mean topics per item, from the counts on the built /topics/ page."""
    page = (site / "topics" / "index.html").read_text(encoding="utf-8")
    counts = re.findall(r'class="count">(\d+) posts?, (\d+) threads?<', page)
    return sum(int(a) + int(b) for a, b in counts) / n


# The memory sampler may use at most 1/SAMPLER_SHARE of one core. Reading a
# process's smaps_rollup walks its whole address space: at 10,000 items one
# sample of the project's three processes took about 20 ms, and sampling every
# 50 ms took 27 s of CPU over a 93 s build. On a two-core machine that time came
# out of the project's build, which uses both cores, and not out of vanilla
# Pelican's, which uses one; and more so the larger the site (5 ms a sample at
# 1,000 items), which skewed the scaling comparison against the project.
SAMPLER_SHARE = 20
SAMPLE_EVERY = 0.05  # seconds between samples, at the least


def run_measured(command: list[str], cwd: Path, tick=None) -> tuple[float, float, str, float]:
    """Wall seconds, peak MiB (PSS summed over the process tree), stderr's tail, and
    CPU seconds (user and system, of the process and every worker it waited for).

    `tick`, if given, is called at each memory sample (to redraw progress)."""
    # Write out what earlier runs left in the page cache first: the kernel would
    # otherwise write it back during this run (420 MB were still waiting to be
    # written a moment after a 10,000-item build, and the next run is timed).
    os.sync()
    cpu_before = _children_cpu()
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    while process.poll() is None:
        sampled = time.monotonic()
        peak = max(peak, tree_memory_kib(process.pid))
        if tick:
            tick()
        pause = max(SAMPLE_EVERY, SAMPLER_SHARE * (time.monotonic() - sampled))
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=pause)  # returns as soon as the build ends
    elapsed = time.monotonic() - started
    err = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{err[-3000:]}")
    return elapsed, peak / 1024, err[-500:], _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _memory_kib(pid: int) -> int:
    """A process's proportional set size (PSS): pages it shares with the other
    build processes (after fork()) count a share each, not in full. Falls back
    to the resident set size where the kernel has no smaps_rollup."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, PermissionError):
        pass
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tree_memory_kib(pid: int) -> int:
    """Memory of a process and all its descendants (PSS, from /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += _memory_kib(current)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    todo += [int(c) for c in handle.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def build_vanilla(corpus: Path, out: Path, tick=None) -> tuple[float, float, str, float]:
    shutil.rmtree(out, ignore_errors=True)
    vanilla = corpus / "vanilla"
    return run_measured(
        [
            PYTHON,
            "-m",
            "pelican",
            str(vanilla / "content"),
            "-o",
            str(out),
            "-s",
            str(vanilla / "pelicanconf.py"),
            "-q",
        ],
        vanilla,
        tick,
    )


def project_command(corpus: Path, out: Path) -> list[str]:
    """`make html`'s build of the corpus into `out`, without the search index."""
    return [
        PYTHON,
        str(ROOT / "tools" / "build.py"),
        "--settings",
        str(ROOT / "pelicanconf.py"),
        "--content",
        str(corpus / "project"),
        "--output",
        str(out),
        "--no-search",
    ]


def build_project(corpus: Path, out: Path, tick=None) -> tuple[float, float, str, float]:
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.parent / ".site-versions", ignore_errors=True)
    return run_measured(project_command(corpus, out), ROOT, tick)


def wait_for_tidying(out: Path, limit: float = 60.0) -> None:
    """Let the process a build leaves behind (tools/tidy_versions.py: old versions
    removed, the next build's scaffold made) finish before the next timed build,
    as it would while an owner writes their next edit: until the scaffold is
    there (the process may not have started yet) and nothing is left to remove."""
    versions = out.parent / ".site-versions"
    trash = versions / tidy_versions.TRASH
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        made = (versions / tidy_versions.SCAFFOLD).is_dir()
        making = list(versions.glob(f"{tidy_versions.MAKING}*"))
        if made and not making and not (trash.is_dir() and any(trash.iterdir())):
            return
        time.sleep(0.1)


def unchanged_publish(corpus: Path, out: Path) -> float:
    """Seconds for the project's build run again with nothing changed (it keeps the site)."""
    wait_for_tidying(out)
    started = time.monotonic()
    done = subprocess.run(
        project_command(corpus, out), cwd=ROOT, capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    if done.returncode != 0 or "Nothing changed since" not in done.stdout:
        raise SystemExit(f"the unchanged publish built anew:\n{done.stdout[-2000:]}")
    return elapsed


EDITS = 3  # edited publishes timed one after another, each after one more edit


def edited_publish(corpus: Path, out: Path) -> tuple[float, str]:
    """Seconds for `make publish`'s build (with the search index) after one
    reply of one thread was edited, on top of the site in `out` (built and
    indexed): an incremental publish. Returns the time and what it reused."""
    thread = corpus / "project" / "threads" / "item-0.md"
    thread.write_text(
        edit_first_reply(thread.read_text(encoding="utf-8"), " Edited for the benchmark."),
        encoding="utf-8",
    )
    command = [arg for arg in project_command(corpus, out) if arg != "--no-search"]
    wait_for_tidying(out)
    os.sync()
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    reused = re.search(r"(\d+) of (\d+) pages unchanged", done.stdout)
    if done.returncode != 0 or "Built " not in done.stdout:
        raise SystemExit(f"the edited publish failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, (f"{reused[1]} of {reused[2]} pages reused" if reused else "no page reused")


def _wait_for_line(process: subprocess.Popen, start: str, deadline: float) -> None:
    """Read the dev server's output until a line starts with `start`."""
    for line in process.stdout:
        if line.split("] ", 1)[-1].startswith(start):
            return
        if time.monotonic() > deadline:
            break
    raise SystemExit(f"the dev server did not say {start!r}")


def edit_first_reply(thread: str, addition: str) -> str:
    """The thread file's text with `addition` at the end of its first reply's
    text (the first reply is on the thread's first page, however long it is)."""
    fence = "\n```reply\n"
    start = thread.index(fence)
    header_end = thread.index("\n```\n", start + len(fence)) + len("\n```\n")
    end = thread.find(fence, header_end)
    if end == -1:
        return thread.rstrip("\n") + addition + "\n"
    body = thread[header_end:end].rstrip("\n")
    return thread[:header_end] + body + addition + thread[header_end + len(body) :]


def edit_loop(corpus: Path, work: Path) -> tuple[float, float]:
    """Seconds until the edited thread's page, then every listing, is rewritten.

    Starts the dev server (`make devserver` without serving: tools/devserver.py
    --no-serve), waits for its first build, edits one reply of a thread, and
    watches the output's modification times.
    """
    out = work / "devserver-output"
    shutil.rmtree(out, ignore_errors=True)
    process = subprocess.Popen(
        [
            PYTHON,
            str(ROOT / "tools" / "devserver.py"),
            "--no-serve",
            "--content",
            str(corpus / "project"),
            "-o",
            str(out),
            "-s",
            str(ROOT / "pelicanconf.py"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    thread = corpus / "project" / "threads" / "item-0.md"
    text = thread.read_text(encoding="utf-8")
    try:
        _wait_for_line(process, "Watching", time.monotonic() + 900)
        time.sleep(1)
        page = next(iter(sorted(out.glob("*/item-0/index.html"))))
        listings = [
            out / "index.html",
            *sorted((out / "category").glob("*/index.html")),
            *sorted((out / "tag").glob("*/index.html")),
            *sorted((out / "topics").glob("*/index.html")),
            *sorted((out / "questions").glob("**/index.html")),
        ]
        before = {p: p.stat().st_mtime_ns for p in [page, *listings]}
        edited = time.monotonic()
        thread.write_text(edit_first_reply(text, " Edited for the benchmark."), encoding="utf-8")
        page_done = all_done = None
        while time.monotonic() - edited < 900:
            if page_done is None and page.stat().st_mtime_ns != before[page]:
                page_done = time.monotonic() - edited
            if all(p.stat().st_mtime_ns != before[p] for p in listings if p.exists()):
                all_done = time.monotonic() - edited
                break
            time.sleep(0.02)
        if "Edited for the benchmark." not in page.read_text(encoding="utf-8"):
            raise SystemExit(f"the edit did not reach {page}")
        return page_done or float("nan"), all_done or float("nan")
    finally:
        thread.write_text(text, encoding="utf-8")
        process.terminate()
        process.wait(timeout=30)


def scaling(times: dict[int, dict[str, list[float]]]) -> tuple[int, int, float, float, list[float]]:
    """How each build grows from the smallest size to the largest.

    `times[n][key]` lists the wall times of build `key` ("a" vanilla, "b" the
    project) at size n, one per round. Returns the two sizes, the growth of the
    medians (largest / smallest) for a and for b, and for each round the
    project's growth divided by vanilla's in that round: below 1 the project
    scales better. A round runs every size of both builds close together, so a
    machine that slows down over the benchmark moves both growths alike.
    """
    small, large = min(times), max(times)

    def growth(key: str) -> float:
        return statistics.median(times[large][key]) / statistics.median(times[small][key])

    per_round = [
        (b_large / b_small) / (a_large / a_small)
        for a_small, b_small, a_large, b_large in zip(
            times[small]["a"], times[small]["b"], times[large]["a"], times[large]["b"], strict=True
        )
    ]
    return small, large, growth("a"), growth("b"), per_round


@dataclass
class Size:
    """What was measured at one size: each build's runs (key "a" vanilla Pelican,
    "b" the project) and what the project's publishes did after its builds."""

    n: int
    times: dict[str, list[float]]  # wall seconds, run by run
    peaks: dict[str, list[float]]  # MiB
    cpus: dict[str, list[float]]  # CPU seconds
    replies: int = 0
    topics: float = 0.0  # topics per item
    unchanged: float = 0.0  # seconds of a publish with nothing changed
    index: str = ""  # the search index's report ("Search index (Pagefind) in ...")
    edits: list[tuple[float, str]] = field(default_factory=list)  # (seconds, reused), in turn
    loop: tuple[float, float] | None = None  # edit loop: page, every listing


def size_report(size: Size) -> tuple[list[str], list[str]]:
    """The table's rows and the notes of one size."""
    n, times = size.n, size.times
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["b"] / median["a"]
    rows = []
    for key, name in (("a", "vanilla Pelican"), ("b", "project (all plugins)")):
        runs = ", ".join(f"{t:.1f}" for t in times[key])
        rows.append(
            f"| {n} | {name} | {runs} | {median[key]:.1f} | "
            f"{1000 * median[key] / n:.1f} | {max(size.peaks[key]):.0f} | "
            + (f"{ratio:.2f} |" if key == "b" else " |")
        )
    pairs = ", ".join(f"{b / a:.2f}" for a, b in zip(times["a"], times["b"], strict=True))
    cpu = {k: statistics.median(v) for k, v in size.cpus.items()}
    edited = statistics.median(seconds for seconds, _ in size.edits)
    index_s = float(re.search(r"in ([\d.]+) s", size.index)[1])
    notes = [
        f"- N={n}: corpus of {n} items, {n // 4} of them threads, {size.replies} replies "
        f"and comments; {size.topics:.1f} topics per item; b/a run by run: {pairs}",
        f"- N={n}: CPU time (user + system, the build and its workers), medians: "
        f"vanilla Pelican {cpu['a']:.1f} s, project {cpu['b']:.1f} s, "
        f"{cpu['b'] / cpu['a']:.2f}x vanilla's",
        f"- N={n}: publish with nothing changed (the site kept): {size.unchanged:.1f} s",
        f"- N={n}: the project build's {size.index[0].lower()}{size.index[1:]}",
        f"- N={n}: publish after editing one reply (incremental, with the search "
        f"index), median of {len(size.edits)}: {edited:.1f} s "
        f"({', '.join(f'{seconds:.1f}' for seconds, _ in size.edits)}; {size.edits[-1][1]}); "
        f"{edited / (median['b'] + index_s):.2f} of a full publish (the median build "
        f"{median['b']:.1f} s + index {index_s:.1f} s)",
    ]
    if size.loop is not None:
        notes.append(
            f"- N={n}: edit loop (`make devserver`): edited thread page rewritten after "
            f"{size.loop[0]:.1f} s, every listing after {size.loop[1]:.1f} s"
        )
    return rows, notes


def report(heading: str, sizes: list[Size]) -> str:
    """The section appended to bench/results.md: the table (smallest size
    first), each size's notes, and with two sizes or more how each build grew."""
    sizes = sorted(sizes, key=lambda size: size.n)
    rows, notes = [], []
    for size in sizes:
        size_rows, size_notes = size_report(size)
        rows += size_rows
        notes += size_notes
    if len(sizes) > 1:
        small, large, vanilla, project, per_round = scaling({s.n: s.times for s in sizes})
        notes.append(
            f"- Scaling from {small} to {large} items (medians): project {project:.1f}x, "
            f"vanilla Pelican {vanilla:.1f}x. Project's growth over vanilla's, round by "
            f"round: {', '.join(f'{r:.2f}' for r in per_round)} "
            f"(median {statistics.median(per_round):.2f}; at most 1: no worse than vanilla)"
        )
    table = [
        heading,
        "",
        "| N | build | runs (s) | median s | ms/item | peak MiB (PSS) | b/a |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    return "\n".join([*table, *rows, "", *notes, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[int(s) for s in os.environ.get("BENCH_N", "1000 5000").split()],
    )
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    parser.add_argument(
        "--max-replies",
        type=int,
        default=int(os.environ.get("BENCH_MAX_REPLIES", "40")),
        help="a thread has 5 to this many replies (default 40; 70 gives about "
        "100,000 replies at 10,000 items)",
    )
    parser.add_argument("--no-edit-loop", action="store_true")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.md")
    args = parser.parse_args(argv)
    heading = (
        f"## {datetime.now():%Y-%m-%d %H:%M} on {platform.node() or 'unknown'} "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})"
    )
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, Progress() as progress:
        work = Path(tmp)
        measured = {
            n: Size(n, {"a": [], "b": []}, {"a": [], "b": []}, {"a": [], "b": []})
            for n in sorted(set(args.sizes))
        }
        for n in progress.track(list(measured), "Writing the corpora"):
            measured[n].replies = generate(work / f"corpus-{n}", n, max_replies=args.max_replies)
        # Round by round, every size in turn: a machine that slows down during
        # the benchmark then slows every size alike, not just the last one.
        for run in range(args.runs):
            for n, size in measured.items():
                corpus = work / f"corpus-{n}"
                for key, builder in (("a", build_vanilla), ("b", build_project)):
                    name = "vanilla Pelican" if key == "a" else "project"
                    with progress.phase(f"Round {run + 1} of {args.runs}: {n} items, {name}"):
                        seconds, peak, _, cpu = builder(
                            corpus, work / f"out-{n}" / key, progress.tick
                        )
                    size.times[key].append(seconds)
                    size.cpus[key].append(cpu)
                    size.peaks[key].append(peak)
                    print(
                        f"N={n} run {run + 1} {'vanilla' if key == 'a' else 'project'}: "
                        f"{seconds:.1f} s, peak {peak:.0f} MiB",
                        flush=True,
                    )
        for n, size in measured.items():
            corpus, out = work / f"corpus-{n}", work / f"out-{n}" / "b"
            size.topics = topics_per_item(out, n)
            with progress.phase(f"{n} items: publish again, nothing changed"):
                size.unchanged = unchanged_publish(corpus, out)
            with progress.phase(f"{n} items: search index (Pagefind)"):
                # As `make publish` makes it: what it learnt of each page kept
                # beside the version, for the next publish (the edited one).
                version = out.resolve()
                survey = version.parent / f"{version.name}{SEARCH_SUFFIX}"
                error, size.index = build_search_index(version, progress.tick, survey_file=survey)
            if error:
                raise SystemExit(error)
            for edit in range(EDITS):
                with progress.phase(f"{n} items: publish after editing one reply ({edit + 1})"):
                    size.edits.append(edited_publish(corpus, out))
            wait_for_tidying(out)  # before its folder may be removed
            if not args.no_edit_loop:
                with progress.phase(f"{n} items: edit loop (dev server)"):
                    size.loop = edit_loop(corpus, work)
            rows, notes = size_report(size)
            print("\n".join(rows + notes), flush=True)
    text = report(heading, list(measured.values()))
    print("\n" + text)
    args.results.parent.mkdir(exist_ok=True)
    with args.results.open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    print(f"Appended to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
