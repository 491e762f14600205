"""What a build is made from, as one comparable record.

`make publish` with nothing changed since the site in `output/` was built
keeps that site instead of building it again (tools/build.py). "Nothing
changed" is decided here, conservatively: every byte of the content folder,
of the theme, of the project's code (plugins, tools, settings files), the
settings as Pelican reads them (so an environment variable a settings file
reads, such as SITEURL, counts), the installed packages and Python, and the
build's own options. Any difference, however small, means a full build.
"""

from __future__ import annotations

import hashlib
import os
import platform
from importlib import metadata
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


def tree_digest(path: Path, digests: dict[str, str] | None = None) -> str:
    """A digest of every file under `path` (names and bytes), or of one file.
    `digests`, if given, gets each file's own digest, by its absolute path (as
    stacks_offers.reuse.file_digest writes it)."""
    digest = hashlib.blake2b(digest_size=20)
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    if not path.exists():
        return "absent"
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            file = os.path.join(folder, name)
            digest.update(os.path.relpath(file, path).encode("utf-8", "surrogateescape") + b"\0")
            try:
                with open(file, "rb") as handle:
                    own = hashlib.file_digest(handle, "blake2b").digest()
                digest.update(own)
                if digests is not None:
                    digests[os.path.abspath(file)] = own.hex()[:32]
            except OSError as exc:  # unreadable: never equal to anything
                digest.update(f"unreadable {exc.errno} {os.urandom(8).hex()}".encode())
    return digest.hexdigest()


def packages() -> str:
    found = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    )
    return f"Python {platform.python_version()}; " + ", ".join(found)


def build_inputs(
    settings: dict, settings_file: Path, options: dict, files: dict[str, str] | None = None
) -> dict[str, str]:
    """Everything a build reads, each part as a digest or a short text;
    `files` gets each content file's digest (`tree_digest`)."""
    parts = {
        "content": tree_digest(Path(settings["PATH"]), files),
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
