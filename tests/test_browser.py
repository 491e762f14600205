"""The site in real headless Chromium, served on loopback, as a reader meets it."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser import (
    AXE,
    CHROMEDRIVER,
    CHROMIUM,
    SCREENSHOTS,
    LocalServer,
    console_errors,
    requested_urls,
    require,
    run_axe,
    screenshot,
    start_chromium,
    stop_chromium,
)
from tests.sitebuild import PELICANCONF, build

NETWORK_SCHEMES = {"http", "https", "ws", "wss", "ftp"}  # not chrome://, data:, blob:
PAGES = {
    "home": "/",
    "post-with-comments": "/2026/negotiating-a-published-scale/",
    "deepest-thread": "/2026/is-the-mlis-worth-it/",
    "continuation": "/2026/is-the-mlis-worth-it/replies/b6/",
    "topic": "/topics/negotiation/",
    "category": "/category/offers-negotiation/",
    "unanswered": "/questions/unanswered/",
    "search": "/search/",
    "ask": "/ask/",
    "outcomes": "/outcomes/",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo site built for local serving (with its search index), on 127.0.0.1."""
    import os

    require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    require(os.path.exists(CHROMEDRIVER), f"ChromeDriver ({CHROMEDRIVER})")
    require(AXE.is_file(), "axe-core (node_modules/axe-core)")
    folder = tmp_path_factory.mktemp("served") / "site"
    folder.mkdir()
    with LocalServer(folder) as server:
        site = build(
            folder,
            settings=PELICANCONF,
            search=True,
            SITEURL=server.url,
            FEED_DOMAIN=server.url,
            RELATIVE_URLS=False,
        )
        assert site.messages == []
        server.site = site
        yield server


@pytest.fixture(scope="module")
def browser(served):  # noqa: ARG001 - Chromium starts only once the site is served
    driver = start_chromium()
    yield driver
    stop_chromium(driver)


def load(browser, served, path: str) -> None:
    requested_urls(browser)  # forget earlier pages' requests
    console_errors(browser)
    browser.get(served.url + path)
    browser.execute_script("return document.readyState")


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_cleanly_and_passes_axe(browser, served, name):
    path = PAGES[name]
    load(browser, served, path)
    if name in ("search", "ask"):  # let Pagefind's script load its assets and draw its form
        wait_for(
            lambda: browser.execute_script(
                "return document.querySelector('.pagefind-ui__search-input') !== null"
            )
        )
    assert browser.find_element("css selector", "h1").text.strip()
    violations = [v for v in run_axe(browser) if v["impact"] in ("serious", "critical")]
    assert violations == [], [
        (v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in violations
    ]
    network = [u for u in requested_urls(browser) if u.split(":", 1)[0] in NETWORK_SCHEMES]
    outside = [u for u in network if not u.startswith(served.url + "/")]
    assert network, "the performance log saw no request at all"
    assert outside == [], f"{path} asked another host for {outside}"
    assert console_errors(browser) == [], path
    for width in (390, 1280):
        assert screenshot(browser, name, width).stat().st_size > 5000


def test_screenshots_are_where_the_tests_say(browser, served):
    load(browser, served, "/")
    shot = screenshot(browser, "home-check", 390)
    assert shot.parent == SCREENSHOTS and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"\nScreenshots: {SCREENSHOTS}")


def test_skip_link_moves_focus_to_the_main_content(browser, served):
    from selenium.webdriver.common.keys import Keys

    load(browser, served, PAGES["deepest-thread"])
    body = browser.find_element("tag name", "body")
    body.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert "skip-link" in focused.get_attribute("class")
    assert focused.is_displayed()  # it shows itself when focused
    focused.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"


def test_details_collapse_and_expand_replies(browser, served):
    load(browser, served, PAGES["deepest-thread"])
    details = browser.find_element("css selector", "li.reply > details.subreplies")
    inner = details.find_element("css selector", "li.reply")
    assert details.get_attribute("open") is not None and inner.is_displayed()
    details.find_element("tag name", "summary").click()
    assert details.get_attribute("open") is None and not inner.is_displayed()
    details.find_element("tag name", "summary").click()
    assert inner.is_displayed()


def wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the page")


def result_titles(browser) -> list[str]:
    # Read in one script: Pagefind re-renders results while they load.
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('li.pagefind-ui__result'))"
        ".map(li => li.querySelector('.pagefind-ui__result-title').textContent.trim());"
    )


def result_count(browser) -> int:
    """The number in Pagefind's "N results for ..." line (0 while it has none)."""
    text = browser.execute_script(
        "const m = document.querySelector('.pagefind-ui__message'); return m && m.textContent;"
    )
    match = re.match(r"\s*(\d+) results?", text or "")
    return int(match.group(1)) if match else 0


def loaded_titles(browser) -> list[str] | None:
    """Result titles once every shown result has loaded, else None."""
    titles = result_titles(browser)
    if not titles or any(t.startswith(". .") for t in titles):
        return None
    return titles


CHECK_TOPIC = """
const [name, value] = arguments;
for (const block of document.querySelectorAll('details.pagefind-ui__filter-block')) {
  const title = block.querySelector('.pagefind-ui__filter-name');
  if (!title || title.textContent.trim().toLowerCase() !== name) continue;
  block.open = true;
  for (const label of block.querySelectorAll('.pagefind-ui__filter-label')) {
    if (label.textContent.trim().startsWith(value)) { label.click(); return true; }
  }
}
return false;
"""


def test_search_finds_results_and_the_topic_filter_narrows_them(browser, served):
    load(browser, served, PAGES["search"])
    box = wait_for(lambda: browser.find_elements("css selector", ".pagefind-ui__search-input"))[0]
    box.send_keys("offer")
    asked = "Do I tell the hiring director my other option fell through?"
    # Pagefind shows placeholder titles (". . .") until each result has loaded.
    everything = wait_for(lambda: (t := loaded_titles(browser)) and asked in t and t)
    before = result_count(browser)
    # Every page's topic chips, from the built site, by title.
    chips = {}
    for path in served.site.html_files():
        soup = served.site.soup("/" + path.relative_to(served.site.output).as_posix())
        if soup.select_one("article.entry") and soup.h1:
            chips[soup.h1.get_text(strip=True)] = {
                a.get_text() for a in soup.select("article.entry a.topic-chip")
            }
    assert any("Salary" not in chips[t] for t in everything)
    wait_for(lambda: browser.execute_script(CHECK_TOPIC, "topic", "Salary"))
    narrowed = wait_for(lambda: result_count(browser) < before and loaded_titles(browser))
    assert all("Salary" in chips[t] for t in narrowed), narrowed
    assert {t for t in everything if "Salary" not in chips[t]}.isdisjoint(narrowed)


def test_the_ask_page_offers_similar_questions_before_asking(browser, served):
    load(browser, served, "/ask/")
    box = wait_for(lambda: browser.find_elements("css selector", ".pagefind-ui__search-input"))[0]
    box.send_keys("posted salary below")
    asked = "Do you apply when the posted salary is below what you make now?"
    titles = wait_for(lambda: (t := loaded_titles(browser)) and asked in t and t)
    assert asked in titles
    link = browser.find_element("css selector", "a.ask-question")
    assert link.get_attribute("href").startswith("mailto:")
