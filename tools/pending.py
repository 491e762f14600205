"""List what awaits moderation: readers' questions (threads with `Moderation: pending`),
replies and comment files with `moderation: pending`,
and every reply, comment, thread or imported item whose text carries personal data.

Publishing one is changing its `Moderation:` (or `moderation:`) to `published`.
Personal data (an e-mail address, a phone number, a street address, a social-profile
link, a name from content/privacy.toml) is listed with its file and line; `make
publish` refuses while a published item has any, until it is edited out or the item
is marked `reviewed: yes`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pelican.plugins.threads import privacy  # noqa: E402
from pelican.plugins.threads.parse import parse_comment, parse_thread  # noqa: E402
from pelican.plugins.topics.vocabulary import VocabularyError, load  # noqa: E402


def pending_questions(content: Path) -> list[tuple[str, int, str, str, str]]:
    """(file, line of `Moderation:`, author, date, title and first words) of every
    thread waiting for approval: a reader's question sent through the Ask page."""
    found = []
    for path in sorted((content / "threads").glob("*.md")):
        parsed = parse_thread(_text(path), str(path))
        meta = {key: (value, line) for key, value, line in parsed.metadata}
        state, line = meta.get("moderation", ("published", 1))
        if state.strip().lower() == "published":
            continue
        title = meta.get("title", ("?", 1))[0]
        found.append(
            (
                str(path),
                line,
                meta.get("author", ("", 1))[0],
                meta.get("date", ("", 1))[0],
                f"question “{title}”: {parsed.body}",
            )
        )
    return found


def question_topics(content: Path) -> dict[str, list[str] | None]:
    """file -> the topics the tagger gives each pending question (as the build
    would: the vocabulary in content/topics.toml), or None if it cannot be read.
    A question with none is on no topic page unless the owner adds `Topics:`."""
    try:
        vocabulary = load(content / "topics.toml")
    except (OSError, VocabularyError):
        vocabulary = None
    found: dict[str, list[str] | None] = {}
    for path in sorted((content / "threads").glob("*.md")):
        parsed = parse_thread(_text(path), str(path))
        meta = {key.lower(): value for key, value, _line in parsed.metadata}
        if meta.get("moderation", "published").strip().lower() == "published":
            continue
        if meta.get("topics"):
            found[str(path)] = [t.strip() for t in meta["topics"].split(",") if t.strip()]
        elif vocabulary is None:
            found[str(path)] = None
        else:
            found[str(path)] = vocabulary.tag(
                {"title": meta.get("title", ""), "body": parsed.body}
            )[0]
    return found


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


def personal_data(content: Path) -> list[privacy.Flagged]:
    """What the personal-data check finds in every reader's text under `content`."""
    names = privacy.load_names(content / "privacy.toml")
    found: list[privacy.Flagged] = []
    for path in sorted((content / "threads").glob("*.md")):
        found += privacy.check_thread(_text(path), str(path), names)
    for path in sorted((content / "comments").glob("*/*.md")):
        found += privacy.check_comment(_text(path), str(path), path.stem, names)
    for folder in ("posts", "pages"):
        for path in sorted((content / folder).glob("*.md")):
            found += privacy.check_imported(_text(path), str(path), names)
    return found


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args(argv)
    questions = pending_questions(args.content)
    topics = question_topics(args.content)
    for path, line, author, date, body in questions:
        words = " ".join(body.split())
        print(
            f"{path}:{line}: {author or '?'}, {date or '?'}: {words[:90]}"
            + ("…" if len(words) > 90 else "")
        )
        chosen = topics.get(path)
        if chosen:
            print(f"  topics: {', '.join(chosen)}")
        elif chosen is not None:
            print(
                "  no topic found: it would be on no topic page; add a `Topics:` line "
                "(e.g. Topics: interviews) when you approve it"
            )
    print(
        f"{len(questions)} pending {'question' if len(questions) == 1 else 'questions'}."
        + (
            " Publish one by setting its Moderation to published (and checking its category)."
            if questions
            else ""
        )
    )
    rows = pending(args.content)
    for path, line, author, date, body in rows:
        words = " ".join(body.split())
        print(
            f"{path}:{line}: {author or '?'}, {date or '?'}: {words[:70]}"
            + ("…" if len(words) > 70 else "")
        )
    print(
        f"{len(rows)} pending {'reply' if len(rows) == 1 else 'replies'}."
        + (" Publish one by setting its Moderation to published." if rows else "")
    )
    try:
        flagged = personal_data(args.content)
    except privacy.NamesError as exc:
        print(f"Personal-data check not run: {exc}")
        return 2
    for item in flagged:
        state = "published" if item.published else "not published yet"
        print(f"{item.source}:{item.line}: {item.message()} ({state}). {item.fix}.")
    blocking = sum(1 for item in flagged if item.published)
    print(
        f"{len(flagged)} finding(s) of personal data, {blocking} in published text "
        "(`make publish` refuses until each is edited out or marked reviewed)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
