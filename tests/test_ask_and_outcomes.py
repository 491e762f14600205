"""The Ask page, the asker's updates and how a question ended, on the built demo site."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sitebuild import SITEURL, build, copy_content


def test_every_page_links_to_the_ask_page_from_its_main_navigation(site):
    pages = site.html_files()
    assert len(pages) > 50
    for path in pages:
        if path.name == "404.html" or "pagefind" in path.parts:
            continue
        soup = site.soup("/" + path.relative_to(site.output).as_posix())
        if soup.select_one('meta[http-equiv="refresh"]'):
            continue  # a redirect page for an old address
        nav = soup.select_one('nav[aria-label="Main"]')
        assert nav is not None, path
        assert [a["href"] for a in nav.select("a") if a.get_text() == "Ask"] == [
            f"{SITEURL}/ask/"
        ], path


def test_the_ask_page_says_how_to_ask_and_carries_the_token(site):
    soup = site.soup("/ask/")
    nav_link = soup.select_one('nav[aria-label="Main"] a[aria-current="page"]')
    assert nav_link.get_text() == "Ask"
    [ask] = soup.select(".ask-question")
    parts = urlsplit(ask["href"])
    assert parts.scheme == "mailto" and parts.path == "replies@stacks-and-offers.example.org"
    query = parse_qs(parts.query)
    assert "[ask]" in query["subject"][0]
    assert query["body"][0].startswith("Name: \nNotify: no")
    text = " ".join(soup.select_one("main").get_text(" ").split())
    for said in (
        "What makes a good question",
        "waits there, unpublished",  # moderation
        "Your name is not published",
        "made-up handle",
    ):
        assert said in text, said
    # Similar questions: Pagefind's box, and a plain link for a reader without JavaScript.
    assert soup.select_one("#search.search-box")
    assert soup.select_one("noscript a.search-page-link")["href"] == f"{SITEURL}/search/"


def test_without_a_mailbox_the_ask_page_says_questions_are_closed(tmp_path):
    built = build(tmp_path / "out", THREADS_REPLY_EMAIL="")
    soup = built.soup("/ask/")
    assert not soup.select(".ask-question")
    assert "not being taken" in soup.get_text()


def test_the_askers_updates_are_marked_and_the_latest_is_at_the_top(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    updates = [li["id"] for li in soup.select("li.reply.asker-update")]
    assert updates == ["reply-wren-3", "reply-wren-4"]
    # The asker's other follow-ups are not updates.
    assert "asker-update" not in soup.select_one("#reply-wren-2")["class"]
    top = soup.select_one("article.entry .latest-update")
    assert top is not None
    latest = soup.select_one("#reply-wren-4 .reply-body").get_text(" ", strip=True)
    assert latest[:60] in top.get_text(" ", strip=True)
    assert top.select_one("a")["href"].endswith("#reply-wren-4")
    # A thread without updates has no such block.
    assert not site.soup("/2026/is-the-mlis-worth-it/").select(".latest-update")


def test_an_update_by_anyone_but_the_asker_is_refused_with_file_and_line(tmp_path):
    content = copy_content(tmp_path / "content")
    thread = content / "threads" / "other-offer-fell-through.md"
    text = thread.read_text(encoding="utf-8")
    text = text.replace("id: okon\nparent: wren-3\n", "id: okon\nparent: wren-3\nupdate: yes\n")
    thread.write_text(text, encoding="utf-8")
    line = text.split("\n").index("update: yes", text.split("\n").index("id: okon")) + 1
    built = build(tmp_path / "out", content=content)
    assert built.messages == [
        f"{thread}:{line}: reply okon is marked `update: yes`, but it is by Okonkwo E., and "
        "only the asker (wren_at_the_desk) posts updates. Remove `update: yes` from it "
        "(or fix its author)."
    ]
    soup = built.soup("/2026/other-offer-fell-through/")
    assert "asker-update" not in soup.select_one("#reply-okon")["class"]


OUTCOMES = {
    "/2026/other-offer-fell-through/": "Hired",
    "/2026/below-current-pay/": "Offer declined",
    "/2026/silence-after-final-interview/": "Still looking",
}


@pytest.mark.parametrize("url", sorted(OUTCOMES))
def test_the_outcome_is_shown_on_the_thread_in_listings_and_on_its_page(site, url):
    name = OUTCOMES[url]
    [shown] = site.soup(url).select("article.entry .outcome")
    assert shown.get_text(strip=True) == f"Outcome: {name}"
    for listing in ("/questions/", "/questions/active/"):
        item = next(
            li
            for li in site.soup(listing).select("li.item")
            if li.select_one("a")["href"] == SITEURL + url
        )
        assert item.select_one(".outcome").get_text(strip=True) == f"Outcome: {name}"
    page = site.soup("/outcomes/")
    section = next(s for s in page.select("section.outcome-group") if s.h2.get_text() == name)
    assert SITEURL + url in [a["href"] for a in section.select(".item-title a")]


def test_the_outcomes_page_lists_only_threads_with_that_outcome(site):
    page = site.soup("/outcomes/")
    listed = {a["href"] for a in page.select(".item-title a")}
    assert listed == {SITEURL + url for url in OUTCOMES}
    # Reached from the question lists.
    links = site.soup("/questions/").select('nav.sub-nav a[href$="/outcomes/"]')
    assert links and links[0].get_text() == "How it turned out"


def test_an_unknown_outcome_is_named_with_file_line_and_the_nearest(tmp_path):
    content = copy_content(tmp_path / "content")
    thread = content / "threads" / "below-current-pay.md"
    thread.write_text(
        thread.read_text(encoding="utf-8").replace("Outcome: offer declined", "Outcome: hried"),
        encoding="utf-8",
    )
    built = build(tmp_path / "out", content=content)
    assert built.messages == [
        f"{thread}:8: unknown outcome 'hried'. Did you mean `Outcome: hired`? Use one of: "
        "hired, offer declined, still looking, stayed, changed course."
    ]
    assert not built.soup("/2026/below-current-pay/").select("article.entry .outcome")
