"""Read thread files and comment files into plain records.

Pure functions: no Pelican, no rendering. Every mistake becomes a `Problem`
that names the file, the line and the fix; parsing goes on past it, so one run
reports every mistake in a file.

A thread file (`content/threads/*.md`)::

    Title: Do I say yes to the first offer?
    Date: 2026-02-03 09:10
    Kind: question
    Author: Priya N.

    The opening post, in Markdown.

    ```reply
    id: tomas
    author: Tomás R.
    date: 2026-02-03 11:45
    ```

    A reply, in Markdown. `---`, headings, quotes and HTML comments are all
    just Markdown here: only a fenced block whose info string is `reply`,
    starting at the first column outside any other code fence, begins a reply.

A comment file (`content/comments/<slug>/<name>.md`) is a header of the same
reply fields, written as `Key: value` lines, a blank line, and the body.
"""

from __future__ import annotations

import pickle
import re
import sys
from dataclasses import dataclass, field, fields

REPLY_FIELDS = {
    "id": "unique within the thread: letters, digits, '-' and '_'",
    "parent": "id of the reply this one answers; leave out to answer the opening post",
    "author": "the name shown with the reply",
    "date": "YYYY-MM-DD HH:MM, optionally with an offset; without one, the site's TIMEZONE",
    "accepted": "yes on the one accepted answer of a question thread",
    "moderation": "published (the default), pending (not shown), removed (placeholder) or "
    "withdrawn (placeholder: withdrawn at the author's request; `make takedown` sets it)",
    "email": "kept in the source, never published",
    "origin": "where the reply was first published, for imported replies",
    "message-id": "the e-mail's Message-Id, for replies that came by e-mail; never published",
    "reviewed": "yes when the owner checked what the personal-data check found and it may be "
    "published",
    "reason": "why the reply was withdrawn or removed; kept in the source, never published",
    "update": "yes on a reply by the asker that says what happened next (shown as the asker's "
    "update; the latest is also shown at the top of the thread)",
}
MODERATION_STATES = ("published", "pending", "removed", "withdrawn")
# A placeholder: the reply's place in the tree stays, its words and author do not.
GONE_STATES = ("removed", "withdrawn")
TRUE_WORDS = {"yes", "true", "1", "on"}
FALSE_WORDS = {"no", "false", "0", "off", ""}

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)\s*:\s?(.*)$")
REPLY_OPEN_RE = re.compile(r"^(`{3,})[ \t]*reply[ \t]*$")
FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True)
class Problem:
    """One mistake in the input, with where it is and how to fix it."""

    source: str
    line: int | None
    message: str
    fix: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        text = f"{where}: {self.message}"
        return f"{text}. {self.fix}" if self.fix else text


@dataclass
class RawReply:
    """One reply as written, before it is placed in a tree."""

    id: str
    parent: str | None
    author: str
    date: str
    body: str
    source: str
    line: int
    accepted: bool = False
    moderation: str = "published"
    origin: str = ""
    field_lines: dict[str, int] = field(default_factory=dict)  # field -> its line
    reviewed: bool = False  # personal data found in it may be published
    update: bool = False  # the asker's news of what happened next

    def line_of(self, key: str) -> int:
        """The line of a field, or of the reply's header when it is absent."""
        return self.field_lines.get(key, self.line)


def pack_raw(replies: list[RawReply]) -> bytes:
    """Replies as written, as one buffer (b"" for none).

    A thread's replies travel in this form from the process that read the file
    to the one that builds the thread: a site's raw replies, held as objects
    until the threads are built, would leave the main process's memory full of
    holes once they are freed. (Not compressed: it is soon unpacked, and
    compressing took three times as long as packing.)
    """
    if not replies:
        return b""
    rows = [tuple(getattr(reply, name) for name in _RAW_FIELDS) for reply in replies]
    return pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_raw(packed: bytes) -> list[RawReply]:
    return [RawReply(*row) for row in pickle.loads(packed)] if packed else []


_RAW_FIELDS = tuple(f.name for f in fields(RawReply))


@dataclass
class ParsedThread:
    metadata: list[tuple[str, str, int]]  # (lower-cased key, value, line)
    body: str
    replies: list[RawReply]
    problems: list[Problem] = field(default_factory=list)


# C0 control characters other than tab, line feed and carriage return: XML 1.0
# (every feed) cannot carry them, and no reader meant to type them. A form feed
# or vertical tab reads as a space; the others are dropped.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_AS_SPACE = str.maketrans({"\x0b": " ", "\x0c": " "})
_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "bell",
    0x08: "backspace",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x1B: "escape",
}


def _lines_of(text: str, positions: list[int]) -> list[int]:
    """1-based line numbers of character positions in text (positions ascending)."""
    lines, line, start = [], 1, 0
    for position in positions:
        line += text.count("\n", start, position)
        start = position
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _naming(lines: list[int]) -> str:
    """ "line 3" or "lines 3, 7, 9, 12, 20 and 4 more"."""
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    shown = ", ".join(map(str, lines[:5])) + more
    return f"line{'s' if len(lines) > 1 else ''} {shown}"


def decode_source(data: bytes, source: str) -> tuple[str | None, list[Problem]]:
    """A content file's bytes as text, and what had to be changed to read it.

    Bytes that are not UTF-8 become U+FFFD, control characters are dropped (a
    form feed or vertical tab becomes a space), a byte-order mark is dropped:
    each change is a warning naming the file and the lines. A file that is not
    text at all (NUL bytes and bytes that are not UTF-8: an image saved as .md)
    gives None and an error, and is not read.
    """
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if b"\x00" in data:
            return None, [
                Problem(
                    source,
                    None,
                    "not read: this is not a text file (it holds NUL bytes and bytes that are "
                    "not UTF-8; an image or a document saved with a .md name?)",
                    "Move it out of the content folder, or save it again as UTF-8 text.",
                )
            ]
        positions = [m.start() for m in re.finditer("\ufffd", text)]
        if positions:
            line_numbers = _lines_of(text, positions)
            problems.append(
                Problem(
                    source,
                    line_numbers[0],
                    f"{len(positions)} byte(s) that are not UTF-8 were replaced with \ufffd "
                    f"({_naming(line_numbers)})",
                    "Save the file as UTF-8 and put the right characters back.",
                    severity="warning",
                )
            )
    text = text.lstrip("\ufeff")
    found = [m.start() for m in _CONTROL_RE.finditer(text)]
    if found:
        codes = sorted({ord(text[i]) for i in found})
        names = ", ".join(
            f"U+{code:04X}" + (f" {_CONTROL_NAMES[code]}" if code in _CONTROL_NAMES else "")
            for code in codes
        )
        line_numbers = _lines_of(text, found)
        problems.append(
            Problem(
                source,
                line_numbers[0],
                f"{len(found)} control character(s) ({names}) removed "
                f"({_naming(line_numbers)}): "
                "feeds cannot carry them",
                "Delete them from the file (a form feed or vertical tab now reads as a space).",
                severity="warning",
            )
        )
        text = without_controls(text)
    return text, problems


def without_controls(text: str) -> str:
    """Text with C0 control characters dropped (form feed, vertical tab: a space)."""
    return _CONTROL_RE.sub("", text.translate(_AS_SPACE)) if _CONTROL_RE.search(text) else text


def read_source(path) -> tuple[str | None, list[Problem]]:
    """Read a content file with `decode_source`."""
    with open(path, "rb") as handle:
        return decode_source(handle.read(), str(path))


def normalise(text: str) -> str:
    """Drop a byte-order mark and NUL bytes; make every line end in \\n."""
    text = text.lstrip("\ufeff").replace("\x00", "")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_fields(
    lines: list[str], first_line: int, source: str, problems: list[Problem]
) -> list[tuple[str, str, int]]:
    """Parse `Key: value` lines; an indented line continues the previous value."""
    fields: list[tuple[str, str, int]] = []
    for offset, line in enumerate(lines):
        number = first_line + offset
        if line[:1] in (" ", "\t") and fields:
            key, value, at = fields[-1]
            fields[-1] = (key, f"{value} {line.strip()}".strip(), at)
            continue
        match = FIELD_RE.match(line)
        if not match:
            problems.append(
                Problem(
                    source,
                    number,
                    f"cannot read {line.strip()[:60]!r} as a field",
                    "Write fields as `Key: value`, one per line.",
                )
            )
            continue
        # Interned: every reply repeats the same few keys.
        fields.append((sys.intern(match.group(1).lower()), match.group(2).strip(), number))
    return fields


def _flag(value: str, key: str, source: str, line: int, problems: list[Problem]) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word not in FALSE_WORDS:
        problems.append(
            Problem(
                source,
                line,
                f"`{key}: {value}` is neither yes nor no",
                f"Write `{key}: yes` or leave the line out.",
            )
        )
    return False


def reply_from_fields(
    fields: list[tuple[str, str, int]],
    body: str,
    source: str,
    line: int,
    problems: list[Problem],
    default_id: str = "",
) -> RawReply:
    """Check a reply's fields and build the record; mistakes go to `problems`."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for key, value, at in fields:
        if key not in REPLY_FIELDS:
            known = ", ".join(REPLY_FIELDS)
            problems.append(
                Problem(source, at, f"unknown reply field `{key}`", f"Use one of: {known}.")
            )
            continue
        if key in values:
            problems.append(
                Problem(source, at, f"`{key}` is given twice", "Keep one of the two lines.")
            )
            continue
        values[key] = value
        lines[key] = at

    reply_id = values.get("id", default_id)
    if not reply_id:
        problems.append(
            Problem(source, line, "reply has no id", "Add `id: <name>`, unique within the thread.")
        )
    elif not ID_RE.match(reply_id):
        problems.append(
            Problem(
                source,
                lines.get("id", line),
                f"reply id {reply_id!r} is not valid",
                "Use letters, digits, '-' and '_' only (at most 80).",
            )
        )
        reply_id = re.sub(r"[^A-Za-z0-9_-]", "-", reply_id)[:80]
    moderation_given = values.get("moderation", "").strip().lower()
    # A removed reply is a placeholder: it needs a date (its place), not an author.
    for required in ("date",) if moderation_given in GONE_STATES else ("author", "date"):
        if not values.get(required):
            problems.append(
                Problem(
                    source,
                    line,
                    f"reply {reply_id or '?'} has no {required}",
                    f"Add `{required}: ...` ({REPLY_FIELDS[required]}).",
                )
            )
    moderation = values.get("moderation", "published").strip().lower() or "published"
    if moderation not in MODERATION_STATES:
        problems.append(
            Problem(
                source,
                lines["moderation"],
                f"unknown moderation {moderation!r}",
                "Use published, pending, removed or withdrawn.",
            )
        )
        moderation = "pending"  # never publish what the owner did not clearly approve
    if not body.strip() and moderation not in GONE_STATES:
        problems.append(
            Problem(
                source,
                line,
                f"reply {reply_id or '?'} has an empty body",
                "Write the reply below its header, or delete the header.",
            )
        )
    accepted = False
    if "accepted" in values:
        accepted = _flag(values["accepted"], "accepted", source, lines["accepted"], problems)
    reviewed = False
    if "reviewed" in values:
        reviewed = _flag(values["reviewed"], "reviewed", source, lines["reviewed"], problems)
    update = False
    if "update" in values:
        update = _flag(values["update"], "update", source, lines["update"], problems)
    parent = values.get("parent", "").strip() or None
    return RawReply(
        id=reply_id or f"line-{line}",
        parent=parent,
        author=values.get("author", ""),
        date=values.get("date", ""),
        body=body,
        source=source,
        line=line,
        accepted=accepted,
        moderation=moderation,
        origin=values.get("origin", ""),
        field_lines=lines,
        reviewed=reviewed,
        update=update,
    )


def _fence_closes(line: str, char: str, length: int) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and len(stripped) >= length
        and set(stripped) == {char}
    )


def _trim(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def parse_thread(text: str, source: str) -> ParsedThread:
    """Split a thread file into its metadata, opening post and replies."""
    problems: list[Problem] = []
    lines = normalise(text).split("\n")

    # Metadata runs from the first line to the first blank line.
    end = 0
    while end < len(lines) and lines[end].strip():
        end += 1
    metadata = _read_fields(lines[:end], 1, source, problems)

    # Segments: the opening post, then one per reply header.
    opening: list[str] = []
    replies: list[RawReply] = []
    current_body = opening
    current_header: tuple[list[tuple[str, str, int]], int] | None = None
    fence: tuple[str, int, int] | None = None  # (char, length, line) of an open body fence
    swallowed: list[int] = []

    def finish() -> None:
        if current_header is not None:
            fields, at = current_header
            replies.append(reply_from_fields(fields, _trim(current_body), source, at, problems))

    index = end
    while index < len(lines):
        line = lines[index]
        number = index + 1
        opener = REPLY_OPEN_RE.match(line)
        if fence is not None:
            if opener and fence[0] == "`" and len(opener.group(1)) >= fence[1]:
                # The header's own closing line would end this fence, so it
                # cannot be an example nested in it: the fence was left open.
                problems.append(
                    Problem(
                        source,
                        fence[2],
                        f"a code fence opened here is not closed before the reply header at "
                        f"line {number}",
                        f"Close the fence with a line of {fence[1]} backticks before that header.",
                    )
                )
                fence = None
            else:
                if _fence_closes(line, fence[0], fence[1]):
                    fence = None
                elif opener:
                    swallowed.append(number)
                current_body.append(line)
                index += 1
                continue
        if opener:
            ticks = len(opener.group(1))
            close = index + 1
            while close < len(lines) and not _fence_closes(lines[close], "`", ticks):
                close += 1
            if close == len(lines):
                problems.append(
                    Problem(
                        source,
                        number,
                        "this reply header is never closed",
                        f"End the header with a line of {ticks} backticks.",
                    )
                )
            finish()
            fields = (
                _read_fields(
                    [x for x in lines[index + 1 : close] if x.strip()], index + 2, source, problems
                )
                if close < len(lines)
                else []
            )
            current_header = (fields, number)
            current_body = []
            index = close + 1
            continue
        fence_open = FENCE_OPEN_RE.match(line)
        if fence_open and not (fence_open.group(1)[0] == "`" and "`" in fence_open.group(2)):
            fence = (fence_open.group(1)[0], len(fence_open.group(1)), number)
        current_body.append(line)
        index += 1
    finish()

    if fence is not None and swallowed:
        problems.append(
            Problem(
                source,
                fence[2],
                f"a code fence opened here is never closed, so the reply header(s) at line(s) "
                f"{', '.join(map(str, swallowed))} are read as code",
                f"Close the fence with a line of {fence[1]} {fence[0]!r} characters.",
            )
        )
    return ParsedThread(metadata=metadata, body=_trim(opening), replies=replies, problems=problems)


def parse_comment(text: str, source: str, default_id: str) -> tuple[RawReply, list[Problem]]:
    """Read one comment file: `Key: value` header, blank line, Markdown body."""
    problems: list[Problem] = []
    lines = normalise(text).split("\n")
    end = 0
    while end < len(lines) and lines[end].strip():
        end += 1
    fields = _read_fields(lines[:end], 1, source, problems)
    body = _trim(lines[end:])
    reply = reply_from_fields(fields, body, source, 1, problems, default_id=default_id)
    return reply, problems


def safe_body(text: str) -> str:
    """Text from elsewhere, made safe to place in a thread file as a body.

    A line that would start a reply header (outside a code fence) gets one
    leading space: Markdown shows it the same, and the thread parser reads it
    as body text. A code fence left open is closed, so it cannot swallow the
    replies after it.
    """
    out = []
    fence: tuple[str, int] | None = None
    for line in normalise(text).split("\n"):
        if fence is not None:
            if _fence_closes(line, fence[0], fence[1]):
                fence = None
            elif REPLY_OPEN_RE.match(line) and fence[0] == "`":
                line = " " + line
            out.append(line)
            continue
        if REPLY_OPEN_RE.match(line):
            line = " " + line  # now an ordinary (indented) fence, as the parser sees it
        opener = FENCE_OPEN_RE.match(line)
        if opener and not (opener.group(1)[0] == "`" and "`" in opener.group(2)):
            fence = (opener.group(1)[0], len(opener.group(1)))
        out.append(line)
    if fence is not None:
        out.append(fence[0] * fence[1])
    return "\n".join(out).strip("\n")
