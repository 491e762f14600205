"""Find personal data in readers' text: the personal-data check.

Pure functions: no Pelican, no files other than the owner's list of names.
People ask here about their current employer and their director; a reply that
carries a phone number, a personal e-mail address, a street address, a link to
a social profile or the name of someone's employer can identify them. This
module finds those, each with its line; `plugins/threads/plugin.py` reports
them during the build (a warning: `make html` builds, `make publish` stops)
and `tools/pending.py` lists them for the moderator.

Precision over recall, within reason: every kind is shaped so that what a job
hunter ordinarily writes (salary figures, years, date ranges, grade numbers,
"Main Street Library" without a house number, example.com addresses, links to
a company's LinkedIn page or a Facebook group) is not reported. The figures on
the demo content and the real exports are in the README.

The owner's list, `content/privacy.toml`::

    # Names that must not appear in published readers' text.
    employers = ["Harbour County Library System"]
    people = ["Dana Whitcombe"]
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .parse import (
    TRUE_WORDS,
    ParsedThread,
    RawReply,
    normalise,
    parse_comment,
    parse_thread,
)

KINDS = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "street": "a street address",
    "social": "a social-profile link",
    "employer": "an employer's name from privacy.toml",
    "person": "a person's name from privacy.toml",
}

# Addresses that are examples by definition (RFC 2606, RFC 6761).
_EXAMPLE_DOMAIN = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|example|invalid|test|localhost)$"
)
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][\w.+-]{0,63}@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24})(?![\w-])"
)

# Phone numbers: a North American number ((555) 201-3344, 555-201-3344,
# 555.201.3344, +1 555 201 3344), or an international one starting with +, or a
# national trunk number starting with 0 in groups (020 7946 0991, 07700 900123).
# Plain digit runs (ISBNs, order numbers, 5550123344) and figures with commas
# ($52,000) are not phone numbers here: separators are required.
_PHONE = re.compile(
    r"(?<![\w+$€£/.,-])(?:"
    r"(?:\+1[ .-]?)?\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"  # (555) 201-3344
    r"|(?:\+?1[ .-])?\d{3}([.-])\d{3}\1\d{4}"  # 555-201-3344, 1-800-555-0199
    r"|\+1 \d{3} \d{3} \d{4}"  # +1 555 201 3344
    r"|\+(?!1[ .-])\d{1,3}(?:[ .-]?\(0\))?(?:[ .-]\d{1,5}){2,5}"  # +44 20 7946 0991
    r"|0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}"  # 020 7946 0991, 07700 900123
    r")(?![\w-]|[.,]\d)"
)

_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|"
    "Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Way|Crescent|Close|Square|Sq"
)
# A house number, one to three capitalised words, a street type: "14 Alder Lane",
# "2200 North Vine St.". Not "Main Street Library" (no number), not "3 Ways to".
_STREET = re.compile(
    r"(?<![\w$€£#.,])\d{1,5}[A-Za-z]?(?:-\d{1,5})?,? (?:(?:[NSEW]\.?|North|South|East|West) )?"
    r"(?:[A-Z][a-z'’]+|\d{1,3}(?:st|nd|rd|th)) (?:[A-Z][a-z'’]+ ){0,2}"
    rf"(?:{_STREET_TYPES})\b\.?"
    r"|\b(?:P\.? ?O\.?|Post Office) Box \d+"
)

# Links to one person's profile, not to a company page, a group or a post.
_SOCIAL = re.compile(
    r"(?:https?://)?(?:[\w-]+\.)?(?:"
    r"linkedin\.com/(?:in|pub)/[\w%-]+"
    r"|(?:facebook|fb)\.com/(?!groups/|events/|pages/|sharer|share|watch|hashtag/|help/|"
    r"policies|privacy|business/|marketplace)(?:profile\.php\?id=\d+|[\w.]{3,})"
    r"|(?:twitter|x)\.com/(?!(?:i|intent|share|search|hashtag|home|explore|settings|tos|"
    r"privacy)\b)\w{1,15}\b(?!\.)"
    r"|instagram\.com/(?!(?:p|reel|reels|explore|stories|accounts)/)[\w.]{2,30}"
    r"|tiktok\.com/@[\w.]+"
    r"|threads\.net/@[\w.]+"
    r"|bsky\.app/profile/[\w.-]+"
    r")",
    re.IGNORECASE,
)


# What a line must contain for _SOCIAL, or for _PHONE and _STREET, to match it.
_SOCIAL_SITES = (
    "linkedin.com", "facebook.com", "fb.com", "twitter.com", "x.com", "instagram.com",
    "tiktok.com", "threads.net", "bsky.app",
)  # fmt: skip
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its line (1-based within the text given),
    its kind (a key of KINDS) and the text found."""

    line: int
    kind: str
    found: str

    def describe(self) -> str:
        return f"{KINDS[self.kind]} ({self.found!r})"


@dataclass(frozen=True)
class Names:
    """The owner's list: names that must not be published in readers' text."""

    employers: tuple[str, ...] = ()
    people: tuple[str, ...] = ()

    def patterns(self) -> list[tuple[str, re.Pattern]]:
        out = []
        for kind, names in (("employer", self.employers), ("person", self.people)):
            for name in names:
                words = name.split()
                if words:
                    body = r"\s+".join(re.escape(w) for w in words)
                    out.append((kind, re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)))
        return out


class NamesError(ValueError):
    """privacy.toml cannot be read; the message names the file and the fix."""


def load_names(path: Path) -> Names:
    """The names in `content/privacy.toml` (none when there is no such file)."""
    if not path.is_file():
        return Names()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NamesError(f"{path}: cannot be read as TOML ({exc}). Fix the syntax.") from exc
    lists = {}
    for key in ("employers", "people"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise NamesError(
                f"{path}: `{key}` must be a list of names in quotes, "
                f'e.g. {key} = ["Harbour County Library"]'
            )
        lists[key] = tuple(v.strip() for v in value if v.strip())
    unknown = sorted(set(data) - {"employers", "people"})
    if unknown:
        raise NamesError(
            f"{path}: unknown key(s) {', '.join(unknown)}. Use `employers` and `people`."
        )
    return Names(**lists)


def _emails(line: str):
    for match in _EMAIL.finditer(line):
        if not _EXAMPLE_DOMAIN.search(match.group(1).lower()):
            yield match.group(0)


def _phones(line: str):
    for match in _PHONE.finditer(line):
        digits = re.sub(r"\D", "", match.group(0))
        if 9 <= len(digits) <= 15:
            yield match.group(0)


def find(text: str, names: Names | None = None) -> list[Finding]:
    """Every piece of personal data in `text`, in reading order (lines from 1)."""
    patterns = names.patterns() if names else []
    findings: list[Finding] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        # Each pattern runs only on a line that has what it cannot match without
        # (a profile site's name, an @, a digit): most lines have none of them.
        candidates = []
        lowered = line.lower()
        if any(site in lowered for site in _SOCIAL_SITES):
            candidates += [("social", m.group(0), m.start()) for m in _SOCIAL.finditer(line)]
        if "@" in line:
            candidates += [("email", found, line.find(found)) for found in _emails(line)]
        if _DIGIT.search(line):
            candidates += [("phone", found, line.find(found)) for found in _phones(line)]
            candidates += [
                ("street", m.group(0).rstrip("."), m.start()) for m in _STREET.finditer(line)
            ]
        for kind, pattern in patterns:
            candidates += [(kind, m.group(0), m.start()) for m in pattern.finditer(line)]
        spans: list[tuple[int, int]] = []
        for kind, found, start in candidates:
            end = start + len(found)
            if any(s < end and start < e for s, e in spans):
                continue  # one stretch of text is reported once, as its first kind
            spans.append((start, end))
            findings.append(Finding(number, kind, found))
    return findings


@dataclass(frozen=True)
class Flagged:
    """A finding in a content file: where it is, in what, and whether that is published."""

    source: str
    line: int  # in the file
    where: str  # "reply p1", "the opening post", "the comment"
    finding: Finding
    published: bool
    fix: str

    def message(self) -> str:
        return f"{self.where} contains {self.finding.describe()}"


_REVIEW_FIX = (
    "Edit it out of the text, or, if it may be published, add `{field}` to {place} "
    "(personal-data check)"
)


def _reviewed(value: str) -> bool:
    return value.strip().lower() in TRUE_WORDS


def _scan(lines: list[str], numbers: list[int], names: Names | None) -> list[tuple[int, Finding]]:
    """Findings in some lines of a file, each with its line number in the file."""
    found = find("\n".join(lines), names)
    return [(numbers[f.line - 1], f) for f in found]


def _metadata_end(lines: list[str]) -> int:
    end = 0
    while end < len(lines) and lines[end].strip():
        end += 1
    return end


def check_thread(
    text: str, source: str, names: Names | None = None, parsed: ParsedThread | None = None
) -> list[Flagged]:
    """Personal data in a thread file: its title, summary, opening post and replies
    (a reply's header, where `email:` is kept, is not published and not read).
    `parsed`: the file as `parse_thread` reads it, if the caller has it already."""
    parsed = parse_thread(text, source) if parsed is None else parsed
    lines = normalise(text).split("\n")
    meta = {key: value for key, value, _ in parsed.metadata}
    # A question waiting for the owner's approval (`Moderation: pending`), or a
    # draft, is not published: what it holds is listed, and blocks nothing yet.
    shown = (
        meta.get("moderation", "published").strip().lower() == "published"
        and meta.get("status", "").strip().lower() != "draft"
    )
    out: list[Flagged] = []
    opening_fix = _REVIEW_FIX.format(field="Reviewed: yes", place="the thread's metadata")
    opening_ok = _reviewed(meta.get("reviewed", ""))
    if not opening_ok:
        for key, value, at in parsed.metadata:
            if key in ("title", "summary"):
                for line, f in _scan([value], [at], names):
                    out.append(Flagged(source, line, f"the thread's {key}", f, shown, opening_fix))
    starts = [r.line for r in parsed.replies] + [len(lines) + 1]
    body_from = _metadata_end(lines) + 1  # 1-based line after the blank line
    if not opening_ok:
        numbers = list(range(body_from, starts[0]))
        for line, f in _scan([lines[n - 1] for n in numbers], numbers, names):
            out.append(Flagged(source, line, "the opening post", f, shown, opening_fix))
    for reply, end in zip(parsed.replies, starts[1:], strict=True):
        if reply.moderation in ("removed", "withdrawn") or reply.reviewed:
            continue
        header_end = max(reply.field_lines.values(), default=reply.line) + 1
        numbers = list(range(header_end + 1, end))
        fix = _REVIEW_FIX.format(field="reviewed: yes", place=f"reply {reply.id}'s header")
        for line, f in _scan([lines[n - 1] for n in numbers], numbers, names):
            published = shown and reply.moderation == "published"
            out.append(Flagged(source, line, f"reply {reply.id}", f, published, fix))
    return out


def check_comment(
    text: str,
    source: str,
    default_id: str,
    names: Names | None = None,
    reply: RawReply | None = None,
):
    """Personal data in a comment file's body (`reply`: the file as
    `parse_comment` reads it, if the caller has it already)."""
    if reply is None:
        reply, _ = parse_comment(text, source, default_id=default_id)
    if reply.moderation in ("removed", "withdrawn") or reply.reviewed:
        return []
    lines = normalise(text).split("\n")
    start = _metadata_end(lines) + 1
    numbers = list(range(start, len(lines) + 1))
    fix = _REVIEW_FIX.format(field="Reviewed: yes", place="the comment file's header")
    return [
        Flagged(source, line, f"comment {reply.id}", f, reply.moderation == "published", fix)
        for line, f in _scan([lines[n - 1] for n in numbers], numbers, names)
    ]


def check_imported(text: str, source: str, names: Names | None = None) -> list[Flagged]:
    """Personal data in an imported post or page (one with `Import-Key:`): its
    title, summary and body. The owner's own posts are not checked."""
    lines = normalise(text).split("\n")
    end = _metadata_end(lines)
    header = {}
    for n, line in enumerate(lines[:end], 1):
        key, _, value = line.partition(":")
        header[key.strip().lower()] = (value.strip(), n)
    if "import-key" not in header or _reviewed(header.get("reviewed", ("", 0))[0]):
        return []
    fix = _REVIEW_FIX.format(field="Reviewed: yes", place="its metadata")
    out = []
    for key in ("title", "summary"):
        if key in header:
            value, at = header[key]
            for line, f in _scan([value], [at], names):
                out.append(Flagged(source, line, f"the imported item's {key}", f, True, fix))
    numbers = list(range(end + 2, len(lines) + 1))
    for line, f in _scan([lines[n - 1] for n in numbers], numbers, names):
        out.append(Flagged(source, line, "the imported item", f, True, fix))
    return out
