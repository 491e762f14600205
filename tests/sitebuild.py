"""Build a real site with Pelican for the tests, and read what it wrote."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from tools.build import run_pelican

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


def build(
    output: Path,
    content: Path = CONTENT,
    settings: Path = PUBLISHCONF,
    **overrides,
) -> Site:
    """Build `content` with `settings` into `output` (absolute URLs under SITEURL)."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    extra = {"PATH": str(content), "SITEURL": SITEURL, "FEED_DOMAIN": SITEURL, **overrides}
    collector = run_pelican(settings, output, extra)
    return Site(output=output, records=collector.records)


def copy_content(destination: Path) -> Path:
    """A private copy of the demo content that a test may change."""
    shutil.copytree(CONTENT, destination)
    return destination
