"""Reply notifications without a server: a reader opts in (`Notify: yes`), the address
is kept outside content/ and the output, `make notify` e-mails the replies published
since the last run through a real SMTP conversation with a local server, and the
unsubscribe token in each notice is honoured by the importer."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.sitebuild import ROOT, build, copy_content, run_tool
from tests.smtp_sink import SMTPSink

MAIL = Path(__file__).parent / "importers" / "question.eml"
ADDRESS = "imogen.c@mail.example.com"


def notify(content: Path, subscribers: Path, *extra):
    return run_tool(
        "notify.py",
        "--content",
        content,
        "--subscribers",
        subscribers,
        "--siteurl",
        "https://site.test",
        *extra,
        timeout=120,
    )


def add_reply(thread: Path, reply_id: str, author: str, date: str, text: str, **fields) -> None:
    extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
    with thread.open("a", encoding="utf-8") as out:
        out.write(
            f"\n```reply\nid: {reply_id}\nauthor: {author}\ndate: {date}\n{extra}```\n\n{text}\n"
        )


@pytest.fixture
def subscribed(tmp_path):
    content = copy_content(tmp_path / "content")
    subscribers = tmp_path / "private" / "subscribers.json"
    done = run_tool(
        "import_content.py", "email", MAIL, "--content", content, "--subscribers", subscribers
    )
    assert done.returncode == 0, done.stderr
    assert "notification requests: 1" in done.stdout and ADDRESS not in done.stdout
    [thread] = [p for p in (content / "threads").glob("*.md") if "email:ask:" in p.read_text()]
    return content, subscribers, thread


def test_the_address_is_kept_outside_content_readable_by_the_owner_only(subscribed, tmp_path):
    content, subscribers, thread = subscribed
    assert stat.S_IMODE(subscribers.stat().st_mode) == 0o600
    [entry] = json.loads(subscribers.read_text(encoding="utf-8"))["subscriptions"]
    assert entry["address"] == ADDRESS and entry["slug"] == thread.stem
    assert entry["name"].startswith("reader-") and len(entry["token"]) >= 20
    for path in content.rglob("*"):
        if path.is_file():
            assert ADDRESS not in path.read_text(encoding="utf-8", errors="ignore"), path
    # Approved and built: the address is in no output file either.
    thread.write_text(thread.read_text().replace("Moderation: pending", "Moderation: published"))
    site = build(tmp_path / "out", content=content)
    for path in site.output.rglob("*"):
        if path.is_file():
            assert ADDRESS not in path.read_text(encoding="utf-8", errors="ignore"), path
    # The default place is beside content/, and git never takes it.
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".subscribers.json"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def test_notify_sends_each_new_published_reply_once_and_honours_unsubscribe(subscribed, tmp_path):
    content, subscribers, thread = subscribed
    # Nothing is sent for a question that is not published yet.
    with SMTPSink() as sink:
        done = notify(content, subscribers, "--smtp-port", sink.port)
    assert done.returncode == 0 and sink.received == [] and "0 e-mails sent" in done.stdout

    thread.write_text(thread.read_text().replace("Moderation: pending", "Moderation: published"))
    asker = re.search(r"^Author: (.+)$", thread.read_text(), re.M).group(1)
    add_reply(
        thread,
        "a1",
        "Halvard P.",
        "2026-11-15 09:00",
        "Ask for the start date; it costs them nothing.",
    )
    add_reply(thread, "a2", "Nadia Farouk", "2026-11-15 10:00", "Held back.", moderation="pending")
    add_reply(thread, "a3", asker, "2026-11-15 11:00", "Thank you, I will.")

    dry = notify(content, subscribers, "--dry-run")
    assert dry.returncode == 0 and "1 e-mail(s) would be sent" in dry.stdout
    assert f"To: {ADDRESS}" in dry.stdout and "Halvard P." in dry.stdout
    assert "\nList-Unsubscribe: <mailto:" in dry.stdout  # as written, not encoded words
    assert json.loads(subscribers.read_text())["subscriptions"][0]["sent"] == []

    with SMTPSink() as sink:
        done = notify(content, subscribers, "--smtp-port", sink.port)
        assert done.returncode == 0, done.stderr
        again = notify(content, subscribers, "--smtp-port", sink.port)
    assert "1 e-mail(s) sent" in done.stdout and "0 e-mails sent" in again.stdout
    [(_sender, recipients, message)] = sink.received
    assert recipients == [ADDRESS]
    text = message.get_content()
    assert "Ask for the start date" in text
    assert f"https://site.test/2026/{thread.stem}/#reply-a1" in text
    assert "Held back." not in text and "Thank you, I will." not in text  # pending; their own
    token = re.search(r"\[unsubscribe: ([A-Za-z0-9_-]+)\]", text).group(1)
    assert token in message["List-Unsubscribe"]

    # A later reply is sent on the next run, and only it.
    add_reply(
        thread, "a4", "June Castellanos", "2026-11-16 08:00", "Union contracts often allow that."
    )
    with SMTPSink() as sink:
        assert notify(content, subscribers, "--smtp-port", sink.port).returncode == 0
    [(_s, _r, later)] = sink.received
    assert "Union contracts" in later.get_content() and "start date" not in later.get_content()

    # The reader follows the unsubscribe link: the importer removes the subscription.
    stop = tmp_path / "stop.eml"
    stop.write_text(
        f"From: {ADDRESS}\nTo: replies@stacks-and-offers.example.org\n"
        f"Subject: [unsubscribe: {token}]\nDate: Tue, 17 Nov 2026 08:00:00 -0600\n"
        "Message-ID: <stop-1@mail.example.com>\n\nstop\n",
        encoding="utf-8",
    )
    done = run_tool(
        "import_content.py", "email", stop, "--content", content, "--subscribers", subscribers
    )
    assert done.returncode == 0 and "unsubscribe requests: 1" in done.stdout
    assert "no longer gets replies" in done.stdout
    assert json.loads(subscribers.read_text())["subscriptions"] == []
    add_reply(thread, "a5", "Okonkwo E.", "2026-11-18 08:00", "One more thought.")
    with SMTPSink() as sink:
        assert notify(content, subscribers, "--smtp-port", sink.port).returncode == 0
    assert sink.received == []


def test_a_mail_server_that_is_not_there_is_named_and_nothing_is_marked(subscribed):
    content, subscribers, thread = subscribed
    thread.write_text(thread.read_text().replace("Moderation: pending", "Moderation: published"))
    add_reply(thread, "a1", "Halvard P.", "2026-11-15 09:00", "A reply.")
    with SMTPSink() as sink:
        port = sink.port
    done = notify(content, subscribers, "--smtp-port", port)  # closed by now
    assert done.returncode == 1
    assert f"the mail server at localhost:{port}" in done.stderr
    assert json.loads(subscribers.read_text())["subscriptions"][0]["sent"] == []


def test_the_notify_checkbox_of_a_form_subscribes_too(tmp_path):
    content = copy_content(tmp_path / "content")
    subscribers = tmp_path / "subs.json"
    export = Path(__file__).parent / "importers" / "forms" / "formspree_export.csv"
    done = run_tool(
        "import_content.py", "form", export, "--content", content, "--subscribers", subscribers
    )
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(subscribers.read_text())["subscriptions"]
    assert entry["address"] == "reader.two@mail.example.com"
    assert entry["slug"] == "other-offer-fell-through"
