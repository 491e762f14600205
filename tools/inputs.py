"""What a build is made from, as one comparable record.

`make publish` with nothing changed since the site in `output/` was built
keeps that site instead of building it again (tools/build.py). "Nothing
changed" is decided here, conservatively: every byte of the content folder,
of the theme, of the project's code (plugins, tools, settings files), the
settings as Pelican reads them (so an environment variable a settings file
reads, such as SITEURL, counts), the installed packages and Python, and the
build's own options. Any difference, however small, means a full build.
A content file is read again unless its size, times and inode are what the
last build noted, and it had not changed for two seconds then (as git trusts
its index; `tree_digest`).
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
import time
from pathlib import Path

from stacks_offers.reuse import stable

ROOT = Path(__file__).resolve().parent.parent
# The project's code: what could change the output without changing content.
CODE = ("pelicanconf.py", "publishconf.py", "plugins", "tools", "pelican", "stacks_offers")
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
# Environment variables the build reads outside the settings file.
ENVIRONMENT = ("SEARCH_SHARD_SIZE",)
# Settings that differ from build to build without changing the site.
PER_BUILD = {"OUTPUT_PATH"}


# A file changed this long before a pass over the content (or more) is taken as
# that pass noted it while its size, times and inode are the same: any later
# write sets its modification and change times to the time of the write, which
# is after the pass (the change time cannot be set back by a program). A file
# written closer to the pass may share a time stamp with a later write
# (timestamps are coarse: milliseconds on Linux, seconds or two elsewhere), so
# it is read again next time.
SETTLED_NS = 2_000_000_000


def tree_digest(
    path: Path,
    digests: dict[str, str] | None = None,
    marks: tuple[bytes, ...] = (),
    marked: list[str] | None = None,
    notes: dict | None = None,
) -> str:
    """A digest of every file under `path` (names and bytes), or of one file.
    `digests`, if given, gets each file's own digest, by its absolute path (as
    stacks_offers.reuse.file_digest writes it); `marked` the absolute paths of
    the `.md` files holding any of `marks` (read once for both).
    `notes`: what the last pass noted of each file (`{}` the first time), made
    this pass's: a file that has not changed since (`SETTLED_NS`) is not read
    again, as git does not read a file whose stat is what its index noted."""
    digest = hashlib.blake2b(digest_size=20)
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    if not path.exists():
        return "absent"
    base = os.path.abspath(path)
    before, now = {}, {}
    if notes is not None:
        # Whether a file holds a mark is noted too: only when looked for, and
        # for the same marks.
        looked_for = None if marked is None else [m.hex() for m in marks]
        if looked_for is not None and notes.get("marks") == looked_for:
            before = notes.get("files", {})
        settled = notes.get("since", 0) - SETTLED_NS
        notes.clear()
        notes.update(since=time.time_ns(), marks=looked_for, files=now)
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        # The file's name relative to `path`, as os.path.relpath would give it.
        prefix = folder[len(base) + 1 :] + os.sep if folder != base else ""
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            file = os.path.join(folder, name)
            digest.update((prefix + name).encode("utf-8", "surrogateescape") + b"\0")
            try:
                noted = None
                if notes is not None:
                    info = os.stat(file)
                    stat = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
                    noted = before.get(file)
                    if noted and (noted[:4] != stat or max(stat[1:3]) >= settled):
                        noted = None
                if noted:
                    own, has_mark = bytes.fromhex(noted[4]), noted[5]
                else:
                    with open(file, "rb") as handle:
                        if marked is not None and name.endswith(".md"):
                            data = handle.read()
                            own = hashlib.blake2b(data).digest()
                            has_mark = any(mark in data for mark in marks)
                        else:
                            own = hashlib.file_digest(handle, "blake2b").digest()
                            has_mark = False
                if has_mark and marked is not None:
                    marked.append(file)
                if notes is not None:
                    now[file] = [*stat, own.hex(), has_mark]
                digest.update(own)
                if digests is not None:
                    digests[file] = own.hex()[:32]
            except OSError as exc:  # unreadable: never equal to anything
                digest.update(f"unreadable {exc.errno} {os.urandom(8).hex()}".encode())
    return digest.hexdigest()


def packages() -> str:
    """Python's version and the installed distributions, by the names of their
    metadata folders (`name-version.dist-info`): a listing of each package
    folder on sys.path (not the project's own, where `pip install .` may leave
    an `.egg-info`), not a read of every package's metadata (0.2 s)."""
    found = set()
    for entry in sys.path:
        if os.path.basename(entry) not in ("site-packages", "dist-packages"):
            continue
        try:
            names = os.listdir(entry)
        except OSError:  # gone
            continue
        found.update(n for n in names if n.endswith((".dist-info", ".egg-info")))
    return f"Python {platform.python_version()}; " + ", ".join(sorted(found))


def build_inputs(
    settings: dict,
    settings_file: Path,
    options: dict,
    files: dict[str, str] | None = None,
    marks: tuple[bytes, ...] = (),
    marked: list[str] | None = None,
    notes: dict | None = None,
) -> dict[str, str]:
    """Everything a build reads, each part as a digest or a short text;
    `files` gets each content file's digest, `marked` the content's `.md`
    files holding any of `marks`, `notes` what the last build noted of the
    content files and then this one's (`tree_digest`)."""
    parts = {
        "content": tree_digest(Path(settings["PATH"]), files, marks, marked, notes),
        "theme": tree_digest(Path(settings["THEME"])),
        "settings file": tree_digest(Path(settings_file).resolve()),
        "settings": hashlib.blake2b(
            stable(
                {k: v for k, v in settings.items() if k not in PER_BUILD and k[:1] != "_"}
            ).encode(),
            digest_size=20,
        ).hexdigest(),
        "packages": hashlib.blake2b(packages().encode(), digest_size=20).hexdigest(),
        "options": stable(options),
        "environment": stable({name: os.environ.get(name) for name in ENVIRONMENT}),
    }
    for name in CODE:
        parts[f"code: {name}"] = tree_digest(ROOT / name)
    return parts


def differences(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """The parts that differ, by name."""
    return sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
