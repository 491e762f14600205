"""The personal-data check as plain functions: what it finds, what it leaves alone,
the owner's list of names, and where in a file each finding is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pelican.plugins.threads import privacy
from pelican.plugins.threads.privacy import Names, check_comment, check_imported, check_thread, find

NAMES = Names(employers=("Harbour County Library",), people=("Dana Whitcombe",))


def kinds(text: str, names: Names | None = None) -> list[tuple[str, str]]:
    return [(f.kind, f.found) for f in find(text, names)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call me on (555) 201-3344 after six.", [("phone", "(555) 201-3344")]),
        ("My cell is 555-201-3344.", [("phone", "555-201-3344")]),
        ("Text 555.201.3344", [("phone", "555.201.3344")]),
        ("Toll free 1-800-555-0199", [("phone", "1-800-555-0199")]),
        ("+1 555 201 3344", [("phone", "+1 555 201 3344")]),
        ("London: +44 20 7946 0991", [("phone", "+44 20 7946 0991")]),
        ("or 020 7946 0991 at work", [("phone", "020 7946 0991")]),
        ("Write to hq.reader@mailbox.net please", [("email", "hq.reader@mailbox.net")]),
        ("I live at 14 Alder Lane, near the branch.", [("street", "14 Alder Lane")]),
        ("The office: 2200 North Vine St. downtown", [("street", "2200 North Vine St")]),
        ("PO Box 1123", [("street", "PO Box 1123")]),
        ("linkedin.com/in/hq-reader", [("social", "linkedin.com/in/hq-reader")]),
        ("https://twitter.com/hq_reader", [("social", "https://twitter.com/hq_reader")]),
        ("https://x.com/hq_reader!", [("social", "https://x.com/hq_reader")]),
        ("https://www.facebook.com/hq.reader", [("social", "https://www.facebook.com/hq.reader")]),
        ("instagram.com/hq.reader", [("social", "instagram.com/hq.reader")]),
    ],
)
def test_finds_personal_data(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The range is $52,000-$61,000, up from 48,500.",
        "I was there 2019-2023, grade 14-3, step 7.",
        "ISBN 978-0-306-40615-7 and order 5550123344",
        "Interview on 2026-09-14 at 10:30 in room 3-201.",
        "Write to name@example.com or someone@site.test for the template.",
        "I work at Main Street Library on Elm Street.",
        "Top 10 Ways to fail an interview",
        "version 1.2.3.4 and 192.168.1.1",
        "Our page: https://www.linkedin.com/company/harbour-libraries",
        "Join https://www.facebook.com/groups/librarianjobs or see instagram.com/p/Cx1",
        "Search https://x.com/search?q=library+jobs",
        "I spent 2 years at the reference desk and 3 at circulation.",
    ],
)
def test_leaves_ordinary_text_alone(text):
    assert kinds(text) == []


def test_names_from_the_owners_list_whole_words_any_case():
    text = "My director at harbour county  library,\nDana Whitcombe, said no. Danas are fine."
    assert kinds(text, NAMES) == [
        ("employer", "harbour county  library"),
        ("person", "Dana Whitcombe"),
    ]
    assert [f.line for f in find(text, NAMES)] == [1, 2]
    assert kinds("Harbour County Libraryship", NAMES) == []


def test_load_names(tmp_path):
    path = tmp_path / "privacy.toml"
    assert privacy.load_names(path) == Names()
    path.write_text('employers = ["Harbour County Library"]\npeople = ["Dana Whitcombe"]\n')
    assert privacy.load_names(path) == NAMES
    path.write_text('employers = "Harbour"\n')
    with pytest.raises(privacy.NamesError, match=r"privacy\.toml: `employers` must be a list"):
        privacy.load_names(path)
    path.write_text("employers = [\n")
    with pytest.raises(privacy.NamesError, match="cannot be read as TOML"):
        privacy.load_names(path)
    path.write_text('employer = ["Harbour"]\n')
    with pytest.raises(privacy.NamesError, match="unknown key"):
        privacy.load_names(path)


THREAD = """\
Title: Do I tell Dana Whitcombe?
Date: 2026-09-14 08:05
Kind: question
Author: Felix Navarro

Call me at 555-201-3344 if you know.

```reply
id: p1
author: Nadia Farouk
email: nadia@mailbox.net
date: 2026-09-14 09:30
```

Mine is 555-201-9988.

```reply
id: p2
parent: p1
author: Felix Navarro
date: 2026-09-14 12:40
reviewed: yes
```

Thanks, my desk is 555-201-0000.

```reply
id: p3
author: Lee Ashdown
date: 2026-09-14 13:00
moderation: pending
```

Write to lee@mailbox.net.
"""


def test_thread_findings_name_their_line_and_part():
    flagged = check_thread(THREAD, "t.md", NAMES)
    assert [(f.line, f.where, f.finding.kind, f.published) for f in flagged] == [
        (1, "the thread's title", "person", True),
        (6, "the opening post", "phone", True),
        (15, "reply p1", "phone", True),
        (34, "reply p3", "email", False),  # pending: listed, not yet blocking
    ]
    # The header's `email:` field is never published and never read.
    assert "reviewed: yes" in flagged[2].fix and "reply p1" in flagged[2].fix


def test_a_thread_or_comment_the_reader_parsed_already_is_checked_alike():
    """The reader hands the check what it parsed (one parse of each file)."""
    from pelican.plugins.threads.parse import parse_comment, parse_thread

    parsed = parse_thread(THREAD, "t.md")
    assert check_thread(THREAD, "t.md", NAMES, parsed) == check_thread(THREAD, "t.md", NAMES)
    text = "Id: c1\nAuthor: A\nDate: 2026-01-01 10:00\n\nCall 555-201-3344.\n"
    reply, _ = parse_comment(text, "c1.md", default_id="c1")
    assert check_comment(text, "c1.md", "c1", NAMES, reply) == check_comment(text, "c1.md", "c1")
    assert len(check_comment(text, "c1.md", "c1", NAMES, reply)) == 1


def test_thread_metadata_reviewed_covers_the_opening_post():
    text = THREAD.replace("Kind: question\n", "Kind: question\nReviewed: yes\n")
    assert [f.where for f in check_thread(text, "t.md", NAMES)] == ["reply p1", "reply p3"]


def test_comment_file_and_its_reviewed_field():
    text = "Id: c1\nAuthor: A\nDate: 2026-01-01 10:00\n\nHi.\n\nSee linkedin.com/in/some-one\n"
    [found] = check_comment(text, "c1.md", "c1")
    assert (found.line, found.finding.kind) == (7, "social")
    assert check_comment(text.replace("Author: A\n", "Author: A\nReviewed: yes\n"), "c", "c1") == []
    withdrawn = "Id: c1\nDate: 2026-01-01 10:00\nModeration: withdrawn\n\n"
    assert check_comment(withdrawn, "c1.md", "c1") == []


def test_only_imported_posts_are_checked():
    own = "Title: My post\nDate: 2026-01-01\n\nCall 555-201-3344.\n"
    assert check_imported(own, "p.md") == []
    imported = own.replace("Date:", "Import-Key: wordpress:post:1\nDate:")
    [found] = check_imported(imported, "p.md")
    assert (found.line, found.finding.kind) == (5, "phone")


@given(st.text(max_size=400))
def test_any_text_gives_findings_not_a_traceback(text):
    for flagged in (
        check_thread(text, "t.md", NAMES),
        check_comment(text, "c.md", "c", NAMES),
        check_imported("Import-Key: x\n\n" + text, "p.md", NAMES),
    ):
        for item in flagged:
            assert item.line >= 1 and item.finding.kind in privacy.KINDS
