"""`make devserver`: the edited page is rewritten before the rest of the site,
then the whole site catches up; mistakes are reported and the loop goes on."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.browser import CHROMEDRIVER, CHROMIUM, require, start_chromium, stop_chromium
from tests.sitebuild import PELICANCONF, ROOT, copy_content
from tests.test_browser import wait_for


class DevServer:
    """tools/devserver.py --no-serve on a private copy of the demo content."""

    def __init__(self, content: Path, output: Path, port: int | None = None) -> None:
        self.output = output
        # After each one-page rewrite the server waits for `resume()` before it
        # rebuilds the rest: what the test reads in between cannot race it.
        self.paused = output.parent / "paused-rebuild"
        self.resume_file = output.parent / "resume-rebuild"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tools" / "devserver.py"),
                *(["--port", str(port)] if port else ["--no-serve"]),
                "--content",
                str(content),
                "-o",
                str(output),
                "-s",
                str(PELICANCONF),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                "COLUMNS": "300",
                "SITE_BUILD_PAUSE_AT": "rebuild",
                "SITE_BUILD_PAUSE_FILE": str(self.paused),
                "SITE_BUILD_RESUME_FILE": str(self.resume_file),
            },
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 120) -> list[str]:
        """Lines up to and including the first new one containing `text`. Waiting
        for "Rewrote", the server is left paused before its full rebuild."""
        deadline = time.monotonic() + timeout
        got = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got
            if "Rewrote" in line:
                self.resume()  # the caller is not looking between the two steps
        pytest.fail(f"the dev server never said {text!r}; it said:\n" + "\n".join(self.seen))

    def resume(self) -> None:
        """Let a server paused after a one-page rewrite rebuild the rest."""
        self.paused.unlink(missing_ok=True)
        self.resume_file.touch()

    def page(self, relative: str) -> BeautifulSoup:
        return BeautifulSoup((self.output / relative).read_text(encoding="utf-8"), "html.parser")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def devserver(tmp_path):
    content = copy_content(tmp_path / "content")
    server = DevServer(content, tmp_path / "output")
    server.wait_for("Watching")
    yield server, content
    server.stop()


def _thread_page(output: Path, slug: str) -> str:
    [page] = [p for p in output.glob(f"*/{slug}/index.html")]
    return str(page.relative_to(output))


def test_an_edited_thread_is_rewritten_first_then_the_listings(devserver):
    server, content = devserver
    thread = content / "threads" / "other-offer-fell-through.md"
    page = _thread_page(server.output, "other-offer-fell-through")
    text = thread.read_text(encoding="utf-8")
    assert "Deanfell" not in text
    # Change the title (shown on listings) and add a reply (shown on the page).
    edited = text.replace("Title: ", "Title: Deanfell: ", 1) + (
        "\n```reply\nid: devserver-added\nauthor: Late Reader\ndate: 2026-11-20 09:00\n```\n\n"
        "A reply written while the dev server ran.\n"
    )
    thread.write_text(edited, encoding="utf-8")

    said = server.wait_for("Rewrote")
    assert not any("Site rebuilt" in line for line in said)  # the page came first
    soup = server.page(page)
    assert soup.find(id="reply-devserver-added") is not None
    assert "Deanfell" in soup.find("h1").get_text()
    listing = server.page("questions/index.html").get_text()
    assert "Deanfell" not in listing  # not yet: the full build has not run

    server.resume()
    server.wait_for("Site rebuilt")
    assert "Deanfell" in server.page("questions/index.html").get_text()
    assert server.page(page).find(id="reply-devserver-added") is not None


def test_a_changed_comment_rewrites_its_post_first(devserver):
    server, content = devserver
    folder = next(p for p in (content / "comments").iterdir() if p.is_dir())
    (folder / "devserver-comment.md").write_text(
        "Id: devserver-comment\nAuthor: New Commenter\nDate: 2026-11-20 10:00\n\n"
        "A comment written while the dev server ran.\n",
        encoding="utf-8",
    )
    said = server.wait_for("Rewrote")
    assert not any("Site rebuilt" in line for line in said)
    page = _thread_page(server.output, folder.name)
    assert server.page(page).find(id="reply-devserver-comment") is not None
    server.resume()
    server.wait_for("Site rebuilt")


def test_a_mistake_is_reported_with_its_line_and_the_loop_goes_on(devserver):
    server, content = devserver
    thread = content / "threads" / "other-offer-fell-through.md"
    text = thread.read_text(encoding="utf-8")
    thread.write_text(
        text + "\n```reply\nid: broken\nauthor: Someone\ndate: next tuesday\n```\n\nHi.\n",
        encoding="utf-8",
    )
    said = server.wait_for("Site rebuilt")
    assert any("other-offer-fell-through.md:" in line and "next tuesday" in line for line in said)
    thread.write_text(text, encoding="utf-8")  # fixed: the next save builds cleanly
    said = server.wait_for("Site rebuilt")
    assert not any("next tuesday" in line for line in said)
    assert server.process.poll() is None


def test_served_pages_reload_after_a_save_and_search_and_404_work(tmp_path):
    require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    require(os.path.exists(CHROMEDRIVER), f"ChromeDriver ({CHROMEDRIVER})")
    content = copy_content(tmp_path / "content")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = DevServer(content, tmp_path / "output", port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_for("Search index (Pagefind)")  # built after the first full build
        server.wait_for("Watching")
        page = urllib.request.urlopen(url + "/", timeout=30).read().decode()
        assert "fetch('/__build'" in page  # the preview's pages reload themselves
        assert urllib.request.urlopen(url + "/pagefind/pagefind.js", timeout=30).status == 200
        try:
            urllib.request.urlopen(url + "/no/such/page/", timeout=30)
            raise AssertionError("an unknown address was found")
        except urllib.error.HTTPError as missing:
            assert missing.code == 404 and b"<h1" in missing.read()

        browser = start_chromium()
        try:
            thread = content / "threads" / "other-offer-fell-through.md"
            page_path = "/" + _thread_page(server.output, "other-offer-fell-through")
            browser.get(url + page_path.removesuffix("index.html"))
            browser.execute_script("window.stillTheSamePage = true;")
            thread.write_text(
                thread.read_text(encoding="utf-8")
                + "\n```reply\nid: live-reload\nauthor: Watcher\ndate: 2026-11-21 09:00\n```"
                "\n\nSaved while the page was open.\n",
                encoding="utf-8",
            )
            server.wait_for("Rewrote")
            # The open page reloads by itself and shows the new reply.
            wait_for(lambda: browser.execute_script("return !window.stillTheSamePage"), 60)
            wait_for(lambda: browser.find_elements("id", "reply-live-reload"), 30)
            server.resume()
            server.wait_for("Site rebuilt")
        finally:
            stop_chromium(browser)
    finally:
        server.stop()
