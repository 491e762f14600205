"""Where a key is in a content file's header, for messages that name the line."""

from __future__ import annotations


def metadata_line(path: str, key: str) -> int | None:
    """The line of `Key:` in a content file's header (before its first blank line)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    return None
                if line.lower().startswith(f"{key}:"):
                    return number
    except OSError:
        pass
    return None
