"""The search index as Pagefind itself reads it, in Chromium: one filter per name (type,
answered, topic, outcome) with the values a reader can pick, and only the text people wrote in it
(no permalinks, reply links, avatars, reply counts or tag rows in excerpts)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.browser import (
    CHROMEDRIVER,
    CHROMIUM,
    LocalServer,
    require,
    start_chromium,
    stop_chromium,
)
from tests.sitebuild import build, copy_content
from tools.search_index import build_search_index, pagefind_command

PAGEFIND = """
const done = arguments[arguments.length - 1];
(async () => {
  const pagefind = await import('/pagefind/pagefind.js');
  await pagefind.init();
  const filters = await pagefind.filters();
  const found = await pagefind.search(arguments[0], {filters: arguments[1]});
  const pages = await Promise.all(found.results.map(r => r.data()));
  done({filters, pages: pages.map(p => ({url: p.url, excerpt: p.excerpt, content: p.content,
                                          filters: p.filters}))});
})().catch(error => done({error: String(error)}));
"""
# Page furniture that must not be indexed as if someone had written it.
FURNITURE = (
    "permalink to this reply",
    "Reply by e-mail",
    "Leave a reply by e-mail",
    "Answer this question by e-mail",
    "No replies yet",
    "Follow replies",
    "Accepted answer",
    "See this answer in the thread",
    "Continue this thread",
    "Replies, page",
    "Shown in full after the question",
)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("search-index")
    site = build(root / "out", content=copy_content(root / "content"), search=True)
    assert not [m for m in site.messages if "Pagefind" in m], site.messages
    return site


def ask(site, query: str | None, filters: dict | None = None) -> dict:
    require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    require(os.path.exists(CHROMEDRIVER), f"ChromeDriver ({CHROMEDRIVER})")
    with LocalServer(site.output) as server:
        driver = start_chromium()
        try:
            driver.set_script_timeout(60)
            driver.get(server.url + "/search/")
            answer = driver.execute_async_script(PAGEFIND, query, filters or {})
        finally:
            stop_chromium(driver)
    assert "error" not in answer, answer
    return answer


def states(site) -> dict[str, dict[str, int]]:
    """Type and answered state of every post and thread, read from their built pages'
    badges (a discussion has no state badge once someone has replied: answered)."""
    seen: dict[str, dict[str, int]] = {"type": {}, "answered": {}}
    for path in site.html_files():
        soup = site.soup("/" + path.relative_to(site.output).as_posix())
        entry = soup.select_one("article.entry")
        classes = set(entry["class"]) if entry else set()
        if not classes & {"entry-post", "entry-question", "entry-discussion"}:
            continue  # not a post or thread (a page: not indexed)
        kind = "Post" if "entry-post" in classes else "Thread"
        seen["type"][kind] = seen["type"].get(kind, 0) + 1
        if kind == "Thread":
            badges = {c for b in entry.select(".item-meta .badge") for c in b["class"]}
            state = (
                "Solved" if "state-solved" in badges
                else "Unanswered" if "state-unanswered" in badges
                else "Answered"
            )  # fmt: skip
            seen["answered"][state] = seen["answered"].get(state, 0) + 1
    return seen


def test_each_filter_has_its_own_name_and_the_values_readers_pick(indexed):
    answer = ask(indexed, "interview")
    filters = answer["filters"]
    assert set(filters) == {"type", "answered", "topic", "outcome"}, filters
    assert set(filters["type"]) == {"Post", "Thread"}
    assert set(filters["answered"]) <= {"Solved", "Answered", "Unanswered"}
    assert len(filters["answered"]) >= 2
    expected = states(indexed)
    # Continuation pages of long threads are indexed as threads too.
    continuations = len(list(indexed.output.rglob("replies/page/*/index.html")))
    continuations += len(list(indexed.output.rglob("replies/*/index.html")))
    assert filters["type"]["Post"] == expected["type"]["Post"]
    assert filters["type"]["Thread"] >= expected["type"]["Thread"]
    assert filters["type"]["Thread"] <= expected["type"]["Thread"] + continuations
    assert filters["answered"] == expected["answered"]
    assert not any("," in value or ":" in value for f in filters.values() for value in f)


def test_search_results_hold_what_people_wrote_not_the_page_furniture(indexed):
    answer = ask(indexed, "offer")
    pages = answer["pages"]
    assert len(pages) >= 3
    threads = [p for p in pages if p["filters"].get("type") == ["Thread"]]
    assert threads, pages
    for page in pages:
        for words in FURNITURE:
            assert words not in page["content"], (page["url"], words)
            assert words not in page["excerpt"], (page["url"], words)
    # The reply text itself is indexed.
    other = next(p for p in threads if "other-offer-fell-through" in p["url"])
    soup = indexed.soup(other["url"])
    reply = soup.select_one("li.reply .reply-body:not(.accepted-stub)").get_text(" ", strip=True)
    assert reply[:40] in other["content"]
    # The accepted answer is indexed once, from where it is shown in full.
    accepted = soup.select_one("aside#accepted .reply-body").get_text(" ", strip=True)
    assert other["content"].count(accepted[:40]) == 1


def test_outcome_is_a_filter_with_the_threads_of_each(indexed):
    from tests.content_index import sources

    expected: dict[str, int] = {}
    for source in sources():
        value = source.fields.get("outcome")
        if value:
            name = value[0].upper() + value[1:]
            expected[name] = expected.get(name, 0) + 1
    assert len(expected) >= 2
    answer = ask(indexed, "interview")
    assert answer["filters"]["outcome"] == expected
    hired = ask(indexed, None, {"outcome": "Hired"})
    assert [p["url"] for p in hired["pages"]] == ["/2026/other-offer-fell-through/"]
    assert hired["pages"][0]["filters"]["outcome"] == ["Hired"]


def test_pagefind_runs_as_the_pagefind_package_would_run_it(tmp_path, monkeypatch):
    """The build runs `pagefind_command()`: the binary the `pagefind` package
    names (PAGEFIND_BINARY_PATH first, else the pinned one), with no Python
    interpreter in between; what it says when it fails, or that it cannot be
    started, is in the build's error, not a traceback."""
    fake = tmp_path / "fake-pagefind"
    fake.write_text('#!/bin/sh\necho "fake pagefind was given $*"\nexit 3\n', encoding="utf-8")
    fake.chmod(0o755)
    site = tmp_path / "site"
    (site / "post").mkdir(parents=True)
    (site / "post" / "index.html").write_text(
        "<html lang='en'><body><main data-pagefind-body>Offer letter</main></body></html>",
        encoding="utf-8",
    )
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    assert pagefind_command() == [str(fake.resolve())]
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    # What the build runs is what pagefind_command() says.
    monkeypatch.setattr("tools.search_index.pagefind_command", lambda: [str(fake)])
    error, _cost = build_search_index(site)
    assert error is not None and error.startswith("Pagefind failed (exit 3)"), error
    assert f"fake pagefind was given --site {site}" in error
    monkeypatch.undo()

    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    error, _cost = build_search_index(site)
    assert error is not None and error.startswith("Pagefind failed (exit 127)"), error
    assert f"could not start {tmp_path / 'no-such-pagefind'}" in error
    assert "PAGEFIND_BINARY_PATH" in error

    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    [binary] = pagefind_command()
    assert os.access(binary, os.X_OK) and Path(binary).resolve() != Path(sys.executable).resolve()
    error, _cost = build_search_index(site)
    assert error is None, error
    assert (site / "pagefind" / "pagefind-entry.json").is_file()
