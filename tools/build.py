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
import fcntl
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The plugins (pelican/plugins/, with stacks_offers) and the speed layer
# (plugins/), as the settings file does; before Pelican is imported, which
# adds this folder's pelican/plugins/ to its namespace then.
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "plugins")) if p not in sys.path]

VERSIONS_DIR = ".site-versions"
PARTIAL_SUFFIX = ".partial"
KEEP_VERSIONS = 2  # the current site and the one before it, for a quick rollback

# Test hook: the tests that kill a publish half-way set SITE_BUILD_PAUSE_AT to
# one of these names; the build stops there, touches SITE_BUILD_PAUSE_FILE and
# waits to be killed.
CHECKPOINTS = ("build", "staged", "swap", "rebuild")  # rebuild: the dev server

logger = logging.getLogger("tools.build")


# The example values a new clone comes with. A build with any of them still set
# works, and says once which are left and where to change them.
PLACEHOLDER_DOMAIN = "stacks-and-offers.example.org"
PLACEHOLDER_FIXES = {
    "SITEURL": "make publish SITEURL=https://your.site (or export SITEURL, or publishconf.py)",
    "THREADS_REPLY_EMAIL": 'pelicanconf.py: a mailbox you read, or "" for no Reply links',
}


def placeholders(settings: dict) -> list[str]:
    """The settings still holding the example values, each with where to change it."""
    return [
        f"{key} is {settings[key]!r}: {fix}"
        for key, fix in PLACEHOLDER_FIXES.items()
        if PLACEHOLDER_DOMAIN in str(settings.get(key) or "")
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
    for link in root.glob(".output-link-*"):
        pid = link.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            link.unlink(missing_ok=True)


def prune(versions: Path, current: Path) -> None:
    """Keep the current version and the KEEP_VERSIONS - 1 newest others."""
    done = sorted(
        (p for p in versions.iterdir() if p.is_dir() and not p.name.endswith(PARTIAL_SUFFIX)),
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
            shutil.rmtree(p, ignore_errors=True)


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


def run_pelican(settings_file: Path, staging: Path, extra: dict) -> Collector:
    """Build once into `staging`; return every warning and error logged."""
    from pelican import Pelican, signals
    from pelican.log import init as init_logging
    from pelican.settings import read_settings

    init_logging(level=logging.WARNING)
    forget_logged_messages()
    forget_stopped_build()  # whatever ran in this process before, the sitemap starts empty
    collector = Collector()
    logging.getLogger().addHandler(collector)

    if os.environ.get("SITE_BUILD_PAUSE_AT") == "build":
        written = []

        def pause_after_some_files(path, context):  # noqa: ARG001 - signal API
            written.append(path)
            if len(written) == 5:
                checkpoint("build")

        signals.content_written.connect(pause_after_some_files, weak=False)

    override = {"OUTPUT_PATH": str(staging), "DELETE_OUTPUT_DIRECTORY": False, **extra}
    try:
        settings = read_settings(str(settings_file), override=override)
        collector.settings = settings
        Pelican(settings).run()
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
    return collector


def build_search_index(site: Path) -> tuple[str | None, str]:
    """Index the built site with Pagefind into site/pagefind/.

    Only elements marked data-pagefind-body (the main text of posts, threads
    and replies) are indexed: navigation, listings and footers are not.
    Returns (an error or None, a line saying what it cost).
    """
    started = time.monotonic()
    command = [
        sys.executable,
        "-m",
        "pagefind",
        "--site",
        str(site),
        "--output-subdir",
        "pagefind",
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said = process.stdout.read()
    process.stdout.close()
    # Its own peak (and its children's), not that of every child this process reaped.
    _pid, status, usage = os.wait4(process.pid, 0)
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode
    elapsed = time.monotonic() - started
    cost = f"Search index (Pagefind) in {elapsed:.1f} s, peak {usage.ru_maxrss / 1024:.0f} MiB"
    if returncode != 0:
        detail = said.strip().splitlines()[-5:]
        return f"Pagefind failed (exit {returncode}): {' | '.join(detail)}", cost
    return None, cost


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


def build(settings_file: Path, output: Path, strict: bool, extra: dict, search: bool = True) -> int:
    versions = output.parent / VERSIONS_DIR
    versions.mkdir(exist_ok=True)
    with one_build_at_a_time(versions):
        return _build(settings_file, output, strict, extra, search)


def _build(settings_file: Path, output: Path, strict: bool, extra: dict, search: bool) -> int:
    root = output.parent
    versions = root / VERSIONS_DIR
    clean_stale(versions, root)

    stamp = time.strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{os.getpid()}"
    staging = versions / f"{name}{PARTIAL_SUFFIX}"
    staging.mkdir()

    started = time.monotonic()
    collector = run_pelican(settings_file, staging, extra)
    elapsed = time.monotonic() - started
    # This process's peak, and the largest of the workers it forked (reaped by now).
    peaks = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )
    if search and not (strict and collector.records):
        error, cost = build_search_index(staging)
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
        what = "Not built" if stopped else "Not published"
        print(f"\n{what}: fix the problems above. {output}/ is unchanged.", file=sys.stderr)
        return 1

    checkpoint("staged")
    final = versions / name
    staging.rename(final)
    swap_in(output, final)
    prune(versions, final)
    print(
        f"Built {output}/ -> {VERSIONS_DIR}/{name} in {elapsed:.1f} s, peak "
        f"{peaks[0]:.0f} MiB (largest worker {peaks[1]:.0f} MiB)"
        + (" (with the problems listed above)" if problems else "")
    )
    left = placeholders(collector.settings)
    if left:
        print("Still set to the examples a new site comes with (see docs/deploy.md):")
        for line in left:
            print(f"  - {line}")
    return 0


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
    args = parser.parse_args(argv)
    extra: dict = {}
    if args.siteurl is not None:
        extra.update(SITEURL=args.siteurl, FEED_DOMAIN=args.siteurl)
    if args.content is not None:
        extra["PATH"] = str(args.content.absolute())
    output = args.output.absolute()
    return build(args.settings, output, args.strict, extra, search=not args.no_search)


if __name__ == "__main__":
    sys.exit(main())
