"""List what awaits moderation: replies and comment files with `moderation: pending`.

Publishing one is changing its `Moderation:` (or `moderation:`) to `published`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))

from threads.parse import parse_comment, parse_thread  # noqa: E402


def pending(content: Path) -> list[tuple[str, int, str, str, str]]:
    """(file, line, author, date, first words) of every pending reply."""
    found = []
    for path in sorted((content / "comments").glob("*/*.md")):
        reply, _ = parse_comment(
            path.read_text(encoding="utf-8", errors="replace"), str(path), default_id=path.stem
        )
        if reply.moderation == "pending":
            found.append((str(path), 1, reply.author, reply.date, reply.body))
    for path in sorted((content / "threads").glob("*.md")):
        parsed = parse_thread(path.read_text(encoding="utf-8", errors="replace"), str(path))
        for reply in parsed.replies:
            if reply.moderation == "pending":
                found.append((str(path), reply.line, reply.author, reply.date, reply.body))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args(argv)
    rows = pending(args.content)
    for path, line, author, date, body in rows:
        words = " ".join(body.split())
        print(
            f"{path}:{line}: {author or '?'}, {date or '?'}: {words[:70]}"
            + ("…" if len(words) > 70 else "")
        )
    print(
        f"{len(rows)} pending {'reply' if len(rows) == 1 else 'replies'}. Publish one by "
        "setting its Moderation to published."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
