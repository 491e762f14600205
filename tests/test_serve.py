"""`make serve` right after `make publish`: the published build, working on this machine
(styles, links, search, the site's 404 page), though it was built for another address."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM, require, start_chromium, stop_chromium
from tests.sitebuild import ROOT, copy_content, run_build
from tests.test_browser import loaded_titles, wait_for

PLACEHOLDER = "https://stacks-and-offers.example.org"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`make publish` as a new owner runs it (the placeholder address), then `make serve`."""
    root = tmp_path_factory.mktemp("serve")
    content = copy_content(root / "content")
    output = root / "output"
    done = run_build(output, content, "--strict", siteurl=None, unset=("SITEURL",))
    assert done.returncode == 0, done.stderr
    assert PLACEHOLDER in (output / "index.html").read_text(encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "serve.py"), "-o", str(output), "-p", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    said = server.stdout.readline()
    found = re.search(r"at (http://127\.0\.0\.1:\d+)/", said)
    assert found, said
    yield found.group(1), said
    server.terminate()
    server.wait(timeout=20)


def fetch(url: str) -> tuple[int, str, dict]:
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ARG002
            return None

    try:
        with urllib.request.build_opener(Stay).open(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


def test_the_server_says_which_build_it_serves(served):
    _url, said = served
    assert f"the build made for {PLACEHOLDER}, its addresses shown as local ones" in said


def test_pages_feeds_and_the_sitemap_point_at_this_machine(served):
    url, _said = served
    for path in ("/", "/questions/", "/feeds/all.atom.xml", "/sitemap.xml", "/robots.txt"):
        status, text, _headers = fetch(url + path)
        assert status == 200, path
        assert PLACEHOLDER not in text and url in text, path
    status, text, _ = fetch(url + "/")
    assert f'href="{url}/theme/css/site.css"' in text


def test_an_unknown_address_gets_the_sites_own_404_page(served):
    url, _said = served
    status, text, headers = fetch(url + "/no/such/page/")
    assert status == 404 and "text/html" in headers["Content-Type"]
    assert "<h1" in text and url in text  # the theme's page, with working links
    status, _text, headers = fetch(url + "/questions")
    assert status == 301 and headers["Location"] == "/questions/"
    assert fetch(url + "/../../etc/passwd")[0] == 404


def test_in_chromium_the_styles_load_links_stay_here_and_search_works(served):
    require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    require(os.path.exists(CHROMEDRIVER), f"ChromeDriver ({CHROMEDRIVER})")
    url, _said = served
    browser = start_chromium()
    try:
        browser.get(url + "/")
        rules = browser.execute_script(
            "return Array.from(document.styleSheets).filter(s => s.href && s.href.endsWith"
            "('site.css')).map(s => s.cssRules.length)"
        )
        assert rules and rules[0] > 10  # the stylesheet loaded (a failed one has no rules)
        first = browser.find_element("css selector", "main a[href*='/2026/']")
        first.click()
        wait_for(lambda: browser.current_url != url + "/")
        assert browser.current_url.startswith(url + "/2026/")
        assert browser.find_element("css selector", "h1").text.strip()
        browser.get(url + "/search/")
        box = wait_for(lambda: browser.find_elements("css selector", ".pagefind-ui__search-input"))
        box[0].send_keys("offer")
        titles = wait_for(lambda: loaded_titles(browser))
        assert titles
        links = browser.execute_script(
            "return Array.from(document.querySelectorAll('.pagefind-ui__result-link'))"
            ".map(a => a.href)"
        )
        assert links and all(link.startswith(url + "/") for link in links), links
    finally:
        stop_chromium(browser)


def test_a_new_build_shows_without_restarting_the_server(tmp_path):
    """`output` is a link each build moves to a new folder (and the old folders are
    removed): a running `make serve` follows it, as `make html` after `make publish` needs."""
    builds = tmp_path / ".site-versions"
    for name, site in (("one", PLACEHOLDER), ("two", None)):
        folder = builds / name
        folder.mkdir(parents=True)
        canonical = f'<link rel="canonical" href="{site}/">' if site else ""
        (folder / "index.html").write_text(f"<html>{canonical}<p>build {name}</p></html>")
    output = tmp_path / "output"
    output.symlink_to(builds / "one")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "serve.py"), "-o", str(output), "-p", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = re.search(r"at (http://127\.0\.0\.1:\d+)/", server.stdout.readline()).group(1)
        status, text, _ = fetch(url + "/")
        assert status == 200 and "build one" in text and PLACEHOLDER not in text
        swap = tmp_path / "output.new"
        swap.symlink_to(builds / "two")
        os.replace(swap, output)
        (builds / "one" / "index.html").unlink()
        (builds / "one").rmdir()
        status, text, _ = fetch(url + "/")
        assert status == 200 and "build two" in text
    finally:
        server.terminate()
        server.wait(timeout=20)
