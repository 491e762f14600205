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
from tests.sitebuild import PELICANCONF, build, copy_content

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


# The navigation on a phone and on a desktop: measured, not read from the markup.
PHONE = {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}

LAYOUT = """
const lh = parseFloat(getComputedStyle(document.body).lineHeight);
const rows = new Set(Array.from(document.querySelectorAll('.nav-primary > li'))
  .map(li => Math.round(li.getBoundingClientRect().top)));
const title = document.querySelector('.site-title').getBoundingClientRect();
const nav = document.querySelector('.site-nav').getBoundingClientRect();
return {
  lineHeight: lh,
  mainTop: document.querySelector('main').getBoundingClientRect().top + window.scrollY,
  h1Top: document.querySelector('main h1').getBoundingClientRect().top + window.scrollY,
  navRows: rows.size,
  navTop: nav.top, navBottom: nav.bottom, titleTop: title.top, titleBottom: title.bottom,
  scrollWidth: document.documentElement.scrollWidth,
  viewport: document.documentElement.clientWidth,
};
"""

PANEL = """
const panel = document.querySelector('.nav-more details > ul').getBoundingClientRect();
return {left: panel.left, right: panel.right, scrollWidth: document.documentElement.scrollWidth};
"""


@pytest.fixture(scope="module")
def served_without_ask(tmp_path_factory, served):  # noqa: ARG001 - after the demo site
    """The demo site without its Ask page (`ASK_SAVE_AS = ""`): the first row one link shorter."""
    root = tmp_path_factory.mktemp("served-no-ask")
    content = copy_content(root / "content")
    folder = root / "site"
    folder.mkdir()
    with LocalServer(folder) as server:
        site = build(
            folder,
            content=content,
            settings=PELICANCONF,
            SITEURL=server.url,
            FEED_DOMAIN=server.url,
            RELATIVE_URLS=False,
            ASK_SAVE_AS="",
        )
        assert site.messages == []
        yield server


def emulate(browser, metrics: dict) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


@pytest.mark.parametrize("name", ["home", "deepest-thread", "category", "unanswered", "search"])
@pytest.mark.parametrize("with_ask", [False, True], ids=["demo", "with-ask"])
def test_on_a_phone_the_navigation_is_one_row_above_the_content(
    browser, served, served_without_ask, name, with_ask
):
    server = served if with_ask else served_without_ask
    emulate(browser, PHONE)
    try:
        load(browser, server, PAGES[name])
        layout = browser.execute_script(LAYOUT)
        labels = [a.text for a in browser.find_elements("css selector", ".nav-primary > li > a")]
        assert ("Ask" in labels) == with_ask, labels
        # Before: title, subtitle and ten links on three lines put <main> 191 px down
        # (7.5 lines). Now: the title's line and one row of links.
        assert layout["navRows"] == 1, layout
        assert layout["navBottom"] - layout["navTop"] <= 2 * layout["lineHeight"], layout
        assert layout["mainTop"] <= 3.5 * layout["lineHeight"], layout
        assert layout["h1Top"] < 740 / 3, layout  # the page's heading in the first third
        assert layout["scrollWidth"] <= layout["viewport"] == 375, layout
        # "More" opens over the page (no JavaScript: <details>) and stays on screen.
        browser.find_element("css selector", ".nav-more summary").click()
        panel = browser.execute_script(PANEL)
        assert panel["left"] >= 0 and panel["right"] <= 375 and panel["scrollWidth"] <= 375
        violations = [v for v in run_axe(browser) if v["impact"] in ("serious", "critical")]
        assert violations == [], [
            (v["id"], [n["target"] for n in v["nodes"][:3]]) for v in violations
        ]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("name", ["home", "deepest-thread", "topic"])
def test_at_desktop_width_the_title_and_navigation_share_one_line(browser, served, name):
    emulate(browser, DESKTOP)
    try:
        load(browser, served, PAGES[name])
        layout = browser.execute_script(LAYOUT)
        assert layout["navRows"] == 1, layout
        assert layout["navTop"] < layout["titleBottom"], layout  # beside the title
        assert layout["mainTop"] <= 3 * layout["lineHeight"], layout
        assert layout["scrollWidth"] <= layout["viewport"], layout
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture
def no_javascript(browser):
    """The same browser with JavaScript switched off for pages (as some readers have it)."""
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    yield browser
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_every_destination_is_reachable_without_javascript_on_a_phone(no_javascript, served):
    browser, server = no_javascript, served
    emulate(browser, PHONE)
    try:
        browser.get(server.url + "/search/")
        # JavaScript really is off: Pagefind drew no search box; the <noscript> text shows.
        assert not browser.find_elements("css selector", ".pagefind-ui__search-input")
        assert "Search needs JavaScript" in browser.find_element("tag name", "main").text
        browser.get(server.url + "/")
        more = browser.find_elements("css selector", ".nav-more details a")
        assert more and not any(a.is_displayed() for a in more)  # closed until asked
        destinations = [
            (a.get_attribute("textContent").strip(), a.get_attribute("href"), a in more)
            for a in browser.find_elements("css selector", "nav.site-nav a")
        ]
        names = [text for text, _href, _more in destinations]
        assert names[:4] == ["Questions", "Ask", "Topics", "Search"], names
        assert {"Recently active", "Unanswered", "Categories", "Archives", "About"} <= set(names)
        for text, href, behind_more in destinations:
            browser.get(server.url + "/2026/is-the-mlis-worth-it/")  # start from a deep page
            if behind_more:
                browser.find_element("css selector", ".nav-more summary").click()
            link = browser.find_element("link text", text)
            box = link.rect
            assert link.is_displayed() and box["x"] >= 0 and box["x"] + box["width"] <= 375
            link.click()
            assert browser.current_url == href, text
            heading = browser.find_element("css selector", "main h1").text
            assert heading and heading != "Page not found", text
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_ask_page_offers_similar_questions_before_asking(browser, served):
    load(browser, served, "/ask/")
    box = wait_for(lambda: browser.find_elements("css selector", ".pagefind-ui__search-input"))[0]
    box.send_keys("posted salary below")
    asked = "Do you apply when the posted salary is below what you make now?"
    titles = wait_for(lambda: (t := loaded_titles(browser)) and asked in t and t)
    assert asked in titles
    link = browser.find_element("css selector", "a.ask-question")
    assert link.get_attribute("href").startswith("mailto:")
