"""Write a skeleton Q&A thread or blog post, as a draft: `make new-thread TITLE="..."`,
`make new-post TITLE="..."`.

The file starts as `Status: draft`: `make html` builds it (at /drafts/<slug>.html, to
preview), `make publish` leaves it out, so a skeleton's example names and text are
never published by mistake. Delete the `Status: draft` line to publish it; a
build warns (and `make publish` refuses) while any of the skeleton's example
lines are left in a file that is no longer a draft."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pelican.settings import DEFAULT_CONFIG
from pelican.utils import slugify

TEMPLATE = """\
Title: {title}
Slug: {slug}
Date: {date}
Status: draft
Kind: question
Author: {author}
Category: The Search
Tags:

Write the opening post here. `Kind:` is `question` (readers answer it; one
answer can be accepted) or `discussion` (an open conversation).

```reply
id: first
author: Someone Else
date: {date}
```

A reply to the opening post. Replies may use any Markdown, including `---`,
headings and quotes: only a fenced block with the info string `reply`,
starting in the first column, begins a new reply.

```reply
id: second
parent: first
author: {author}
date: {date}
```

A reply to the reply above (`parent: first`). Replies by the thread's author are
marked OP. Add `accepted: yes` to the one answer the asker accepted.
"""

POST = """\
Title: {title}
Slug: {slug}
Date: {date}
Status: draft
Author: {author}
Category: The Search
Tags:
Summary: One or two sentences that listings and feeds show under the title.

Write the post here, in Markdown: **bold**, *italic*, [links](https://example.org),
lists, quotes and headings all work.

## A heading

Readers comment by e-mail, and their comments are files under
`content/comments/{slug}/` (see docs/writing-threads.md).
"""
FOLDERS = {"thread": ("threads", TEMPLATE), "post": ("posts", POST)}

# Lines of the skeletons that only an author who has not started yet would leave:
# a build warns about each one left in a file that is no longer a draft (so
# `make publish` refuses it), naming the file and line.
LEFTOVERS = (
    "Write the opening post here.",
    "A reply to the opening post.",
    "A reply to the reply above (`parent: first`).",
    "Write the post here, in Markdown:",
    "Summary: One or two sentences that listings and feeds show under the title.",
    "Author: Your Name",
    "author: Your Name",
    "author: Someone Else",
)


def leftovers(text: str) -> list[tuple[int, str]]:
    """(line, skeleton text) for each skeleton line still in `text`, unless it is a draft."""
    if not any(leftover in text for leftover in LEFTOVERS):
        return []  # (most files: no need to look line by line)
    header = text.split("\n\n", 1)[0]
    if any(line.strip().lower() == "status: draft" for line in header.splitlines()):
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for leftover in LEFTOVERS:
            if line.strip().startswith(leftover):
                found.append((number, leftover))
    return found


def site_now(settings_file: Path) -> datetime:
    """Now, in the site's TIMEZONE (a date is read in it), else this machine's."""
    try:
        from pelican.settings import read_settings

        return datetime.now(ZoneInfo(read_settings(str(settings_file))["TIMEZONE"]))
    except Exception:  # no settings to read: the machine's time
        return datetime.now()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--title", required=True, help="the title")
    parser.add_argument("--kind", choices=sorted(FOLDERS), default="thread", help="thread or post")
    parser.add_argument("--author", default="Your Name", help="who writes (default: Your Name)")
    parser.add_argument("--content", type=Path, default=Path("content"), help="content folder")
    parser.add_argument(
        "--settings",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "pelicanconf.py",
        help="settings whose TIMEZONE the date is written in (default: pelicanconf.py)",
    )
    args = parser.parse_args(argv)

    title = " ".join(args.title.split())
    slug = slugify(title, regex_subs=DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"])
    if not slug:
        print("The title has no letters or digits to make a file name from.", file=sys.stderr)
        return 2
    folder, template = FOLDERS[args.kind]
    path = args.content / folder / f"{slug}.md"
    if path.exists():
        print(f"{path} already exists: choose another title or edit that file.", file=sys.stderr)
        return 1
    date = site_now(args.settings).strftime("%Y-%m-%d %H:%M")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        template.format(title=title, slug=slug, date=date, author=args.author), encoding="utf-8"
    )
    print(f"Wrote {path}")
    print(
        f"It is a draft: `make html` builds it at /drafts/{slug}.html to preview, and "
        "`make publish` leaves it out. Delete its `Status: draft` line to publish it."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
