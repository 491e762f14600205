"""Check every link in a built site: pages, feeds, sitemap, src/srcset, #fragments.

A plain function over an output folder, so it can be run on the demo site and
on a copy with a planted broken link alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree

from bs4 import BeautifulSoup

HTML_ATTRIBUTES = {"href", "src", "srcset", "poster", "data"}
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass(frozen=True)
class Broken:
    source: str
    url: str
    reason: str


def _links_in_html(text: str) -> list[str]:
    soup = BeautifulSoup(text, "html.parser")
    links = []
    for tag in soup.find_all(True):
        for attribute in HTML_ATTRIBUTES & set(tag.attrs):
            value = tag[attribute]
            if attribute == "srcset":
                links += [part.strip().split()[0] for part in value.split(",") if part.strip()]
            elif attribute == "data" and tag.name != "object":
                continue
            else:
                links.append(value if isinstance(value, str) else " ".join(value))
    return links


def _links_in_xml(text: str) -> list[str]:
    root = ElementTree.fromstring(text)
    links = [el.get("href") for el in root.iter(f"{ATOM}link") if el.get("href")]
    links += [el.text.strip() for el in root.iter(f"{SITEMAP}loc") if el.text]
    links += [el.text.strip() for el in root.iter("link") if el.text]  # RSS
    return links


class _Ids:
    """ids (and <a name>) of each page, parsed once."""

    def __init__(self) -> None:
        self.cache: dict[Path, set[str]] = {}

    def of(self, path: Path) -> set[str]:
        if path not in self.cache:
            soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids = {t["id"] for t in soup.find_all(id=True)}
            ids |= {t["name"] for t in soup.find_all("a", attrs={"name": True})}
            self.cache[path] = ids
        return self.cache[path]


def _page_url(output: Path, path: Path, siteurl: str) -> str:
    relative = path.relative_to(output).as_posix()
    if relative.endswith("index.html"):
        relative = relative[: -len("index.html")]
    return f"{siteurl}/{relative}"


def _target(output: Path, url: str, siteurl: str) -> Path | None:
    """The file a site URL points at, or None for an outside URL."""
    if not url.startswith(siteurl + "/") and url != siteurl:
        return None
    path = unquote(urlsplit(url).path)
    base = urlsplit(siteurl).path.rstrip("/")
    path = path[len(base) :].lstrip("/")
    candidate = output / path
    if path == "" or path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate


def check_links(output: Path, siteurl: str) -> list[Broken]:
    """Every link in `output` that points inside the site must resolve."""
    broken: list[Broken] = []
    ids = _Ids()
    files = sorted(p for p in output.rglob("*") if p.suffix in (".html", ".xml") and p.is_file())
    for path in files:
        text = path.read_text(encoding="utf-8")
        source = path.relative_to(output).as_posix()
        try:
            links = _links_in_html(text) if path.suffix == ".html" else _links_in_xml(text)
        except ElementTree.ParseError as exc:
            broken.append(Broken(source, "", f"not well-formed XML: {exc}"))
            continue
        base = _page_url(output, path, siteurl)
        for link in links:
            if link.startswith(("mailto:", "tel:")):
                continue
            absolute = urljoin(base, link.strip())
            if urlsplit(absolute).scheme not in ("http", "https"):
                broken.append(Broken(source, link, "not an http(s) link"))
                continue
            target = _target(output, absolute, siteurl)
            if target is None:
                continue  # outside the site: never fetched (no network in builds or tests)
            if not target.is_file():
                broken.append(Broken(source, link, f"no file {target.relative_to(output)}"))
                continue
            fragment = urlsplit(absolute).fragment
            if fragment and target.suffix == ".html" and unquote(fragment) not in ids.of(target):
                broken.append(Broken(source, link, f"no id {fragment!r} in {target.name}"))
    return broken
