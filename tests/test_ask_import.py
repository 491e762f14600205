"""The whole loop of a reader's question: e-mailed through the Ask page, imported as a
pending thread, listed by `make pending`, not published until approved, then on the
question lists with its topics, under a pseudonym."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.sitebuild import SITEURL, build, copy_content, run_tool

FIXTURES = Path(__file__).parent / "importers"
TITLE = "Is it worth negotiating when the offer is already at the top of the posted range?"
SECRETS = ("Imogen", "Brandtwood", "imogen.c@mail.example.com", "ask-imogen-1")


def run_import(content: Path, name: str, *extra: str):
    return run_tool(
        "import_content.py", "email", FIXTURES / name, "--content", content, *extra, timeout=300
    )


def every_text(root: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="ignore")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".md", ".html", ".xml", ".json", ".txt", ".toml")
    )


@pytest.fixture(scope="module")
def asked(tmp_path_factory):
    root = tmp_path_factory.mktemp("asked")
    content = copy_content(root / "content")
    done = run_import(content, "question.eml")
    assert done.returncode == 0, done.stderr
    return root, content, done


def question_file(content: Path) -> Path:
    [path] = [
        p for p in (content / "threads").glob("*.md") if "Import-Key: email:ask:" in p.read_text()
    ]
    return path


def test_an_asked_question_becomes_a_pending_thread_under_a_pseudonym(asked):
    _root, content, done = asked
    assert "pending questions: 1" in done.stdout
    path = question_file(content)
    text = path.read_text(encoding="utf-8")
    assert (
        path.name
        == "is-it-worth-negotiating-when-the-offer-is-already-at-the-top-of-the-posted-range.md"
    )
    assert f"Title: {TITLE}\n" in text and "Kind: question\n" in text
    assert "Moderation: pending\n" in text
    assert re.search(r"^Author: reader-[a-z2-7]{8}$", text, re.M)
    # The form lines, the signature and the sign-off name are not in the question.
    assert "Notify:" not in text and "Sent from a phone" not in text
    assert "union contract" in text
    for secret in SECRETS:
        assert secret not in every_text(content), secret
    # Importing the same message again changes nothing.
    again = run_import(content, "question.eml")
    assert "pending questions: 1" in again.stdout and "1 unchanged" in again.stdout
    assert (
        len([p for p in (content / "threads").glob("*.md") if "email:ask:" in p.read_text()]) == 1
    )


def test_make_pending_lists_the_question_with_its_file_and_line(asked):
    _root, content, _done = asked
    path = question_file(content)
    line = path.read_text(encoding="utf-8").split("\n").index("Moderation: pending") + 1
    listed = run_tool("pending.py", "--content", content)
    assert listed.returncode == 0
    assert f"{path}:{line}: reader-" in listed.stdout
    assert f"question “{TITLE[:40]}" in listed.stdout
    assert "1 pending question." in listed.stdout
    # With the topics the build would give it, so the moderator sees where it will be listed.
    assert "\n  topics: " in listed.stdout and "negotiation" in listed.stdout.split("topics: ")[1]


def test_make_pending_says_when_a_question_would_be_on_no_topic_page(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "threads" / "lunch.md").write_text(
        "Title: Where do you all eat lunch?\nDate: 2026-11-20 12:00\nKind: discussion\n"
        "Author: reader-abcdefgh\nModeration: pending\n\nThe break room is always full.\n",
        encoding="utf-8",
    )
    listed = run_tool("pending.py", "--content", content)
    assert listed.returncode == 0, listed.stderr
    after = listed.stdout.split("lunch.md")[1]
    assert after.split("\n")[1].startswith("  no topic found: it would be on no topic page")


def test_a_pending_question_is_not_published_then_approval_publishes_it(asked, tmp_path):
    _root, content, _done = asked
    before = build(tmp_path / "pending", content=content)
    assert before.messages == []
    assert TITLE not in every_text(before.output)
    assert "finish a project" not in every_text(before.output)

    path = question_file(content)
    approved = copy_content_from(content, tmp_path / "approved-content")
    target = approved / "threads" / path.name
    target.write_text(
        target.read_text(encoding="utf-8").replace("Moderation: pending", "Moderation: published"),
        encoding="utf-8",
    )
    site = build(tmp_path / "approved", content=approved, search=True)
    assert site.messages == []
    url = f"{SITEURL}/2026/{path.stem}/"
    page = site.soup(url)
    topics = [a.get_text() for a in page.select("article.entry .topic-chip")]
    assert topics, "the tagger gives the question its topics"
    assert "Negotiation" in topics
    for listing in ("/questions/", "/questions/unanswered/"):
        [item] = [li for li in site.soup(listing).select("li.item") if li.a["href"] == url]
        assert item.select_one(".item-title").get_text(strip=True) == TITLE
        assert [a.get_text() for a in item.select(".topic-chip")] == topics
    assert (
        page.select_one(".byline").get_text(" ", strip=True).split("by ")[1].startswith("reader-")
    )
    assert page.select("a.leave-reply")
    for secret in SECRETS:
        assert secret not in every_text(site.output), secret

    # The same mailbox imported again keeps the approved question, and does not
    # suggest --force, which would put its Moderation back to pending. (The key that
    # makes handles and import keys lives beside the content folder: it comes along.)
    import shutil

    shutil.copy(content.parent / ".privacy-key", approved.parent / ".privacy-key")
    again = run_import(approved, "question.eml")
    assert again.returncode == 0, again.stderr
    assert "approved (Moderation: published) since it was imported; kept" in again.stdout
    assert "use --force" not in again.stdout
    assert "Moderation: published" in target.read_text(encoding="utf-8")
    assert len(list((approved / "threads").glob(f"{path.stem}*.md"))) == 1  # no second copy


def copy_content_from(source: Path, destination: Path) -> Path:
    import shutil

    shutil.copytree(source, destination)
    return destination


def test_a_question_without_a_subject_takes_its_first_sentence(tmp_path):
    content = copy_content(tmp_path / "content")
    message = tmp_path / "q.eml"
    message.write_text(
        "From: Pat <pat@mail.example.com>\n"
        "Subject: [ask] Your question in one line\n"
        "Date: Sun, 15 Nov 2026 09:00:00 -0600\n"
        "Message-ID: <q2@mail.example.com>\n\n"
        "Name: Night Shift Archivist\nNotify: no\n\n"
        "Should I list a contract job that ended early on my CV? It was eight months of a "
        "twelve-month grant.\n",
        encoding="utf-8",
    )
    done = run_import(content, str(message))
    assert done.returncode == 0, done.stderr
    assert "the subject has no question in it" in done.stdout
    [path] = [p for p in (content / "threads").glob("*.md") if "email:ask:" in p.read_text()]
    text = path.read_text(encoding="utf-8")
    assert "Title: Should I list a contract job that ended early on my CV?\n" in text
    assert "Author: Night Shift Archivist\n" in text and "Pat" not in text


def test_the_senders_address_in_a_signature_is_taken_out(tmp_path):
    """The address is written nowhere, though people sign with it."""
    content = copy_content(tmp_path / "content")
    message = tmp_path / "q.eml"
    message.write_text(
        "From: Robin Quayle <robin.q@mailhost.net>\n"
        "Subject: [ask] Do I mention a pending offer to the second library?\n"
        "Date: Sun, 15 Nov 2026 09:00:00 -0600\n"
        "Message-ID: <q3@mailhost.net>\n\n"
        "Name: \nNotify: no\n\n"
        "The first offer is verbal and the written one is late.\n\n"
        "Thanks,\nRobin Quayle\nRobin.Q@mailhost.net\n",
        encoding="utf-8",
    )
    done = run_import(content, str(message))
    assert done.returncode == 0, done.stderr
    assert "the sender's address was removed from the question (1 time(s))" in done.stdout
    [path] = [p for p in (content / "threads").glob("*.md") if "email:ask:" in p.read_text()]
    text = path.read_text(encoding="utf-8")
    assert "mailhost" not in text.lower() and "[address removed]" in text
    assert "Quayle" not in text


def test_an_askers_update_by_e_mail_is_marked_and_ordinary_first_lines_stay(tmp_path):
    content = copy_content(tmp_path / "content")
    mbox = tmp_path / "updates.mbox"
    mbox.write_text(
        "From someone Mon Nov 16 09:00:00 2026\n"
        "From: Wren <wren@mail.example.com>\n"
        "Subject: Re: Do I tell the hiring director? [reply-to: other-offer-fell-through]\n"
        "Date: Mon, 16 Nov 2026 09:00:00 -0600\n"
        "Message-ID: <u1@mail.example.com>\n\n"
        "Update: yes\n\nSix months in, and the job is what she said it would be.\n\n"
        "From someone Mon Nov 16 10:00:00 2026\n"
        "From: Sam <sam@mail.example.com>\n"
        "Subject: Re: Do I tell the hiring director? [reply-to: other-offer-fell-through]\n"
        "Date: Mon, 16 Nov 2026 10:00:00 -0600\n"
        "Message-ID: <u2@mail.example.com>\n\n"
        "Update: I tried this script and it worked for me too.\n",
        encoding="utf-8",
    )
    done = run_import(content, str(mbox))
    assert done.returncode == 0, done.stderr
    files = {
        p.read_text(encoding="utf-8")
        for p in (content / "comments" / "other-offer-fell-through").glob("mail-*.md")
    }
    marked = [t for t in files if "Six months in" in t]
    assert len(marked) == 1 and "Update: yes" in marked[0]
    [plain] = [t for t in files if "tried this script" in t]
    assert "Update: yes" not in plain and "Update: I tried this script" in plain
