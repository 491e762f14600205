"""What the site's Ask link puts in a message, and what the e-mail importer
reads back (tools/importers/email_in.py). Pure: no Pelican."""

from __future__ import annotations

import re
from urllib.parse import quote

# In the subject of a new question: `[ask] How do I ...?`
ASK_TOKEN = "[ask]"
ASK_RE = re.compile(r"\[ask\]", re.IGNORECASE)
# What the subject says until the asker writes their own title over it.
ASK_PLACEHOLDER = "Your question in one line"
# The lines the message starts with; the importer reads them (and drops them).
ASK_BODY = "Name: \nNotify: no\n\n"


def ask_mailto(address: str) -> str:
    subject = f"{ASK_TOKEN} {ASK_PLACEHOLDER}"
    return f"mailto:{address}?subject={quote(subject, safe='')}&body={quote(ASK_BODY, safe='')}"
