"""Build a real site with Pelican for the tests, and read what it wrote."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from tools.build import build_search_index, run_pelican

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
PUBLISHCONF = ROOT / "publishconf.py"
PELICANCONF = ROOT / "pelicanconf.py"
SITEURL = "https://site.test"


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
        found, todo, seen = [], [url], set()
        while todo:
            page = todo.pop()
            if page in seen:
                continue
            seen.add(page)
            soup = self.soup(page)
            found += soup.select("li.reply")
            todo += [a["href"] for a in soup.select("a.continue-thread")]
            todo += [a["href"] for a in soup.select('nav.reply-pagination a[rel="next"]')]
        return found

    def reply_ids(self, url: str) -> list[str]:
        return [li["id"].removeprefix("reply-") for li in self.reply_elements(url)]

    def main_jsonld(self, url: str) -> dict:
        """The page's one JSON-LD block other than its breadcrumbs."""
        [data] = [d for d in self.jsonld(url) if d.get("@type") != "BreadcrumbList"]
        return data


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
) -> subprocess.CompletedProcess:
    """Run `build_command` as a user would: this environment plus `env`, less `unset`."""
    environment = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    return subprocess.run(
        build_command(output, content, *extra, settings=settings, siteurl=siteurl),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=environment,
    )


def run_tool(
    script: str, *args, env: dict | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """Run one of the project's commands (tools/<script>) as a user would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


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
