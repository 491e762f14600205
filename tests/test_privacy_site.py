"""Privacy and withdrawal end to end, through the real commands: `make import`
(tools/import_content.py), `make publish` (tools/build.py --strict, with the
search index), `make pending` and `make takedown` (tools/takedown.py)."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.sitebuild import (
    PELICANCONF,
    PUBLISHCONF,
    ROOT,
    SITEURL,
    build_local,
    copy_content,
    run_command,
    run_tool,
)

BUILD = [sys.executable, str(ROOT / "tools" / "build.py")]


def publish(output: Path, content: Path, *extra: str, settings: Path = PUBLISHCONF):
    """`make publish`'s command (or, with PELICANCONF and no --strict, `make html`'s)."""
    command = [*BUILD, "--settings", str(settings), "--output", str(output)]
    command += ["--content", str(content), "--siteurl", SITEURL, *extra]
    return run_command(command, dict(os.environ), timeout=600)


def every_text(folder: Path):
    """(path, text) of every file under `folder`; gzip files (Pagefind's index and
    fragments) decompressed, so what the search index holds is read too."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        yield path, data.decode("utf-8", errors="replace")


def found_in(folder: Path, needle: str) -> list[Path]:
    return [p for p, text in every_text(folder) if needle.casefold() in text.casefold()]


def pagefind_records(site: Path) -> list[dict]:
    records = []
    for path in sorted((site / "pagefind" / "fragment").glob("*.pf_fragment")):
        raw = gzip.decompress(path.read_bytes())
        records.append(json.loads(raw[raw.index(b"{") :]))
    return records


MESSAGE = """\
From: "Harriet Quillfeather" <harriet.quillfeather@mailbox.net>
To: replies@stacks-and-offers.example.org
Subject: Re: Do you apply? [reply-to: below-current-pay#p1]
Date: Tue, 15 Sep 2026 07:30:00 -0500
Message-ID: <{id}@mailbox.net>
Content-Type: text/plain; charset=utf-8

{body}

--
Harriet Quillfeather
Branch Services
"""


def write_message(folder: Path, name: str, body: str, message_id: str) -> Path:
    path = folder / name
    path.write_text(MESSAGE.format(id=message_id, body=body), encoding="utf-8")
    return path


def publish_pending(content: Path) -> list[Path]:
    """The owner approves every e-mailed reply: Moderation: published."""
    paths = sorted((content / "comments" / "below-current-pay").glob("mail-*.md"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Moderation: pending", "Moderation: published"), "utf-8")
    return paths


def test_an_emailed_reply_is_published_under_a_handle_and_names_its_sender_nowhere(tmp_path):
    content = copy_content(tmp_path / "content")
    first = write_message(
        tmp_path,
        "first.eml",
        "I took the job at the top of the range and asked for a better title instead.\n"
        "The Quillfeather family rule: always ask once, in writing.\n\nThanks,\nHarriet",
        "hq-1",
    )
    done = run_tool("import_content.py", "email", first, "--content", content)
    assert done.returncode == 0, done.stderr
    assert "given a handle: 1" in done.stdout
    assert "the sender's name was replaced by 'reader-" in done.stdout
    # The key lives beside content/, made on first use, readable by the owner only.
    key = tmp_path / ".privacy-key"
    assert key.is_file() and key.stat().st_mode & 0o077 == 0
    # The same sender, later, with a chosen name for this one message.
    second = write_message(
        tmp_path, "second.eml", "Name: Hattie Q\n\nAnd the title bump came through.", "hq-2"
    )
    third = write_message(tmp_path, "third.eml", "One more thing: ask in writing.", "hq-3")
    assert run_tool("import_content.py", "email", second, "--content", content).returncode == 0
    assert run_tool("import_content.py", "email", third, "--content", content).returncode == 0
    paths = publish_pending(content)
    authors = {
        p.read_text(encoding="utf-8").split("Author: ", 1)[1].split("\n", 1)[0] for p in paths
    }
    [handle] = authors - {"Hattie Q"}
    assert re.fullmatch(r"reader-[a-z2-7]{8}", handle), authors
    assert authors == {handle, "Hattie Q"}  # the same address, the same handle

    output = tmp_path / "output"
    done = publish(output, content, "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    site = output.resolve()
    soup = BeautifulSoup((site / "2026/below-current-pay/index.html").read_bytes(), "html.parser")
    shown = {a.get_text() for a in soup.select(".reply-author")}
    assert {handle, "Hattie Q"} <= shown
    assert "asked for a better title instead" in soup.get_text()
    records = pagefind_records(site)
    assert any("asked for a better title instead" in r["content"] for r in records)
    for secret in ("Quillfeather", "harriet.quillfeather", "mailbox.net", "hq-1@"):
        assert found_in(content, secret) == [], secret
        assert found_in(site, secret) == [], secret


PHONE_REPLY = """\
Id: call-me
Parent: p1
Author: Ines Calloway
Date: 2026-09-15 10:00
Moderation: published

Happy to talk it through.
My number is (555) 201-3344, evenings are best.
"""


def test_a_published_phone_number_stops_publish_and_names_the_file(tmp_path):
    content = copy_content(tmp_path / "content")
    comment = content / "comments" / "below-current-pay" / "call-me.md"
    comment.parent.mkdir(parents=True, exist_ok=True)
    comment.write_text(PHONE_REPLY, encoding="utf-8")
    output = tmp_path / "output"

    # make pending lists it for the moderator, with its file and line.
    pending = run_tool("pending.py", "--content", content)
    assert f"{comment}:8: comment call-me contains a phone number ('(555) 201-3344')" in (
        pending.stdout
    )

    # make publish refuses, naming the file, the line, what was found and the fix.
    done = publish(output, content, "--strict", "--no-search")
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert f"{comment}:8: comment call-me contains a phone number" in said, said
    assert "add `Reviewed: yes` to the comment file's header" in said
    assert not output.exists()

    # make html builds, and warns.
    done = publish(output, content, "--no-search", settings=PELICANCONF)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "contains a phone number" in done.stdout + done.stderr
    assert found_in(output.resolve(), "(555) 201-3344")

    # Once the owner has looked and accepts it, the publish goes through.
    comment.write_text(PHONE_REPLY.replace("Moderation:", "Reviewed: yes\nModeration:"), "utf-8")
    done = publish(output, content, "--strict", "--no-search")
    assert done.returncode == 0, done.stdout + done.stderr

    # A name the owner adds to privacy.toml is looked for again in every file,
    # those the builds before read (and kept the reading of) too.
    names = content / "privacy.toml"
    listed = 'people = ["Dana Whitcombe"]'
    assert listed in names.read_text(encoding="utf-8")
    names.write_text(
        names.read_text(encoding="utf-8").replace(
            listed, 'people = ["Dana Whitcombe", "single sentence"]'
        ),
        encoding="utf-8",
    )
    done = publish(output, content, "--strict", "--no-search")
    said = done.stdout + done.stderr
    assert done.returncode != 0, said
    assert "reply-to-theo.md:5: comment reply-to-theo contains" in said, said
    assert "'single sentence'" in said


WITHDRAWN_SENTENCE = "The quince-coloured binder on my desk holds every rejection since 2019."
CHILD_SENTENCE = "Keep that binder; it is proof you kept going through the lean years."
REPLIES = f"""

```reply
id: binder
parent: p1
author: Odalys Pemberton
date: 2026-09-15 08:00
```

{WITHDRAWN_SENTENCE}

```reply
id: binder-answer
parent: binder
author: Rune Halvorsen
date: 2026-09-15 09:00
```

{CHILD_SENTENCE}
"""


OLD_ADDRESS = "/forum/my-colleague-applied-for-my-job/"


@pytest.fixture(scope="module")
def withdrawn(tmp_path_factory):
    """The demo site with a reply (and a child reply) added, published; then the
    reply and a whole thread withdrawn with `make takedown`, and published again."""
    root = tmp_path_factory.mktemp("takedown")
    content = copy_content(root / "content")
    thread = content / "threads" / "below-current-pay.md"
    thread.write_text(thread.read_text(encoding="utf-8").rstrip("\n") + REPLIES, "utf-8")
    # The thread to withdraw whole had an old address: it is in the redirect maps.
    whole = content / "threads" / "staff-applied-for-my-job.md"
    text = whole.read_text(encoding="utf-8")
    whole.write_text(text.replace("\n\n", f"\nOriginal-URL: {OLD_ADDRESS}\n\n", 1), "utf-8")
    output = root / "output"
    done = publish(output, content, "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    before = output.resolve()
    # Before the takedown, the sentence is there: the checks below can fail.
    assert found_in(before, "quince-coloured binder")
    assert any("quince" in p.name or p.suffix == ".pf_fragment" for p in found_in(before, "quince"))
    assert found_in(before, "someone on my team applied for my job")
    assert found_in(before, OLD_ADDRESS) == [before / "_redirects", before / "redirects.nginx.map"]

    temp = root / "tmp"
    temp.mkdir()
    said = []
    for item in ("below-current-pay#binder", "staff-applied-for-my-job"):
        done = run_tool(
            "takedown.py",
            item,
            "--reason",
            "asked by the author by e-mail",
            "--content",
            content,
            env={"TMPDIR": str(temp)},
        )
        assert done.returncode == 0, done.stderr
        said.append(done.stdout)
    done = publish(output, content, "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    return output.resolve(), content, said, temp


def test_a_withdrawn_reply_is_in_no_output_file_and_its_child_stays(withdrawn):
    site, content, _said, _temp = withdrawn
    for needle in (WITHDRAWN_SENTENCE, "quince", "Odalys", "Pemberton"):
        assert found_in(site, needle) == [], needle  # pages, feeds, JSON-LD, sitemap, Pagefind
        assert found_in(content, needle) == [], needle  # the source file too
    page = site / "2026/below-current-pay/index.html"
    soup = BeautifulSoup(page.read_bytes(), "html.parser")
    placeholder = soup.select_one("#reply-binder")
    assert "[withdrawn at the author's request]" in placeholder.get_text()
    assert placeholder.select_one("#reply-binder-answer")  # the child, still below it
    assert CHILD_SENTENCE in soup.select_one("#reply-binder-answer").get_text()
    assert any(CHILD_SENTENCE in r["content"] for r in pagefind_records(site))
    feed = (site / "2026/below-current-pay/replies.atom.xml").read_text(encoding="utf-8")
    assert "lean years" in feed
    source = (content / "threads" / "below-current-pay.md").read_text(encoding="utf-8")
    assert "id: binder\nparent: p1\ndate: 2026-09-15 08:00\nmoderation: withdrawn\n" in source
    assert re.search(r"reason: \d{4}-\d\d-\d\d: asked by the author by e-mail", source)


def test_a_withdrawn_thread_keeps_its_address_and_others_replies_only(withdrawn):
    site, _content, _said, _temp = withdrawn
    for needle in ("someone on my team applied for my job", "Gabriel Ruiz", OLD_ADDRESS):
        assert found_in(site, needle) == [], needle  # the redirect maps included
    page = site / "2026/staff-applied-for-my-job/index.html"
    soup = BeautifulSoup(page.read_bytes(), "html.parser")
    assert soup.h1.get_text() == "Withdrawn at the author's request"
    assert soup.select("li.reply:not(.reply-removed)")  # other people's replies stay
    assert not soup.select_one(".byline a[href*='author/']")  # no byline, not even the owner's
    # Listed, it says when it was asked and by no one: not the owner's name either.
    listing = BeautifulSoup((site / "questions/index.html").read_bytes(), "html.parser")
    [row] = [
        li for li in listing.select("li.item")
        if li.h2.get_text(strip=True) == "Withdrawn at the author's request"
    ]  # fmt: skip
    started = row.select_one(".item-started")
    assert started.get_text(" ", strip=True).startswith("asked ") and started.time
    assert " by " not in started.get_text() and not row.select_one(".item-author")


def test_takedown_says_how_to_purge_history(withdrawn):
    _site, _content, said, temp = withdrawn
    assert "git filter-repo --replace-text" in said[0]
    [expressions] = [p for p in temp.glob("takedown-*.txt") if "quince" in p.read_text()]
    assert f"literal:{WITHDRAWN_SENTENCE}==>[withdrawn]" in expressions.read_text()
    assert ".site-versions" in said[0]


def test_a_handle_comes_from_the_key_and_the_address_never_from_the_address_alone(tmp_path):
    from tools.importers.email_in import ImportFailure, handle, load_key

    key = load_key(tmp_path / "one" / ".privacy-key")
    other = load_key(tmp_path / "two" / ".privacy-key")
    assert key != other and load_key(tmp_path / "one" / ".privacy-key") == key  # kept
    address = "harriet.quillfeather@mailbox.net"
    assert handle(key, address) == handle(key, "Harriet.Quillfeather@MAILBOX.net ")
    assert handle(key, address) != handle(other, address)
    assert handle(key, address) != handle(key, "someone.else@mailbox.net")
    short = tmp_path / "short-key"
    short.write_text("abc\n", encoding="ascii")
    with pytest.raises(ImportFailure, match="short-key: the privacy key is too short"):
        load_key(short)


def test_the_senders_name_is_replaced_in_the_body_but_ordinary_words_stay():
    from tools.importers.email_in import without_names

    body = "Harriet Quillfeather here. The Quillfeather rule: ask.\nThanks, Harriet"
    assert without_names(body, "Harriet Quillfeather", "reader-x") == (
        "reader-x here. The reader-x rule: ask.\nThanks, reader-x",
        3,
    )
    # A display name of ordinary words changes nothing but the name itself.
    body = "The branch team said the Library Jobs board was down.\nLibrary Jobs"
    assert without_names(body, "Library Jobs", "reader-x") == (
        "The branch team said the reader-x board was down.\nreader-x",
        2,
    )


def test_make_takedown_runs_the_command_and_wants_both_item_and_reason(tmp_path):
    content = copy_content(tmp_path / "content")
    make = ["make", "-s", "-C", str(ROOT), f"INPUTDIR={content}"]
    done = subprocess.run(
        [*make, "takedown", "ITEM=below-current-pay#p2"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "Give both: make takedown ITEM=" in done.stdout
    done = subprocess.run(
        [*make, "takedown", "ITEM=below-current-pay#p2", "REASON=asked in person"],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Withdrew reply p2 of below-current-pay" in done.stdout
    source = (content / "threads" / "below-current-pay.md").read_text(encoding="utf-8")
    assert "moderation: withdrawn\nreason: " in source and "asked in person" in source


def test_a_post_withdrawn_whole_keeps_its_address_and_loses_its_words(tmp_path):
    content = copy_content(tmp_path / "content")
    post = content / "posts" / "reading-a-rejection-email.md"
    title = post.read_text(encoding="utf-8").split("Title: ", 1)[1].split("\n", 1)[0]
    done = run_tool(
        "takedown.py",
        "reading-a-rejection-email",
        "--reason",
        "x",
        "--content",
        content,
        env={"TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    site = build_local(tmp_path / "out", content=content)
    assert found_in(site.output, title) == []
    [page] = [p for p in site.output.glob("*/reading-a-rejection-email/index.html")]
    assert "Withdrawn at the author's request" in page.read_text(encoding="utf-8")


def test_takedown_mistakes_are_named(tmp_path):
    content = copy_content(tmp_path / "content")
    done = run_tool(
        "takedown.py", "below-current-pay#nobody", "--reason", "x", "--content", content
    )
    assert done.returncode == 2 and "no reply 'nobody'" in done.stderr
    done = run_tool("takedown.py", "no-such-slug", "--reason", "x", "--content", content)
    assert done.returncode == 2 and "has the slug 'no-such-slug'" in done.stderr
    done = run_tool("takedown.py", "Bad Item!", "--reason", "x", "--content", content)
    assert done.returncode == 2 and "cannot read ITEM" in done.stderr


def test_every_reply_and_thread_has_a_removal_link(site):
    soup = site.soup("/2026/below-current-pay/")
    thread_link = soup.select_one(".item-actions a.removal-link")["href"]
    assert thread_link.startswith("mailto:replies@stacks-and-offers.example.org?subject=")
    assert thread_link.endswith("%5Bremove%3A%20below-current-pay%5D")
    for reply in soup.select("li.reply:not(.reply-removed)"):
        link = reply.select_one(":scope > article a.removal-link")["href"]
        assert link.endswith(f"%5Bremove%3A%20below-current-pay%23{reply['id'][6:]}%5D")


def test_a_removal_request_by_email_names_the_takedown_command(tmp_path):
    content = copy_content(tmp_path / "content")
    request = tmp_path / "remove.eml"
    request.write_text(
        "From: A Reader <a.reader@mailbox.net>\n"
        "Subject: Removal request: Do you apply? [remove: below-current-pay#p1]\n"
        "Date: Tue, 15 Sep 2026 07:30:00 -0500\nMessage-ID: <rm-1@mailbox.net>\n\n"
        "Please take my reply down.\n",
        encoding="utf-8",
    )
    done = run_tool("import_content.py", "email", request, "--content", content)
    assert done.returncode == 0, done.stderr
    assert "removal requests (not imported): 1" in done.stdout
    assert 'make takedown ITEM=below-current-pay#p1 REASON="requested by e-mail"' in done.stdout
    assert not list((content / "comments").glob("below-current-pay/mail-*.md"))


def test_licence_in_the_footer_and_json_ld(site):
    soup = site.soup("/2026/below-current-pay/")
    licence = soup.select_one("footer a[rel=license]")
    assert licence["href"] == "https://creativecommons.org/licenses/by/4.0/"
    assert site.main_jsonld("/2026/below-current-pay/")["mainEntity"]["license"] == licence["href"]
    post = next(p for p in site.output.glob("20*/*/index.html") if "BlogPosting" in p.read_text())
    data = [
        json.loads(s.string)
        for s in BeautifulSoup(post.read_bytes(), "html.parser").select(
            'script[type="application/ld+json"]'
        )
    ]
    assert any(d.get("license") == licence["href"] for d in data)


def test_imported_community_threads_say_where_they_came_from(tmp_path):
    content = copy_content(tmp_path / "content")
    fixtures = Path(__file__).parent / "importers"
    for source, name in (("reddit", "reddit_raw.json"), ("discourse", "discourse_topic.json")):
        done = run_tool("import_content.py", source, fixtures / name, "--content", content)
        assert done.returncode == 0, done.stderr
    imported = [
        p.read_text(encoding="utf-8")
        for p in (content / "threads").glob("*.md")
        if "Import-Key: reddit:" in p.read_text(encoding="utf-8")
        or "Import-Key: discourse:" in p.read_text(encoding="utf-8")
    ]
    assert len(imported) == 2
    assert any("Attribution: Imported from Reddit" in text for text in imported)
    assert any("Attribution: Imported from a Discourse forum" in text for text in imported)
    output = tmp_path / "output"
    done = publish(output, content, "--no-search", settings=PELICANCONF)
    assert done.returncode == 0, done.stderr
    pages = [
        p
        for p in output.resolve().glob("*/*/index.html")
        if "Each post belongs to the person who wrote it" in p.read_text(encoding="utf-8")
    ]
    assert len(pages) == 2
    for page in pages:
        soup = BeautifulSoup(page.read_bytes(), "html.parser")
        [data] = [
            json.loads(s.string)
            for s in soup.select('script[type="application/ld+json"]')
            if "BreadcrumbList" not in s.string
        ]
        assert "license" not in json.dumps(data)  # the posts are their writers', not the site's


def test_names_from_privacy_toml_are_reported_by_the_build(tmp_path):
    content = copy_content(tmp_path / "content")
    comment = content / "comments" / "below-current-pay" / "where.md"
    comment.parent.mkdir(parents=True, exist_ok=True)
    comment.write_text(
        "Id: where\nAuthor: Tove Lindqvist\nDate: 2026-09-15 10:00\n\n"
        "Same thing happened to me at the harbour county library system last spring.\n",
        encoding="utf-8",
    )
    site = build_local(tmp_path / "out", content=content)
    assert (
        f"{comment}:5: comment where contains an employer's name from privacy.toml "
        "('harbour county library system')"
    ) in "\n".join(site.messages)
    (content / "privacy.toml").write_text("employers = [\n", encoding="utf-8")
    site = build_local(tmp_path / "out", content=content)
    assert any(
        "privacy.toml: cannot be read as TOML" in m and "Fix the syntax" in m for m in site.messages
    )
