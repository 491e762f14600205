"""Build a real site with Pelican for the tests, and read what it wrote."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import importlib
import json
import logging
import os
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from bs4 import BeautifulSoup

from tools.build import build_search_index, run_pelican

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
PUBLISHCONF = ROOT / "publishconf.py"
PELICANCONF = ROOT / "pelicanconf.py"
SITEURL = "https://site.test"


def _keep_vocabulary_loaded() -> None:
    """The tests build many sites in one process: they keep the topic vocabulary
    between builds while its files are the same, as the dev server does (and
    the commands they fork inherit it)."""
    from pelican.plugins.topics import plugin  # once tools.build has set the plugins' path

    plugin.KEEP_LOADED = True


_keep_vocabulary_loaded()


@dataclass
class Site:
    output: Path
    records: list[logging.LogRecord]
    siteurl: str = SITEURL

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]

    def path(self, url: str) -> Path:
        """The file behind a site URL (absolute or site-relative)."""
        if url.startswith(self.siteurl):
            url = url[len(self.siteurl) :]
        url = url.split("#", 1)[0].lstrip("/")
        target = self.output / url
        return target / "index.html" if url == "" or url.endswith("/") else target

    def soup(self, url: str) -> BeautifulSoup:
        return BeautifulSoup(self.path(url).read_text(encoding="utf-8"), "html.parser")

    def html_files(self) -> list[Path]:
        return sorted(self.output.rglob("*.html"))

    def jsonld(self, url: str) -> list[dict]:
        soup = self.soup(url)
        return [json.loads(s.string) for s in soup.select('script[type="application/ld+json"]')]

    def reply_elements(self, url: str) -> list:
        """Every reply element of a post or thread, across its numbered pages of
        replies and its continuation pages."""

        def read(page: str) -> tuple[list, list[str]]:
            soup = self.soup(page)
            links = [a["href"] for a in soup.select("a.continue-thread")]
            links += [a["href"] for a in soup.select('nav.reply-pagination a[rel="next"]')]
            return soup.select("li.reply"), links

        return self._across_pages(url, read)

    def reply_ids(self, url: str) -> list[str]:
        """The ids of `reply_elements`, in the same order, read by the parser
        BeautifulSoup uses here (`html.parser`) without building the tree: a
        thread of 10,000 replies is 13 MB of pages, which BeautifulSoup takes
        about 16 s to build and this about 3 s to read (test_threads_site.py
        checks that the two agree, on numbered pages of replies too)."""

        def read(page: str) -> tuple[list[str], list[str]]:
            found = _ReplyIds()
            found.feed(self.path(page).read_text(encoding="utf-8"))
            found.close()
            return found.ids, found.continued + found.next

        return self._across_pages(url, read)

    def _across_pages(self, url: str, read) -> list:
        found, todo, seen = [], [url], set()
        while todo:
            page = todo.pop()
            if page in seen:
                continue
            seen.add(page)
            items, links = read(page)
            found += items
            todo += links
        return found

    def main_jsonld(self, url: str) -> dict:
        """The page's one JSON-LD block other than its breadcrumbs."""
        [data] = [d for d in self.jsonld(url) if d.get("@type") != "BreadcrumbList"]
        return data


class _ReplyIds(HTMLParser):
    """What `Site.reply_ids` reads of a page: the ids of `li.reply` elements,
    the links of `a.continue-thread` and of `nav.reply-pagination a[rel="next"]`,
    each in document order (as BeautifulSoup's `select` gives them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.continued: list[str] = []
        self.next: list[str] = []
        self._navs: list[bool] = []  # open <nav> elements: whether each is the pagination

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "li" and "reply" in classes:
            self.ids.append(attributes["id"].removeprefix("reply-"))
        elif tag == "nav":
            self._navs.append("reply-pagination" in classes)
        elif tag == "a":
            # `rel` is a list of words to BeautifulSoup, compared without case;
            # a link without `href` fails as it does there (KeyError).
            if "continue-thread" in classes:
                self.continued.append(attributes["href"])
            if (attributes.get("rel") or "").lower().split() == ["next"] and any(self._navs):
                self.next.append(attributes["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._navs:
            self._navs.pop()


def build(
    output: Path,
    content: Path = CONTENT,
    settings: Path = PUBLISHCONF,
    search: bool = False,
    **overrides,
) -> Site:
    """Build `content` with `settings` into `output` (absolute URLs under SITEURL).

    With `search`, also build the Pagefind index, as `make publish` does.
    """
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    extra = {"PATH": str(content), "SITEURL": SITEURL, "FEED_DOMAIN": SITEURL, **overrides}
    collector = run_pelican(settings, output, extra)
    if search:
        error, _cost = build_search_index(output)
        if error:
            collector.records.append(
                logging.makeLogRecord(
                    {"levelno": logging.ERROR, "levelname": "ERROR", "msg": error}
                )
            )
    return Site(output=output, records=collector.records)


def copy_content(destination: Path) -> Path:
    """A private copy of the demo content that a test may change."""
    shutil.copytree(CONTENT, destination)
    return destination


def build_local(output: Path, content: Path = CONTENT, search: bool = False, **overrides) -> Site:
    """Build with the local settings (pelicanconf.py) but absolute URLs, as served."""
    return build(
        output,
        content=content,
        settings=PELICANCONF,
        search=search,
        SITEURL=SITEURL,
        FEED_DOMAIN=SITEURL,
        RELATIVE_URLS=False,
        **overrides,
    )


def build_command(
    output: Path, content: Path, *extra: str, settings: Path = PUBLISHCONF, siteurl=SITEURL
) -> list[str]:
    """`make publish`'s command (tools/build.py) building `content` into `output`;
    `siteurl=None` leaves SITEURL to the settings and the environment."""
    command = [sys.executable, str(ROOT / "tools" / "build.py"), "--settings", str(settings)]
    command += ["--output", str(output), "--content", str(content)]
    if siteurl is not None:
        command += ["--siteurl", siteurl]
    return [*command, *map(str, extra)]


def run_build(
    output: Path,
    content: Path,
    *extra: str,
    settings: Path = PUBLISHCONF,
    siteurl=SITEURL,
    env: dict | None = None,
    unset: tuple[str, ...] = (),
    timeout: int = 600,
    fresh: bool = False,
) -> subprocess.CompletedProcess:
    """`build_command` as a user runs it (`run_command`): this environment plus
    `env`, less `unset`."""
    environment = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    command = build_command(output, content, *extra, settings=settings, siteurl=siteurl)
    return run_command(command, environment, timeout, fresh)


def run_tool(
    script: str, *args, env: dict | None = None, timeout: int = 600, fresh: bool = False
) -> subprocess.CompletedProcess:
    """Run one of the project's commands (tools/<script>) as a user would (`run_command`)."""
    command = [sys.executable, str(ROOT / "tools" / script), *map(str, args)]
    return run_command(command, {**os.environ, **(env or {})}, timeout, fresh)


def run_command(
    command: list[str], environment: dict, timeout: int, fresh: bool = False
) -> subprocess.CompletedProcess:
    """`python tools/<script> args...` in ROOT with `environment`: its exit
    status, output and errors, as `subprocess.run` gives them.

    With `fresh`, in a new Python process. Otherwise in a process forked from
    this one, which runs the script as Python would (`runpy`, as `__main__`,
    with its arguments, environment (TMPDIR and TZ read again), working folder,
    the path a new interpreter has, and logging as a new process has it), without paying
    again for the interpreter's start and the imports this process has made
    (0.7 s a build). Tests that measure the process itself (its memory, its
    terminal) ask for `fresh`; `make publish`'s own start is tested through
    `make` (test_publish.py)."""
    python = {k: v for k, v in environment.items() if k.startswith("PYTHON")}
    if python != {k: v for k, v in os.environ.items() if k.startswith("PYTHON")}:
        fresh = True  # PYTHONPATH and the like act as the interpreter starts
    if fresh or not hasattr(os, "fork"):
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=environment
        )
    script, args = command[1], command[2:]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        search_path, warning_filters = _new_interpreter()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the tests
            _run_script(script, args, environment, (search_path, warning_filters), out, err)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(command, timeout)
            time.sleep(0.01)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            command,
            os.waitstatus_to_exitcode(status),
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


@functools.cache
def _new_interpreter() -> tuple[tuple[str, ...], list]:
    """A new interpreter's sys.path (less its first entry, the script's folder)
    and its warning filters (action, message, category, module, line)."""
    done = subprocess.run(
        [sys.executable, "-c", _NEW_INTERPRETER],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found = json.loads(done.stdout)
    return tuple(found["path"]), found["warnings"]


_NEW_INTERPRETER = """
import json, re, sys, warnings
def text(part):  # a filter's text is matched whole, a pattern from its start
    if isinstance(part, str):
        return re.escape(part) + r"\\Z"
    return None if part is None else part.pattern
print(json.dumps({
    "path": sys.path[1:],
    "warnings": [
        [action, text(message), category.__module__, category.__qualname__, text(module), line]
        for action, message, category, module, line in warnings.filters
    ],
}))
"""


def _warn_as_a_new_interpreter(filters: list) -> None:
    """The warning filters a new interpreter starts with, and warnings shown on
    stderr (pytest records them in a list, which the child would keep)."""
    warnings.resetwarnings()
    for action, message, module_of, category, module, line in reversed(filters):
        kind = getattr(importlib.import_module(module_of), category)
        warnings.filterwarnings(action, message or "", kind, module or "", line)

    def show(message) -> None:
        with contextlib.suppress(OSError):
            (message.file or sys.stderr).write(
                warnings.formatwarning(
                    message.message,
                    message.category,
                    message.filename,
                    message.lineno,
                    message.line,
                )
            )

    warnings._showwarnmsg_impl = show
    warnings.showwarning = warnings._showwarning_orig


def _run_script(script: str, args, environment: dict, interpreter, out, err) -> None:
    code = 1
    try:
        # What this process holds is never freed in the child: collecting it would
        # write to (and so copy) every page of it.
        gc.freeze()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        os.chdir(ROOT)
        os.environ.clear()
        os.environ.update(environment)
        # What this process worked out from its own environment, worked out anew.
        tempfile.tempdir = None  # TMPDIR
        time.tzset()  # TZ
        sys.argv = [script, *args]
        search_path, warning_filters = interpreter
        sys.path[:] = [os.path.dirname(script), *search_path]
        _warn_as_a_new_interpreter(warning_filters)
        root = logging.getLogger()  # a new process has no handlers (pytest's are here)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
    except BaseException:  # as Python reports an uncaught error
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def theme_script(path: Path, tag) -> bool:
    """A <script> the theme itself writes: JSON-LD anywhere, and on the search and Ask
    pages exactly Pagefind's UI and its starter. Any other script came from somewhere else."""
    if tag.get("type") == "application/ld+json":
        return True
    if path.parent.name not in ("search", "ask"):
        return False
    if tag.get("src"):
        # Pagefind's UI, and the list of the index's other parts (tools/search_index.py).
        return tag["src"] in (f"{SITEURL}/pagefind/pagefind-ui.js", f"{SITEURL}/pagefind/parts.js")
    return (tag.string or "").strip().startswith('window.addEventListener("DOMContentLoaded"')


def snapshot(output: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file of a built site (through the `output` link) by path, with its hash,
    and every folder ("folder": an empty one left over counts); `skip` leaves out
    top-level folders (Pagefind's: two runs of Pagefind 1.5 on the same pages write
    the same index under different hashed names)."""
    root = output.resolve()
    return {
        p.relative_to(root).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        )
        for p in sorted(root.rglob("*"))
        if p.relative_to(root).parts[0] not in skip
    }
