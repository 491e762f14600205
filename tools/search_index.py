"""The site's search index: Pagefind, in parts of a bounded size.

Pagefind holds everything it indexes in memory until it writes the index:
about 250 MiB per 1,000 of this site's pages, so a large forum could not be
indexed on a small machine. Here it reads only the pages that carry reader
text (posts, threads, their continuation pages and pages: the ones marked
`data-pagefind-body`; listings are never indexed), and a site with more of
them than `SEARCH_SHARD_SIZE` (default 1,000) is indexed in parts of at most
that many pages, one Pagefind run after another, so the peak is one part's,
however large the site grows, and an edit costs one part's run (Pagefind takes
about 3 ms a page here, half of it writing the index).

Each part is a Pagefind bundle: the first at `pagefind/` (where the search
page loads Pagefind from), the others at `pagefind/part-2/`, `pagefind/part-3/`
... `pagefind/parts.js` lists them; the search page merges them at search
time with Pagefind's `mergeIndex`, so results and filters come from every
part (the search page loads Pagefind's WebAssembly once, from the first; each
other part costs its small entry and meta files, and the index chunks of the
words searched). A part is a year of posts and threads, or, for a year of
more than SEARCH_SHARD_SIZE pages, one of the fewest runs of at most that
many, as even as can be, in address order; so a new item changes the parts of
its year and leaves the others as they were.

A site with fewer pages is indexed in one run, as before, and `parts.js`
lists no other part.

An edit re-indexes only the parts it touched: `pagefind/parts.json` records
each part's pages and a digest of their bytes, and a part whose pages are what
they were in the previous build (the one `output/` points at) is copied from
it (hard links) instead of being indexed again.

What parts change: each part is searched on its own and the results joined,
so a query word that no page of a part contains is dropped from the query in
that part (Pagefind ignores words its index does not know): "salary Denver"
finds, in a part without "Denver", its pages about salary. Ranking uses each
part's own word statistics. Filters and one-word queries give what one index
gives (tests/test_search_parts.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stacks_offers.reuse import link_or_copy

SHARD_SIZE_ENV = "SEARCH_SHARD_SIZE"
DEFAULT_SHARD_SIZE = 1000
BUNDLE = "pagefind"
PARTS_SCRIPT = "parts.js"
MARKER = b"data-pagefind-body"
YEAR = re.compile(r"\d{4}")


def shard_size() -> int:
    raw = os.environ.get(SHARD_SIZE_ENV, "")
    if not raw:
        return DEFAULT_SHARD_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise SystemExit(
            f"{SHARD_SIZE_ENV}={raw!r}: set it to a whole number of pages, e.g. 1000"
        ) from None
    if size < 1:
        raise SystemExit(f"{SHARD_SIZE_ENV}={raw!r}: set it to 1 or more")
    return size


def pages_with_reader_text(site: Path) -> list[str]:
    """Relative paths of the HTML files Pagefind would index, in address order."""
    return sorted(survey(site)[0])


def survey(site: Path, previous: Path | None = None, known: dict | None = None):
    """The HTML files Pagefind would index, with a digest of each, and what
    was learnt of every HTML file: ({page: digest}, {path: [marked, digest, inode]}).

    A file that is the previous build's own file is not read again: what
    `known` (the previous build's survey) says of it holds. An incremental
    build hard-links its unchanged pages from the previous build, so such a
    page has the inode `known` noted; no other file can have it while the
    previous build's folder (`previous`, which `output` points at) is there
    and on the same file system, and nothing rewrites the previous build's
    files (a build writes a new file in place of a linked one, never through
    the link). The inode comes with the folder's listing: no file is looked
    up twice."""
    marked: dict[str, str] = {}
    seen: dict[str, list] = {}
    try:
        same_disk = previous is not None and os.stat(site).st_dev == os.stat(previous).st_dev
    except OSError:
        same_disk = False
    known = (known or {}) if same_disk else {}
    folders = [(os.fspath(site), "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not (prefix == "" and name == BUNDLE):
                        folders.append((entry.path, prefix + name + os.sep))
                    continue
                if not name.endswith(".html"):
                    continue
                page = prefix + name
                inode = entry.inode()
                noted = known.get(page)
                if noted is not None and len(noted) == 3 and noted[2] == inode:
                    entry_seen = noted
                else:
                    with open(entry.path, "rb") as handle:
                        data = handle.read()
                    digest = hashlib.blake2b(data, digest_size=20).hexdigest()
                    entry_seen = [MARKER in data, digest, inode]
                seen[page] = entry_seen
                if entry_seen[0]:
                    marked[page] = entry_seen[1]
    return marked, seen


def plan_parts(pages: list[str], size: int) -> list[list[str]]:
    """The parts to index: everything at once when it fits, else by year
    (pages outside a year folder together), each year in runs of `size`."""
    if len(pages) <= size:
        return [pages] if pages else []
    groups: dict[str, list[str]] = {}
    for page in pages:
        top = page.split(os.sep, 1)[0]
        groups.setdefault(top if YEAR.fullmatch(top) else "", []).append(page)
    parts = []
    for key in sorted(groups):
        parts += even_runs(groups[key], size)
    return parts


def even_runs(members: list[str], size: int) -> list[list[str]]:
    """`members` in as few runs of at most `size` as can be, of lengths that
    differ by one at most (a year of 1,300 pages at 1,000 a part: 650 and 650,
    not 1,000 and a part of 300 whose word statistics rank poorly)."""
    runs = -(-len(members) // size)
    if runs <= 1:
        return [members] if members else []
    base, extra = divmod(len(members), runs)
    out, start = [], 0
    for n in range(runs):
        end = start + base + (n < extra)
        out.append(members[start:end])
        start = end
    return out


def part_folder(number: int) -> str:
    """Where part `number` (from 1) is written, relative to the site."""
    return BUNDLE if number == 1 else f"{BUNDLE}/part-{number}"


def pagefind_command() -> list[str]:
    """How Pagefind is run: the binary the `pagefind` package itself would hand
    over to (PAGEFIND_BINARY_PATH, else its extended binary, else the pinned
    `pagefind_bin`'s, else one on PATH), run as it is rather than through
    `python -m pagefind` (an interpreter started only to hand over: 0.13 s a
    run, and a run for each part); through it when there is none (it says what
    is missing). A relative PAGEFIND_BINARY_PATH is read from the working
    folder, as the package reads it."""
    from pagefind.service import get_executable

    found = get_executable()
    return [str(found.resolve())] if found is not None else [sys.executable, "-m", "pagefind"]


def _run_pagefind(
    site: Path, output: Path, tick, glob: str | None = None
) -> tuple[int, str, float]:
    """One Pagefind run (over the pages `glob` names, if given): (exit code,
    what it said, its peak in MiB)."""
    command = [
        *pagefind_command(),
        "--site",
        str(site),
        "--output-path",
        str(output),
        "--quiet",
    ]
    if glob is not None:
        command += ["--glob", glob]
    with tempfile.TemporaryFile(mode="w+") as said:
        try:
            process = subprocess.Popen(command, stdout=said, stderr=subprocess.STDOUT, text=True)
        except OSError as exc:  # reported as a failed run, like any other
            return (
                127,
                f"could not start {command[0]} ({exc.strerror}): check PAGEFIND_BINARY_PATH "
                "if it is set, else reinstall the pinned packages (remove .venv, then run "
                "`make publish`)",
                0.0,
            )
        # Its own peak (and its children's), not that of every child this process reaped.
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG if tick else 0)
            if pid:
                break
            tick()
            time.sleep(0.1)
        said.seek(0)
        output_text = said.read()
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode
    return returncode, output_text, usage.ru_maxrss / 1024


GLOB_PLAIN = re.compile(r"[A-Za-z0-9._/-]+")  # what a Pagefind (wax) glob reads as itself
GLOB_LIMIT = 100_000  # bytes: Linux takes an argument of at most 128 KiB


def glob_of(pages: list[str]) -> str | None:
    """A Pagefind `--glob` that names exactly `pages` (`{a,b,...}`), or None when
    a path holds anything but letters, digits, `.`, `_`, `-` and `/` (wax, the
    glob library, reads `{},[]*?!:()<>$` and more as syntax) or the list is too
    long for one argument: the part is then indexed from a folder of links to
    its pages."""
    if not pages or os.sep != "/" or not all(GLOB_PLAIN.fullmatch(p) for p in pages):
        return None
    glob = "{" + ",".join(pages) + "}"
    return glob if len(glob) <= GLOB_LIMIT else None


def _linked_copy(site: Path, pages: list[str], into: Path) -> None:
    """A folder holding just `pages` (hard links, or copies across file systems)."""
    for page in pages:
        target = into / page
        target.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(site / page, target)


def write_parts_script(site: Path, count: int) -> None:
    """pagefind/parts.js: the other parts' bundle paths, for `mergeIndex`.

    Relative to the script's own address, so the site works under any SITEURL
    and in the local preview."""
    others = [f"part-{n}/" for n in range(2, count + 1)]
    script = (
        "// Written by the build (tools/search_index.py): the other parts of the search\n"
        "// index, for Pagefind's mergeIndex. Empty when the index is in one part.\n"
        "window.SEARCH_PARTS = (function (script) {\n"
        "  var base = script ? script.src : document.baseURI;\n"
        f"  return {json.dumps(others)}.map(function (part) {{\n"
        "    return { bundlePath: new URL(part, base).pathname };\n"
        "  });\n"
        "})(document.currentScript);\n"
    )
    (site / BUNDLE / PARTS_SCRIPT).write_text(script, encoding="utf-8")


MANIFEST = "parts.json"


def pagefind_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("pagefind")
    except metadata.PackageNotFoundError:
        return "unknown"


def part_digest(pages: list[str], digests: dict[str, str]) -> str:
    """One digest of a part's pages: their paths and the digests of their bytes."""
    digest = hashlib.blake2b(digest_size=20)
    for page in pages:
        digest.update(page.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(bytes.fromhex(digests[page]))
    return digest.hexdigest()


def previous_manifest(previous: Path | None, size: int) -> dict:
    """What the previous build's index recorded, if it was made the same way."""
    if previous is None:
        return {}
    try:
        manifest = json.loads((previous / BUNDLE / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if manifest.get("size") != size or manifest.get("pagefind") != pagefind_version():
        return {}
    return manifest


def _load_survey(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _copy_part(previous: Path, site: Path, number: int) -> bool:
    """Hard-link part `number`'s bundle from the previous build; False if it is not whole."""
    source, target = previous / part_folder(number), site / part_folder(number)
    if not (source / "pagefind-entry.json").is_file():
        return False

    def skip(folder, names):
        # Part 1's folder holds the other parts and the site's own lists: not its files.
        if Path(folder) == source and number == 1:
            return [n for n in names if n.startswith("part-") or n in (MANIFEST, PARTS_SCRIPT)]
        return []

    shutil.copytree(source, target, ignore=skip, copy_function=link_or_copy, dirs_exist_ok=True)
    return True


def build_search_index(
    site: Path,
    tick=None,
    previous: Path | None = None,
    survey_file: Path | None = None,
    previous_survey: Path | None = None,
) -> tuple[str | None, str]:
    """Index the built site with Pagefind into site/pagefind/ (and its parts).

    Only elements marked data-pagefind-body (the main text of posts, threads
    and replies) are indexed: navigation, listings and footers are not.
    `tick`, if given, is called about ten times a second while Pagefind runs.
    `previous`, the last build's folder: its parts whose pages are unchanged
    are copied from it, not indexed again. `survey_file` is where to keep what
    was learnt of each HTML file (outside the site: it is not published), and
    `previous_survey` the last build's: its pages' files are not read again.
    Returns (an error or None, a line saying what it cost).
    """
    started = time.monotonic()
    site = Path(site)
    size = shard_size()
    manifest = previous_manifest(previous, size)
    known = _load_survey(previous_survey) if manifest else {}
    digests, seen = survey(site, previous, known)
    parts = plan_parts(sorted(digests), size)
    before = {part["number"]: part for part in manifest.get("parts", [])}
    record, stale, unchanged = [], [], []
    for number, members in enumerate(parts, start=1):
        digest = part_digest(members, digests)
        record.append({"number": number, "digest": digest, "pages": len(members)})
        kept = before.get(number)
        (unchanged if kept and kept.get("digest") == digest else stale).append(number)
    # The unchanged parts are linked from the last build while Pagefind indexes
    # the others (it adds to its output folder, and each part has a folder of its own).
    with ThreadPoolExecutor(max_workers=1) as copier:
        copying = copier.submit(lambda: [n for n in unchanged if not _copy_part(previous, site, n)])
        error, peak = _index_parts(site, parts, stale, tick)
        not_whole = copying.result()  # raises what the copying raised
    if error is None and not_whole:  # not whole in the last build: indexed anew
        stale += not_whole
        error, more = _index_parts(site, parts, not_whole, tick)
        peak = max(peak, more)
    indexed = len(stale)
    if error is not None:
        return error, _cost(started, len(parts), indexed, peak)
    if not parts:  # nothing to index: Pagefind still writes its (empty) bundle
        code, said, peak = _run_pagefind(site, site / BUNDLE, tick)
        if code != 0:
            return _failed(code, said), _cost(started, 1, 1, peak)
    write_parts_script(site, max(len(parts), 1))
    manifest = {"size": size, "pagefind": pagefind_version(), "parts": record}
    (site / BUNDLE / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if survey_file is not None:
        survey_file.write_text(json.dumps(seen, separators=(",", ":")), encoding="utf-8")
    return None, _cost(started, len(parts), indexed, peak)


def _index_parts(
    site: Path, parts: list[list[str]], numbers: list[int], tick
) -> tuple[str | None, float]:
    """Pagefind over each of the parts `numbers` (from 1), one after another:
    (the first error or None, the largest peak in MiB)."""
    peak = 0.0
    for number in numbers:
        members = parts[number - 1]
        glob = glob_of(members) if len(parts) > 1 else None
        if len(parts) == 1:
            # One run over the whole site: Pagefind itself keeps to the marked pages.
            code, said, used = _run_pagefind(site, site / BUNDLE, tick)
        elif glob is not None:  # the part's pages, where they are
            code, said, used = _run_pagefind(site, site / part_folder(number), tick, glob)
        else:
            with tempfile.TemporaryDirectory(prefix=".search-part-", dir=site.parent) as folder:
                _linked_copy(site, members, Path(folder))
                code, said, used = _run_pagefind(Path(folder), site / part_folder(number), tick)
        peak = max(peak, used)
        if code != 0:
            where = f" (part {number} of {len(parts)})" if len(parts) > 1 else ""
            return _failed(code, said, where), peak
    return None, peak


def _failed(code: int, said: str, where: str = "") -> str:
    detail = said.strip().splitlines()[-5:]
    return f"Pagefind failed{where} (exit {code}): {' | '.join(detail)}"


def _cost(started: float, parts: int, indexed: int, peak: float) -> str:
    elapsed = time.monotonic() - started
    how = f" in {parts} parts (peak of one part)" if parts > 1 else ""
    if indexed < parts:
        how += f", {parts - indexed} of {parts} unchanged and kept from the last build"
    return f"Search index (Pagefind) in {elapsed:.1f} s{how}, peak {peak:.0f} MiB"
