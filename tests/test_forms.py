"""The form path: the Ask and Reply forms posting to a form service, and `make import
SOURCE=form` turning the service's export (saved examples written for this project) into
the same pending files as e-mail; hostile submissions rendered harmless."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.sitebuild import build, copy_content, run_build, run_tool
from tests.test_xss import VECTORS, offending

FORMS = Path(__file__).parent / "importers" / "forms"
ADDRESSES = ("imogen.c@mail.example.com", "reader.two@mail.example.com", "some-github-user")


def run_import(content: Path, path: Path, source: str = "form", *extra: str):
    return run_tool("import_content.py", source, path, "--content", content, *extra, timeout=300)


def written(content: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(content.rglob("*.md")))


def new_threads(content: Path) -> list[Path]:
    return [
        p for p in (content / "threads").glob("*.md") if "Import-Key: form:ask:" in p.read_text()
    ]


@pytest.fixture
def content(tmp_path) -> Path:
    return copy_content(tmp_path / "content")


def test_netlify_export_gives_a_pending_question_a_pending_reply_and_skips_spam(content):
    done = run_import(content, FORMS / "netlify_submissions.json")
    assert done.returncode == 0, done.stderr
    assert "pending questions: 1" in done.stdout and "pending replies: 1" in done.stdout
    assert "skipped: spam (the hidden field was filled in): 1" in done.stdout
    [thread] = new_threads(content)
    text = thread.read_text(encoding="utf-8")
    assert (
        "Title: Should I take a part-time circulation job while I look for full-time work?" in text
    )
    assert "Moderation: pending" in text and "Kind: question" in text
    assert re.search(r"^Author: reader-[a-z2-7]{8}$", text, re.M)
    [reply] = (content / "comments" / "below-current-pay").glob("form-*.md")
    reply_text = reply.read_text(encoding="utf-8")
    assert "Author: Second Shift" in reply_text and "Moderation: pending" in reply_text
    assert "review cycle" in reply_text and "Cheap watches" not in written(content)
    for address in ADDRESSES:
        assert address not in written(content)
    listed = run_tool("pending.py", "--content", content).stdout
    assert "1 pending question." in listed and "Second Shift" in listed


def test_the_same_address_gets_the_same_handle_by_form_and_by_e_mail(content):
    assert run_import(content, FORMS / "netlify_submissions.json").returncode == 0
    mail = Path(__file__).parent / "importers" / "question.eml"
    assert run_import(content, mail, "email").returncode == 0
    authors = {
        line
        for path in (content / "threads").glob("*.md")
        for line in path.read_text(encoding="utf-8").splitlines()
        if "Import-Key: form:ask:" in path.read_text()
        or "Import-Key: email:ask:" in path.read_text()
        if line.startswith("Author: ")
    }
    assert len(authors) == 1, authors


@pytest.mark.parametrize(
    ("fixture", "slug", "words", "author"),
    [
        ("formspree_export.csv", None, "apply for her job when she retires", "Stacks Regular"),
        ("formspree_export.csv", "other-offer-fell-through", "almost word for word", "reader-"),
        ("staticman_entries.json", "is-the-mlis-worth-it", "no debt", "Evening Cataloguer"),
        ("github_issues.json", None, "history MA", "reader-"),
    ],
)
def test_each_service_export_lands_where_its_token_says(content, fixture, slug, words, author):
    done = run_import(content, FORMS / fixture)
    assert done.returncode == 0, done.stderr
    if slug is None:
        [path] = [p for p in new_threads(content) if words in p.read_text(encoding="utf-8")]
        text = path.read_text(encoding="utf-8")
        assert "Moderation: pending" in text and "[ask]" not in text
    else:
        [path] = [
            p
            for p in (content / "comments" / slug).glob("form-*.md")
            if words in p.read_text(encoding="utf-8")
        ]
        text = path.read_text(encoding="utf-8")
        assert "Moderation: pending" in text
    assert f"Author: {author}" in text
    for address in ADDRESSES:
        assert address not in written(content)
    if fixture == "formspree_export.csv":
        reply = next((content / "comments" / "other-offer-fell-through").glob("form-*.md"))
        assert "Parent: halvard" in reply.read_text(encoding="utf-8")
    if fixture == "github_issues.json":
        assert "Title: Is a second master's worth it for archives work?" in text
        assert "_No response_" not in text
    # Importing again changes nothing.
    assert "written" not in run_import(content, FORMS / fixture).stdout


def test_a_malformed_export_names_the_line_and_writes_nothing(content, tmp_path):
    before = written(content)
    done = run_import(content, FORMS / "broken.csv")
    assert done.returncode == 2
    assert "broken.csv:3: more values than the header has columns" in done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('[{"message": "x", "token": "[ask]"},\n {"message": }]', encoding="utf-8")
    done = run_import(content, bad)
    assert done.returncode == 2 and re.search(r"bad\.json:2:\d+: not valid JSON", done.stderr)
    dated = tmp_path / "dated.json"
    dated.write_text(json.dumps([{"message": "x", "token": "[ask]", "date": "last Tuesday"}]))
    done = run_import(content, dated)
    assert done.returncode == 2 and "cannot read the date 'last Tuesday'" in done.stderr
    assert written(content) == before


def test_hostile_submissions_are_harmless_once_approved_and_built(tmp_path):
    content = copy_content(tmp_path / "content")
    submissions = []
    for number, vector in enumerate(VECTORS):
        submissions.append(
            {
                "id": f"q{number}",
                "created_at": "2026-11-25T10:00:00Z",
                "data": {
                    "token": "[ask]",
                    "title": vector,
                    "message": vector,
                    "name": vector,
                    "email": vector,
                    "notify": "yes",
                },
            }
        )
        submissions.append(
            {"id": f"r{number}", "created_at": "2026-11-25T11:00:00Z", "data": {
                "token": "[reply-to: panel-interview-day]", "message": vector,
                "name": vector, "update": "yes"}}
        )  # fmt: skip
    export = tmp_path / "hostile.json"
    export.write_text(json.dumps(submissions), encoding="utf-8")
    done = run_import(content, export, "form", "--subscribers", tmp_path / "subs.json")
    assert done.returncode == 0, done.stderr
    assert f"pending questions: {len(VECTORS)}" in done.stdout
    # The owner approves every one of them (the worst case).
    for path in [*new_threads(content), *(content / "comments").glob("*/form-*.md")]:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("oderation: pending", "oderation: published"), "utf-8")
    site = build(tmp_path / "out", content=content)
    pages = [p for p in site.html_files() if "pagefind" not in p.parts]
    problems = {}
    for path in pages:
        found = offending(BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser"), path)
        if found:
            problems[str(path.relative_to(site.output))] = found[:3]
    assert problems == {}
    listed = site.soup("/questions/").select("li.item")
    assert len(listed) >= 10  # the questions are there, as text


GITHUB_FORM = "https://github.com/me/site/issues/new?template=reader.yml"


def test_forms_post_to_the_service_the_owner_set(demo_build):
    site = demo_build(
        READERS_FORM_SERVICE="formspree",
        READERS_FORM_ENDPOINT="https://formspree.io/f/xdemoabc",
    )
    assert site.messages == []
    [form] = site.soup("/ask/").select("form.ask-form")
    assert form["method"] == "post" and form["action"] == "https://formspree.io/f/xdemoabc"
    assert form.select_one('input[name="token"]')["value"] == "[ask]"
    assert form.select_one('input[type="checkbox"][name="notify"]')
    assert site.soup("/ask/").select(".ask-question")  # the mailto: stays
    thread = site.soup("/2026/below-current-pay/")
    [reply_form] = thread.select("form.reply-form")
    assert reply_form.select_one('input[name="token"]')["value"] == "[reply-to: below-current-pay]"
    assert len(thread.select("a.leave-reply")) == 1

    site = demo_build(
        READERS_FORM_SERVICE="staticman",
        READERS_FORM_ENDPOINT="https://staticman.example.org/v3/entry/github/me/site/main/replies",
    )
    form = site.soup("/2026/below-current-pay/").select_one("form.reply-form")
    assert form.select_one('textarea[name="fields[message]"]')

    site = demo_build(READERS_FORM_SERVICE="github", READERS_FORM_ENDPOINT=GITHUB_FORM)
    form = site.soup("/ask/").select_one("form.ask-form")
    assert form["method"] == "get" and form["action"] == "https://github.com/me/site/issues/new"
    assert form.select_one('input[name="template"]')["value"] == "reader.yml"
    assert not form.select('input[type="email"]')  # an issue is public: no address asked

    site = demo_build(READERS_FORM_SERVICE="netlify", READERS_FORM_ENDPOINT="")
    form = site.soup("/ask/").select_one("form.ask-form")
    assert form["data-netlify"] == "true" and form.select_one('input[name="form-name"]')


def test_a_wrong_form_setting_stops_the_build_naming_it(tmp_path):
    conf = tmp_path / "conf.py"
    root = str(Path(__file__).resolve().parent.parent)
    conf.write_text(
        f"import sys\nsys.path.insert(0, {root!r})\nfrom publishconf import *\n"
        "READERS_FORM_SERVICE = 'formspree'\nREADERS_FORM_ENDPOINT = 'javascript:alert(1)'\n"
    )
    done = run_build(tmp_path / "out", copy_content(tmp_path / "content"), settings=conf)
    assert done.returncode != 0
    assert "READERS_FORM_ENDPOINT is 'javascript:alert(1)'" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("service", "endpoint"),
    [("netlify", ""), ("github", GITHUB_FORM)],
)
def test_the_forms_are_valid_html(demo_build, service, endpoint):
    import shutil
    import subprocess

    from tests.browser import VNU, require

    java = shutil.which("java")
    require(java is not None, "Java (for the Nu HTML Checker)")
    require(VNU.is_file(), "the Nu HTML Checker (node_modules/vnu-jar)")
    # The same builds as test_forms_post_to_the_service_the_owner_set's, shared.
    site = demo_build(READERS_FORM_SERVICE=service, READERS_FORM_ENDPOINT=endpoint)
    pages = [site.path("/ask/"), site.path("/2026/burnout-and-the-inbox/")]
    assert all(BeautifulSoup(p.read_text(), "html.parser").select("form") for p in pages)
    checked = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert [m["message"] for m in json.loads(checked.stderr)["messages"]] == []
