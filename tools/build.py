"""Build the site into a staging folder and swap it in atomically.

`make html` and `make publish` both run this. The site is built into a fresh
folder under `.site-versions/`; every warning and error Pelican or a plugin logs
during the build is collected. Then:

* with `--strict` (`make publish`), any warning or error is listed and the build
  fails: `output/` is left exactly as it was;
* without it (`make html`), they are listed and the build is swapped in anyway,
  so an author sees everything that could be built.

`output` is a symbolic link to the current version folder. Swapping in a new
build is a single `rename()` of a new link over the old one, which POSIX makes
atomic: a reader (or a process killed at any moment) sees either the whole old
site or the whole new one, never a mix.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The plugins (pelican/plugins/, with stacks_offers) and the speed layer
# (plugins/), as the settings file does; before Pelican is imported, which
# adds this folder's pelican/plugins/ to its namespace then.
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "plugins")) if p not in sys.path]

from stacks_offers.reuse import REUSE_SETTING  # noqa: E402
from tools import tidy_versions  # noqa: E402
from tools.inputs import build_inputs, differences, tree_digest  # noqa: E402
from tools.progress import Progress  # noqa: E402
from tools.search_index import build_search_index  # noqa: E402 - tests and the dev server import it from here

VERSIONS_DIR = ".site-versions"
PARTIAL_SUFFIX = ".partial"
INPUTS_SUFFIX = ".inputs.json"  # beside each version: what it was made from
PAGES_SUFFIX = ".pages"  # beside each version: what each page was made from (reuse)
SEARCH_SUFFIX = ".search.json"  # beside each version: each HTML file's digest (search index)
STORE_PREFIX = "reuse-"  # the store of per-item work, one per set of non-content inputs
TEMPLATES_PREFIX = ".templates-"  # its compiled templates (not a version: a dot first)
CONTENT_NOTES = ".content-notes.json"  # each content file's size, times and digest
KEEP_VERSIONS = 2  # the current site and the one before it, for a quick rollback

# Test hook: the tests that kill a publish half-way set SITE_BUILD_PAUSE_AT to
# one of these names; the build stops there, touches SITE_BUILD_PAUSE_FILE and
# waits to be killed.
CHECKPOINTS = ("build", "staged", "swap", "rebuild")  # rebuild: the dev server

logger = logging.getLogger("tools.build")


# The example values a new clone comes with. A build with any of them still set
# works, and says once which are left and where to change them.
PLACEHOLDER_DOMAIN = "stacks-and-offers.example.org"
PLACEHOLDER_AUTHOR = "Marisol Okafor"  # the demo's owner, in every page's footer
# setting -> (the example value in it, where to change it)
PLACEHOLDER_FIXES = {
    "SITEURL": (
        PLACEHOLDER_DOMAIN,
        "make publish SITEURL=https://your.site (or export SITEURL, or publishconf.py)",
    ),
    "THREADS_REPLY_EMAIL": (
        PLACEHOLDER_DOMAIN,
        'pelicanconf.py: a mailbox you read, or "" for no Reply links',
    ),
    "AUTHOR": (
        PLACEHOLDER_AUTHOR,
        "pelicanconf.py: the name your posts and the footer show (the demo owner's until then)",
    ),
}


def placeholders(settings: dict) -> list[str]:
    """The settings still holding the example values, each with where to change it."""
    return [
        f"{key} is {settings[key]!r}: {fix}"
        for key, (example, fix) in PLACEHOLDER_FIXES.items()
        if example in str(settings.get(key) or "")
    ]


class Collector(logging.Handler):
    """Logging handler that keeps every record at WARNING or above."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.settings: dict = {}  # the build's settings, once read

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def checkpoint(name: str) -> None:
    """Pause here when a test asked for it (see CHECKPOINTS): until the test
    makes SITE_BUILD_RESUME_FILE, if it named one, else until it is killed."""
    if name not in os.environ.get("SITE_BUILD_PAUSE_AT", "").split(","):
        return
    marker = os.environ.get("SITE_BUILD_PAUSE_FILE")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    resume = os.environ.get("SITE_BUILD_RESUME_FILE")
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        if resume and os.path.exists(resume):
            os.remove(resume)
            return
        time.sleep(0.02)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(versions: Path, root: Path) -> None:
    """Remove half-built folders and stray links left by killed builds."""
    for partial in versions.glob(f"*{PARTIAL_SUFFIX}"):
        pid = partial.name.removesuffix(PARTIAL_SUFFIX).rsplit("-", 1)[-1]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)
    for making in versions.glob(f"{tidy_versions.MAKING}*"):
        pid = making.name.removeprefix(tidy_versions.MAKING)
        if not pid.isdigit() or not _pid_alive(int(pid)):
            shutil.rmtree(making, ignore_errors=True)
    for link in root.glob(".output-link-*"):
        pid = link.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            link.unlink(missing_ok=True)


def prune(versions: Path, current: Path) -> None:
    """Keep the current version and the KEEP_VERSIONS - 1 newest others."""
    done = sorted(
        (
            p
            for p in versions.iterdir()
            if p.is_dir() and not p.name.endswith(PARTIAL_SUFFIX) and not p.name.startswith(".")
        ),
        key=lambda p: p.name,
        reverse=True,
    )
    keep = {current.resolve()}
    for p in done:
        if len(keep) >= KEEP_VERSIONS:
            break
        keep.add(p.resolve())
    for p in done:
        if p.resolve() not in keep:
            discard(p)
    start_tidying(versions, current)
    for suffix in (INPUTS_SUFFIX, PAGES_SUFFIX, SEARCH_SUFFIX):
        for manifest in versions.glob(f"*{suffix}"):
            if not (versions / manifest.name.removesuffix(suffix)).is_dir():
                manifest.unlink(missing_ok=True)


def discard(folder: Path) -> None:
    """Move an old version folder into the trash (one rename), for the tidying
    process (`start_tidying`) to remove, or to strip into the next scaffold:
    a site of 10,000 pages takes seconds to remove; the build need not wait.
    Whatever a removal leaves (the machine stopped) goes with the next one."""
    trash = folder.parent / tidy_versions.TRASH
    trash.mkdir(exist_ok=True)
    try:
        folder.rename(trash / folder.name)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)


def start_tidying(versions: Path, current: Path) -> None:
    """Remove the old versions in the trash and leave a scaffold for the next
    build (tools/tidy_versions.py), in a process of its own."""
    subprocess.Popen(
        [sys.executable, str(Path(tidy_versions.__file__)), str(versions), str(current)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def take_scaffold(versions: Path, staging: Path) -> list[str] | None:
    """Make the staging folder: the scaffold an earlier build left (an old
    version's folders, without their files; tools/tidy_versions.py) when there
    is one, so that the pages linked in from the last build find their folders
    made. Returns the scaffold's folders (relative), for
    `remove_unused_folders`, or None for a folder made empty."""
    try:
        (versions / tidy_versions.SCAFFOLD).rename(staging)
    except OSError:
        staging.mkdir()
        return None
    listing = staging / tidy_versions.LISTING
    try:
        folders = json.loads(listing.read_text(encoding="utf-8"))
        listing.unlink()
    except (OSError, ValueError):
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        return None
    return folders if isinstance(folders, list) else []


def remove_unused_folders(staging: Path, folders: list[str]) -> None:
    """Remove the scaffold's folders the build left empty (an item gone since,
    a listing with fewer pages), the deepest first: the site holds the folders
    a clean build makes, and no other. A folder that holds anything stays, and
    so do the folders above it (no need to try them)."""
    kept: set[str] = set()
    for folder in sorted(folders, key=lambda f: f.count(os.sep), reverse=True):
        parent = os.path.dirname(folder)
        if folder in kept:
            kept.add(parent)
            continue
        try:
            os.rmdir(staging / folder)
        except FileNotFoundError:
            pass
        except OSError:  # not empty
            kept.add(parent)


def swap_in(output: Path, new_version: Path) -> None:
    """Point `output` at new_version with one atomic rename."""
    if output.exists() and not output.is_symlink():
        # A plain folder left by running `pelican` directly: move it aside once.
        # This is the only non-atomic step, and it happens at most once.
        aside = new_version.parent / f"{time.strftime('%Y%m%dT%H%M%S')}-previous-plain"
        output.rename(aside)
    tmp_link = output.parent / f".output-link-{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(os.path.relpath(new_version, output.parent))
    checkpoint("swap")
    os.replace(tmp_link, output)


STOPPED = "The build stopped"


def forget_stopped_build() -> None:
    """After a build that stopped, let the next one in this process write a sitemap."""
    from stacks_offers import compat

    compat.forget_stopped_build()


def forget_logged_messages() -> None:
    """Each build in this process (the tests, the dev server) shows all of its warnings."""
    from stacks_offers import compat

    compat.forget_logged_messages()


@contextmanager
def progress_of_pelican(progress: Progress):
    """Show Pelican's run as two phases on a terminal: reading (and threading
    and tagging) the content, then writing pages. Counts come from Pelican's
    public signals, in this process (the speed layer's workers send
    `content_written` for every page too, and are ignored)."""
    if not progress.enabled:
        yield
        return
    from pelican import signals

    with ExitStack() as phases:
        reading = phases.enter_context(progress.phase("Reading posts, threads and pages"))
        state = {"current": reading}

        def read(_content) -> None:
            reading.advance()

        def all_read(_generators) -> None:
            phases.close()  # reading is done: its line stays with its count and time
            state["current"] = phases.enter_context(progress.phase("Writing pages"))

        def written(_path, context=None) -> None:  # noqa: ARG001 - signal API
            if state["current"] is not reading:
                state["current"].advance()

        receivers = [
            (signals.content_object_init, read),
            (signals.all_generators_finalized, all_read),
            (signals.content_written, written),
        ]
        for signal, receiver in receivers:
            signal.connect(receiver, weak=False)
        try:
            yield
        finally:
            for signal, receiver in receivers:
                signal.disconnect(receiver)


def leftover_marks() -> tuple[bytes, ...]:
    """The bytes of each example line a new post's or thread's skeleton holds."""
    from tools.new_thread import LEFTOVERS

    return tuple(leftover.encode("utf-8") for leftover in LEFTOVERS)


def report_skeleton_leftovers(settings: dict, marked: list[str] | None = None) -> None:
    """A warning for each example line of a `make new-post`/`new-thread` skeleton
    left in a post, thread or page that is no longer a draft. `marked`: the
    content's `.md` files holding one (the inputs record's read of the content
    found them), or None to look through the content here."""
    from tools.new_thread import leftovers

    root = Path(os.path.abspath(settings["PATH"]))
    if marked is None:  # the same pass as the inputs record's
        marked = []
        tree_digest(root, marks=leftover_marks(), marked=marked)
    for folder in (*settings["ARTICLE_PATHS"], *settings["PAGE_PATHS"]):
        found = []
        for path in map(Path, marked):
            if not path.is_relative_to(root / folder):
                continue
            if "comments" in path.relative_to(root).parts[:-1]:
                continue
            with contextlib.suppress(OSError):
                found.append((path, path.read_text(encoding="utf-8", errors="replace")))
        for path, text in sorted(found):
            for line, leftover in leftovers(text):
                logger.warning(
                    "%s:%d: still the skeleton's example %r: write your own, or put "
                    "`Status: draft` back until it is ready",
                    path,
                    line,
                    leftover,
                )


def run_pelican(
    settings_file: Path,
    staging: Path,
    extra: dict,
    progress: Progress | None = None,
    written=None,
    marked: list[str] | None = None,
) -> Collector:
    """Build once into `staging`; return every warning and error logged.
    `written(collector)`, if given, is called once every page is written, as
    Pelican starts its last steps (the sitemap, the summary). `marked`: the
    content files an example line was found in (`report_skeleton_leftovers`)."""
    from pelican import Pelican, signals
    from pelican.log import init as init_logging
    from pelican.settings import read_settings

    init_logging(level=logging.WARNING)
    forget_logged_messages()
    forget_stopped_build()  # whatever ran in this process before, the sitemap starts empty
    collector = Collector()
    logging.getLogger().addHandler(collector)
    progress = progress or Progress(enabled=False)

    if os.environ.get("SITE_BUILD_PAUSE_AT") == "build":
        written = []

        def pause_after_some_files(path, context):  # noqa: ARG001 - signal API
            written.append(path)
            if len(written) == 5:
                checkpoint("build")

        signals.content_written.connect(pause_after_some_files, weak=False)

    if written is not None:
        # Connected before Pelican loads its plugins: called before the sitemap's.
        def every_page_written(_pelican) -> None:
            written(collector)

        signals.finalized.connect(every_page_written, weak=False)

    override = {"OUTPUT_PATH": str(staging), "DELETE_OUTPUT_DIRECTORY": False, **extra}
    try:
        settings = read_settings(str(settings_file), override=override)
        collector.settings = settings
        try:
            with progress_of_pelican(progress):
                Pelican(settings).run()
        finally:
            from stacks_offers import reuse

            reuse.close(settings)  # what was worked out is kept, even for a stopped build
        report_skeleton_leftovers(settings, marked)
    except Exception as exc:  # report it with the rest and fail the build
        # A mistake in the settings says what to do; anything else shows where it happened.
        from stacks_offers.contract import PluginOrderError

        known = isinstance(exc, PluginOrderError)
        logger.error(
            "%s: %s: %s", STOPPED, type(exc).__name__, exc, exc_info=None if known else exc
        )
        forget_stopped_build()
    finally:
        logging.getLogger().removeHandler(collector)
        if written is not None:
            signals.finalized.disconnect(every_page_written)
    return collector


def describe(record: logging.LogRecord) -> str:
    return f"{record.levelname.lower()}: {record.getMessage()}"


@contextmanager
def one_build_at_a_time(versions: Path):
    """Hold the checkout's build lock; a second build waits for the first.

    Two builds at once in one checkout would each swap in their own site and
    the last would win, whichever started first. The lock is an flock on the
    `.site-versions` folder itself: the system releases it when a build dies."""
    handle = os.open(versions, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # The build holding it is staging into <stamp>-<pid>.partial.
            staging = (
                p.name.removesuffix(PARTIAL_SUFFIX) for p in versions.glob(f"*{PARTIAL_SUFFIX}")
            )
            pids = sorted(
                pid
                for pid in (name.rsplit("-", 1)[-1] for name in staging)
                if pid.isdigit() and _pid_alive(int(pid))
            )
            print(
                f"Another build is running in this checkout (pid {', '.join(pids) or '?'}); "
                "waiting for it to finish. Press Ctrl-C to stop waiting.",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing the last descriptor releases the lock


def build(
    settings_file: Path,
    output: Path,
    strict: bool,
    extra: dict,
    search: bool = True,
    full: bool = False,
) -> int:
    versions = output.parent / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    with one_build_at_a_time(versions):
        return _build(settings_file, output, strict, extra, search, full)


def read_inputs(
    settings_file: Path,
    extra: dict,
    search: bool,
    files: dict[str, str] | None = None,
    marked: list[str] | None = None,
    notes_file: Path | None = None,
) -> tuple[dict, dict[str, str]]:
    """The settings, and what this build would be made from (tools/inputs.py);
    `files` gets each content file's digest, `marked` the content files that
    hold an example line of a skeleton (`report_skeleton_leftovers`).
    `notes_file`: what the last build noted of each content file, so that a
    file unchanged since is not read again; this build's notes replace it."""
    from pelican.settings import read_settings

    settings = read_settings(str(settings_file), override={**extra})
    notes = None
    if notes_file is not None:
        try:
            notes = json.loads(notes_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            notes = {}
        notes = notes if isinstance(notes, dict) else {}
    inputs = build_inputs(
        settings, settings_file, {"search": search}, files, leftover_marks(), marked, notes
    )
    if notes_file is not None:
        partial = notes_file.with_name(f"{notes_file.name}.{os.getpid()}")
        partial.write_text(json.dumps(notes, separators=(",", ":")), encoding="utf-8")
        partial.replace(notes_file)
    return settings, inputs


def manifest_of(version: Path) -> Path:
    return version.parent / f"{version.name}{INPUTS_SUFFIX}"


def kept_build(output: Path, inputs: dict[str, str]) -> tuple[Path, dict] | None:
    """The build `output` points at, if it was made from exactly `inputs`."""
    if not output.is_symlink():
        return None
    current = output.resolve()
    try:
        manifest = json.loads(manifest_of(current).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not current.is_dir() or differences(manifest.get("inputs", {}), inputs):
        return None
    return current, manifest


def _build(
    settings_file: Path, output: Path, strict: bool, extra: dict, search: bool, full: bool = False
) -> int:
    root = output.parent
    versions = root / VERSIONS_DIR
    clean_stale(versions, root)

    started = time.monotonic()
    files: dict[str, str] = {}
    marked: list[str] = []
    settings, inputs = read_inputs(
        settings_file, extra, search, files, marked, None if full else versions / CONTENT_NOTES
    )
    kept = None if full else kept_build(output, inputs)
    if kept is not None:
        current, manifest = kept
        problems = manifest.get("problems", [])
        if problems:
            errors = sum(line.startswith("error:") for line in problems)
            print(
                f"\nThe build reported {errors} error(s) and {len(problems) - errors} warning(s):",
                file=sys.stderr,
            )
            for line in problems:
                print(f"  - {line}", file=sys.stderr)
            if strict:
                print(
                    f"\nNot published: fix the problems above. {output}/ is unchanged.",
                    file=sys.stderr,
                )
                return 1
        print(
            f"Nothing changed since {output}/ was built ({VERSIONS_DIR}/{current.name}): "
            f"kept it ({time.monotonic() - started:.1f} s). "
            "To build it anew anyway: --full (make publish BUILDOPTS=--full)."
        )
        tell_placeholders(settings)
        return 0

    stamp = time.strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{os.getpid()}"
    again = 1  # a second build by this process within the second (the pid stays last)
    while (versions / name).exists() or (versions / f"{name}{PARTIAL_SUFFIX}").exists():
        again += 1
        name = f"{stamp}.{again}-{os.getpid()}"
    staging = versions / f"{name}{PARTIAL_SUFFIX}"
    if full:
        staging.mkdir()
        scaffold = None
    else:
        scaffold = take_scaffold(versions, staging)
    plan = reuse_plan(output, versions, inputs, name, fresh=full)
    plan["files"] = files  # read once: the build takes its digests from here
    pages_record = versions / f"{name}{PAGES_SUFFIX}"

    # The site in output/ now: its unchanged search index parts are kept.
    previous = output.resolve() if output.is_symlink() and not full else None
    index = SearchIndex(
        staging,
        previous,
        versions / f"{name}{SEARCH_SUFFIX}",
        previous and versions / f"{previous.name}{SEARCH_SUFFIX}",
    )

    def index_wanted(collector: Collector) -> bool:
        return search and not (strict and collector.records)  # strict: not published

    def tidy_folders() -> None:
        nonlocal scaffold
        if scaffold is not None:
            remove_unused_folders(staging, scaffold)
            scaffold = None

    def every_page_written(collector: Collector) -> None:
        tidy_folders()  # before the search index walks the site
        # The largest of the workers (all reaped by now; Pagefind is not yet).
        index.workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if index_wanted(collector):
            index.start()  # while Pelican writes the sitemap and sums up

    with Progress() as progress:
        collector = run_pelican(
            settings_file,
            staging,
            {**extra, REUSE_SETTING: plan} if plan else extra,
            progress,
            every_page_written,
            marked,
        )
        tidy_folders()  # if Pelican stopped before its last step
        elapsed = time.monotonic() - started
        # This process's peak, and the largest of the workers it forked.
        peaks = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            index.workers_peak,
        )
        if index_wanted(collector):
            with progress.phase("Search index (Pagefind)"):
                if not index.started:
                    index.start()
                error, cost = index.wait(progress.tick if progress.enabled else None)
        else:
            if index.started:
                index.wait()  # problems came after it started: its index is of no use
            error = cost = None
    if cost:
        print(cost)
        if error:
            logger.error("%s", error)
            collector.records.append(
                logging.makeLogRecord(
                    {"levelno": logging.ERROR, "levelname": "ERROR", "msg": error}
                )
            )

    problems = collector.records
    errors = [r for r in problems if r.levelno >= logging.ERROR]
    if problems:
        print(
            f"\nThe build reported {len(errors)} error(s) and "
            f"{len(problems) - len(errors)} warning(s):",
            file=sys.stderr,
        )
        # By text (most start with the file they are about): the same order
        # whichever worker process happened to read a file first.
        for line in sorted(describe(record) for record in problems):
            print(f"  - {line}", file=sys.stderr)
    stopped = any(r.getMessage().startswith(STOPPED) for r in errors)
    if stopped or (strict and problems):
        # A build that stopped half-way is never swapped in, whatever the mode.
        shutil.rmtree(staging, ignore_errors=True)
        pages_record.unlink(missing_ok=True)
        (versions / f"{name}{SEARCH_SUFFIX}").unlink(missing_ok=True)
        if output.is_symlink() and output.resolve().is_dir():
            start_tidying(versions, output.resolve())  # a scaffold for the next try
        what = "Not built" if stopped else "Not published"
        print(f"\n{what}: fix the problems above. {output}/ is unchanged.", file=sys.stderr)
        return 1

    checkpoint("staged")
    final = versions / name
    staging.rename(final)
    # What it was made from, beside it (not in it: the folder is what is uploaded).
    manifest = {"inputs": inputs, "problems": sorted(describe(r) for r in problems)}
    manifest_of(final).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    swap_in(output, final)
    prune(versions, final)
    print(
        f"Built {output}/ -> {VERSIONS_DIR}/{name} in {elapsed:.1f} s, peak "
        f"{peaks[0]:.0f} MiB (largest worker {peaks[1]:.0f} MiB)"
        + (" (with the problems listed above)" if problems else "")
        + reused_note(pages_record)
    )
    tell_placeholders(collector.settings)
    return 0


class SearchIndex:
    """The search index of a build (tools/search_index.py), made in a thread of
    its own from the moment every page is written, so that Pagefind indexes
    while Pelican writes the sitemap and sums up."""

    def __init__(self, site: Path, previous, survey_file: Path, previous_survey) -> None:
        self.args = (site, None, previous, survey_file, previous_survey)
        self.workers_peak = 0.0
        self.result: tuple[str | None, str] | None = None
        self.failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = build_search_index(*self.args)
        except BaseException as exc:  # raised again in the main thread
            self.failure = exc

    def wait(self, tick=None) -> tuple[str | None, str]:
        """(an error or None, what it cost), once the index is made; `tick`
        is called about ten times a second meanwhile."""
        while self._thread.is_alive():
            self._thread.join(0.1)
            if tick is not None:
                tick()
        if self.failure is not None:
            raise self.failure
        return self.result


def reuse_plan(
    output: Path, versions: Path, inputs: dict[str, str], name: str, fresh: bool = False
) -> dict:
    """What this build may take from earlier ones (stacks_offers/reuse.py): the
    store of per-item work for these settings, theme, code and packages, and,
    when the site in `output` was built from the same (only content differs),
    that site's pages. A `fresh` build (--full) takes nothing, and leaves its
    work and page records for the next."""
    # The pages and the per-item work depend on neither the content (compared
    # piece by piece) nor whether the search index is made.
    others = {k: v for k, v in inputs.items() if k not in ("content", "options")}
    key = hashlib.blake2b(json.dumps(others, sort_keys=True).encode(), digest_size=8).hexdigest()
    store = versions / f"{STORE_PREFIX}{key}.sqlite"
    templates = versions / f"{TEMPLATES_PREFIX}{key}"
    for old in versions.glob(f"{STORE_PREFIX}*"):
        if not old.name.startswith(store.name):  # another set of inputs: never of use again
            old.unlink(missing_ok=True)
    for old in versions.glob(f"{TEMPLATES_PREFIX}*"):
        if old != templates or fresh:  # a fresh build compiles its templates anew
            shutil.rmtree(old, ignore_errors=True)
    plan = {
        "store": str(store),
        "templates": str(templates),
        "pages": str(versions / f"{name}{PAGES_SUFFIX}"),
    }
    if fresh:
        return {**plan, "fresh": True}
    if output.is_symlink():
        current = output.resolve()
        try:
            manifest = json.loads(manifest_of(current).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return plan
        before = {k: v for k, v in manifest.get("inputs", {}).items() if k in others}
        if current.is_dir() and not differences(before, others):
            plan["previous"] = str(current)
            plan["previous_pages"] = str(versions / f"{current.name}{PAGES_SUFFIX}")
    return plan


def reused_note(record: Path) -> str:
    """How much of the build was taken from the previous one, for its summary line."""
    from stacks_offers.reuse import load_pages

    saved = load_pages(str(record))
    pages, reused = len(saved.get("records", {})), saved.get("reused", 0)
    if not reused:
        return ""
    return f"; {reused} of {pages} pages unchanged, taken from the previous build"


def tell_placeholders(settings: dict) -> None:
    left = placeholders(settings)
    if left:
        print("Still set to the examples a new site comes with (see docs/deploy.md):")
        for line in left:
            print(f"  - {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-s",
        "--settings",
        default="pelicanconf.py",
        type=Path,
        help="Pelican settings file (default: pelicanconf.py)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="output",
        type=Path,
        help="the link to swap the new build in at (default: output)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail, leaving output/ untouched, on any warning or error",
    )
    parser.add_argument("--siteurl", help="override SITEURL (and FEED_DOMAIN)")
    parser.add_argument("--content", type=Path, help="override PATH, the content folder")
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="skip the Pagefind search index (the search page will not work)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="build everything anew (pages, per-item work, the search index), reusing "
        "nothing from earlier builds, even when nothing changed since the build in --output",
    )
    args = parser.parse_args(argv)
    extra: dict = {}
    if args.siteurl is not None:
        extra.update(SITEURL=args.siteurl, FEED_DOMAIN=args.siteurl)
    if args.content is not None:
        extra["PATH"] = str(args.content.absolute())
    output = args.output.absolute()
    return build(
        args.settings, output, args.strict, extra, search=not args.no_search, full=args.full
    )


if __name__ == "__main__":
    code = main()
    # The build is over and its files are closed: leave without freeing a
    # large site's objects one by one (a few tenths of a second at 2,000 items).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
