"""How a question's story ended: the owner's small vocabulary of outcomes
(`content/outcomes.toml`) and a thread's `Outcome:` checked against it.

Pure functions: no Pelican. A mistake is a message that names the file, the
line and the fix.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path


class OutcomesError(Exception):
    """The vocabulary file cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class Outcome:
    name: str  # as shown, and as Pagefind's filter value: "Offer declined"
    slug: str  # its anchor on the outcomes page: "offer-declined"
    description: str


def slug_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def load(path: Path) -> list[Outcome]:
    """The outcomes in `path`, in the owner's order (none when it is missing)."""
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OutcomesError(f"{path}: not valid TOML ({exc}). Fix the line it names.") from exc
    found: list[Outcome] = []
    for number, entry in enumerate(data.get("outcomes", []), 1):
        name = entry.get("name") if isinstance(entry, dict) else None
        text = entry.get("description", "") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip() or not isinstance(text, str):
            raise OutcomesError(
                f'{path}: outcome number {number} needs name = "..." and description = "..."'
            )
        name = " ".join(name.split())
        if re.search(r"[,:]", name):
            # Pagefind reads `outcome:<name>` as one value: no comma, no colon.
            raise OutcomesError(
                f"{path}: outcome {name!r} has a comma or a colon; name it without one"
            )
        if any(o.slug == slug_of(name) for o in found):
            raise OutcomesError(f"{path}: outcome {name!r} is listed twice; keep one")
        found.append(Outcome(name, slug_of(name), text.strip()))
    return found


def match(value: str, known: list[Outcome]) -> tuple[Outcome | None, str]:
    """The outcome `value` names (any case, `-` or spaces), or None and the fix."""
    wanted = slug_of(value)
    for outcome in known:
        if outcome.slug == wanted:
            return outcome, ""
    names = [o.name.lower() for o in known]
    near = difflib.get_close_matches(value.strip().lower(), names, n=1, cutoff=0.6)
    listed = ", ".join(names) or "none: add them to the outcomes file"
    hint = f"Did you mean `Outcome: {near[0]}`? " if near else ""
    return None, f"{hint}Use one of: {listed}."
