"""Hostile input, round 2: imported posts and pages, control characters, redirect maps,
bytes that are not text, nesting past the renderer's limit, two publishes at once.

Each case builds the real site (or runs the real importer, or nginx on the real map) and
checks what a reader, a feed reader or a web server gets."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup

from tests.browser import CHROMEDRIVER, CHROMIUM, require, start_chromium, stop_chromium
from tests.sitebuild import (
    PELICANCONF,
    PUBLISHCONF,
    ROOT,
    build,
    build_command,
    copy_content,
    run_build,
    run_tool,
)
from tests.test_xss import VECTORS, WATCH, offending

DISPLAYED_AS_TEXT = "&lt;script&gt;alert('pre')&lt;/script&gt;"
# What WordPress showed as text or as a harmless link, and a Markdown step made live.
IMPORT_VECTORS = [
    f"<pre>keep this code\n```\n{DISPLAYED_AS_TEXT}\n</pre>",
    f"<pre>~~~~\n````\n{DISPLAYED_AS_TEXT}\n````\n</pre>",
    f"<ul><li>in a list<pre>```\n{DISPLAYED_AS_TEXT}\n[x](javascript:alert(2))</pre></li></ul>",
    f"<blockquote><pre>```\n{DISPLAYED_AS_TEXT}</pre></blockquote>",
    '<a href="`javascript:alert(3)`">backticks</a>',
    '<a href="<javascript:alert(4)>">angle brackets</a>',
    "<IMG SRC=javascript:alert(5)>",
    '<a href="https://ok.example/)[x](javascript:alert(6))">second link</a>',
    '<a href="https://ok.example/" title="t&quot;)[y](javascript:alert(7))">title</a>',
    '<img src="https://ok.example/i.png" alt="a]](javascript:alert(8))">',
    "<code>`</code>&lt;script&gt;alert(9)&lt;/script&gt;",
]
TEXT_VECTORS = [v for v in VECTORS if "]]>" not in v]
URL_KEYS = {"url", "@id", "image", "logo", "sameAs", "mainEntityOfPage", "item", "href", "src"}
GOOD_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "?")


def cdata(text: str) -> str:
    return f"<![CDATA[{text}]]>"


def hostile_wxr() -> str:
    """A WordPress export whose every field a post or page shows carries vectors."""
    body = "\n\n".join(IMPORT_VECTORS + TEXT_VECTORS)
    one = " ".join(TEXT_VECTORS[0].split())

    def item(post_id: int, kind: str, slug: str, title: str) -> str:
        return (
            f"<item><title>{cdata(title)}</title><link>https://old.example/{slug}/</link>"
            f"<dc:creator>{cdata('ghost')}</dc:creator>"
            f"<content:encoded>{cdata(body)}</content:encoded>"
            f"<excerpt:encoded>{cdata(' '.join(IMPORT_VECTORS[:3] + TEXT_VECTORS[:20]))}"
            "</excerpt:encoded>"
            f"<wp:post_id>{post_id}</wp:post_id>"
            "<wp:post_date_gmt>2019-02-01 09:00:00</wp:post_date_gmt>"
            f"<wp:post_name>{slug}</wp:post_name><wp:status>publish</wp:status>"
            f"<wp:post_type>{kind}</wp:post_type>"
            f'<category domain="category" nicename="c">{cdata(one)}</category>'
            f'<category domain="post_tag" nicename="t">{cdata(TEXT_VECTORS[5])}</category>'
            "</item>"
        )

    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>x</title>'
        "<link>https://old.example</link>"
        "<wp:author><wp:author_login>ghost</wp:author_login><wp:author_display_name>"
        f"{cdata(TEXT_VECTORS[1])}</wp:author_display_name></wp:author>"
        + item(41, "post", "hostile-post", "A post &lt;script&gt;alert(10)&lt;/script&gt;")
        + item(42, "page", "hostile-page", TEXT_VECTORS[2])
        + "</channel></rss>"
    )


def hostile_reddit() -> str:
    comments = [
        {
            "kind": "t1",
            "data": {
                "id": f"h{i}",
                "author": v,
                "body": v,
                "created_utc": 1700000000 + i,
                "permalink": "/r/x/comments/h/",
                "replies": "",
            },
        }
        for i, v in enumerate(IMPORT_VECTORS + VECTORS)
    ]
    post = {
        "kind": "t3",
        "data": {
            "id": "hostile",
            "title": VECTORS[3],
            "selftext": "\n\n".join(IMPORT_VECTORS + VECTORS),
            "author": VECTORS[4],
            "created_utc": 1700000000,
            "permalink": "/r/x/comments/hostile/",
            "subreddit": "x",
            "is_self": True,
        },
    }
    listing = [
        {"kind": "Listing", "data": {"children": [post]}},
        {"kind": "Listing", "data": {"children": comments}},
    ]
    return json.dumps(listing)


def hostile_discourse() -> str:
    posts = [
        {
            "id": 900 + i,
            "post_number": i + 1,
            "username": v[:60],
            "name": v,
            "created_at": f"2023-03-01T10:{i % 60:02d}:00.000Z",
            "cooked": v,
            "reply_to_post_number": None,
            "post_type": 1,
        }
        for i, v in enumerate(IMPORT_VECTORS + TEXT_VECTORS[:40])
    ]
    return json.dumps(
        {
            "id": 31337,
            "title": TEXT_VECTORS[6],
            "slug": "hostile-topic",
            "created_at": "2023-03-01T10:00:00.000Z",
            "post_stream": {"posts": posts},
        }
    )


def bad_urls_in_json(data, found: list[str], where: str) -> None:
    """Every address a JSON document gives is http(s), mailto or within the site."""
    if isinstance(data, dict):
        for key, value in data.items():
            bad = (
                isinstance(value, str)
                and value
                and not value.strip().lower().startswith(GOOD_SCHEMES)
            )
            if key in URL_KEYS and bad:
                found.append(f"{where}: {key}={value[:60]!r}")
            bad_urls_in_json(value, found, where)
    elif isinstance(data, list):
        for value in data:
            bad_urls_in_json(value, found, where)


def pagefind_fragments(site: Path):
    """Pagefind's records of each page (gzip, after its own signature)."""
    for path in sorted((site / "pagefind" / "fragment").glob("*.pf_fragment")):
        raw = gzip.decompress(path.read_bytes())
        yield path, json.loads(raw[raw.index(b"{") :])


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The demo content plus hostile WordPress, Reddit and Discourse exports, imported
    with `make import` and published with `make publish`'s command."""
    root = tmp_path_factory.mktemp("imported")
    content = copy_content(root / "content")
    for source, name, text in (
        ("wordpress", "hostile.xml", hostile_wxr()),
        ("reddit", "hostile.json", hostile_reddit()),
        ("discourse", "hostile-topic.json", hostile_discourse()),
    ):
        (root / name).write_text(text, encoding="utf-8")
        done = run_tool("import_content.py", source, root / name, "--content", content)
        assert done.returncode == 0, done.stderr
        if source == "wordpress":
            # As the summary asks, the owner describes the images that have no alt text.
            assert "image(s) without alt text; describe each" in done.stdout
            for path in (
                content / "posts" / "hostile-post.md",
                content / "pages" / "hostile-page.md",
            ):
                text = path.read_text(encoding="utf-8").replace("![](", "![an image](")
                path.write_text(text, encoding="utf-8")
    output = root / "output"
    done = publish(output, content, "--strict")
    assert done.returncode == 0, done.stderr
    return output.resolve(), content


def publish(output: Path, content: Path, *extra: str, settings: Path = PUBLISHCONF, **popen):
    if popen:
        command = build_command(output, content, *extra, settings=settings)
        return subprocess.Popen(command, cwd=ROOT, text=True, **popen)
    return run_build(output, content, *extra, settings=settings)


def test_imported_pre_blocks_stay_code_and_their_text_stays_text(imported):
    output, _content = imported
    soup = BeautifulSoup(
        (output / "2019" / "hostile-post" / "index.html").read_bytes(), "html.parser"
    )
    body = soup.select_one(".entry-content")
    codes = [pre.get_text() for pre in body.find_all("pre")]
    # The displayed text of every <pre> is there, as code, in order.
    assert any("keep this code\n```\n<script>alert('pre')</script>" in c for c in codes), codes
    assert any("````\n<script>alert('pre')</script>\n````" in c for c in codes), codes
    assert any("[x](javascript:alert(2))" in c for c in codes), codes
    links = {a.get_text(): a.get("href", "") for a in body.find_all("a")}
    assert links["title"] == "https://ok.example/"
    assert body.find("a", string="x") is None and body.find("a", string="y") is None
    for a in body.find_all("a"):
        assert a["href"].startswith(("https://", "http://", "mailto:")), a
        assert "javascript:" not in a["href"].lower(), a  # not even in a path


@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
def test_publishing_hostile_imports_leaves_nothing_executable_in_any_file(imported):
    output, _content = imported
    problems, checked = {}, 0
    for path in sorted(output.rglob("*")):
        if not path.is_file():
            continue
        relative = str(path.relative_to(output))
        if path.suffix in (".html", ".xml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".xml" and "sitemap" not in path.name:
                parsed = feedparser.parse(text)
                assert not parsed.bozo, (relative, parsed.bozo_exception)
                text = "".join(
                    e.get("summary", "")
                    + (e.title if e.get("title_detail", {}).get("type") == "text/html" else "")
                    + "".join(c.value for c in e.get("content", []))
                    + "".join(f'<a href="{link.href}">' for link in e.get("links", []))
                    for e in parsed.entries
                )
            soup = BeautifulSoup(text, "html.parser")
            found = offending(soup, path)
            for block in soup.find_all("script", type="application/ld+json"):
                bad_urls_in_json(json.loads(block.string), found, "JSON-LD")
        elif path.name in ("_redirects", "redirects.nginx.map", "robots.txt"):
            text = path.read_text(encoding="utf-8")
            found = [line for line in text.splitlines() if "javascript:" in line.lower()]
        elif path.suffix == ".json":
            found = []
            bad_urls_in_json(json.loads(path.read_text(encoding="utf-8")), found, relative)
        else:
            continue
        checked += 1
        if found:
            problems[relative] = found[:5]
    found = []
    for path, record in pagefind_fragments(output):
        bad_urls_in_json(record, found, path.name)
    assert problems == {} and found == []
    assert checked > 100
    # What was imported is there: the post, the page, the Reddit and Discourse threads.
    for page in ("2019/hostile-post", "hostile-page", "2023"):
        assert (output / page).exists(), page


def test_hostile_imported_pages_run_nothing_in_chromium(imported):
    require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    require(os.path.exists(CHROMEDRIVER), f"ChromeDriver ({CHROMEDRIVER})")
    output, _content = imported
    from tests.browser import LocalServer

    pages = ["/2019/hostile-post/", "/hostile-page/", "/", "/feeds/all.atom.xml"]
    pages += [
        "/" + p.parent.relative_to(output).as_posix() + "/"
        for p in sorted((output / "2023").rglob("index.html"))[:3]
    ]
    with LocalServer(output) as server:
        driver = start_chromium()
        try:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
            for page in pages:
                driver.get(server.url + page)
                assert driver.execute_script("return window.__xss") == [], page
                # Follow every link on the imported post: none may run code.
                if page == "/2019/hostile-post/":
                    hrefs = driver.execute_script(
                        "return Array.from(document.querySelectorAll('.entry-content a'))"
                        ".map(a => a.protocol)"
                    )
                    assert hrefs and set(hrefs) <= {"http:", "https:", "mailto:"}, hrefs
        finally:
            stop_chromium(driver)


CONTROL_THREAD = (
    "Title: Form\x0cfeed in the title\x1b[31m\nDate: 2026-06-01 09:00\nKind: question\n"
    "Author: Vee\x08rt\nCategory: The Search\n\nAn opening post with a vertical\x0btab.\n\n"
    "```reply\nid: r1\nauthor: Bell\x07 Ringer\ndate: 2026-06-01 10:00\n```\n\n"
    "A reply with an escape\x1b and a backspace\x08 in it.\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.fixture(scope="module")
def controls(tmp_path_factory):
    root = tmp_path_factory.mktemp("controls")
    content = copy_content(root / "content")
    (content / "threads" / "controls.md").write_text(CONTROL_THREAD, encoding="utf-8")
    folder = content / "comments" / "panel-interview-day"
    (folder / "ff.md").write_text(
        "Id: ff\nAuthor: Form\x0cFeed\nDate: 2026-02-25 10:00\n\nPage one\x0cpage two.\n",
        encoding="utf-8",
    )
    (folder / "latin1.md").write_bytes(
        "Id: latin1\nAuthor: Ren\xe9e\nDate: 2026-02-25 11:00\n\nCaf\xe9 talk.\n".encode("latin-1")
    )
    (folder / "picture.md").write_bytes(PNG)
    return build(root / "out", content=content), content


def test_control_characters_are_dropped_and_named_and_the_build_goes_on(controls):
    site, content = controls
    thread = content / "threads" / "controls.md"
    messages = "\n".join(site.messages)
    assert f"{thread}:1: 7 control character(s) (U+0007 bell, U+0008 backspace, " in messages
    assert "removed (lines 1, 4, 7, 11, 15)" in messages
    assert f"{content}/comments/panel-interview-day/ff.md:2: 2 control character(s)" in messages
    assert not any(m.startswith("The build stopped") for m in site.messages)
    page = site.soup("/2026/form-feed-in-the-title31m/")
    assert page.select_one("h1").get_text(strip=True) == "Form feed in the title[31m"
    assert "A reply with an escape and a backspace in it." in page.get_text()
    # Every feed parses as XML, and carries the replies' text.
    feed = feedparser.parse((site.output / "feeds" / "replies.atom.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert any("Page one page two." in e.summary for e in feed.entries)
    for path in site.output.rglob("*.xml"):
        assert not feedparser.parse(path.read_bytes()).bozo, path


def test_bytes_that_are_not_utf8_are_named_and_a_binary_file_is_refused(controls):
    site, content = controls
    folder = content / "comments" / "panel-interview-day"
    assert (
        f"{folder / 'latin1.md'}:2: 2 byte(s) that are not UTF-8 were replaced with \ufffd "
        "(lines 2, 5). Save the file as UTF-8" in "\n".join(site.messages)
    )
    assert (
        f"{folder / 'picture.md'}: not read: this is not a text file (it holds NUL bytes "
        in "\n".join(site.messages)
    )
    text = site.soup("/2026/panel-interview-day/").get_text()
    assert "Caf\ufffd talk." in text and "IHDR" not in text


def test_the_email_importer_drops_control_characters_and_names_an_empty_file(tmp_path):
    content = copy_content(tmp_path / "content")
    message = tmp_path / "reply.eml"
    message.write_bytes(
        b'From: "Form\x0cFeed" <ff@mail.example.com>\n'
        b"Subject: Re: x [reply-to: other-offer-fell-through#halvard]\n"
        b"Date: Mon, 09 Mar 2026 08:15:00 -0500\nMessage-ID: <cc-1@mail.example.com>\n"
        b"Content-Type: text/plain; charset=utf-8\n\nThank you\x1b[0m, this\x08 helped.\n"
    )
    done = run_tool("import_content.py", "email", message, "--content", content)
    assert done.returncode == 0, done.stderr
    assert "control characters removed from its body" in done.stdout
    [path] = (content / "comments" / "other-offer-fell-through").glob("mail-*.md")
    text = path.read_text(encoding="utf-8")
    assert "Thank you[0m, this helped." in text
    assert not any(ord(c) < 32 and c not in "\n\t" for c in text)

    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    done = run_tool("import_content.py", "email", empty, "--content", content)
    assert done.returncode == 2
    assert f"{empty}: the file is empty (0 bytes)" in done.stderr


MOVED_THREAD = """Title: An old thread that moved
Date: 2026-06-02 09:00
Kind: question
Author: Mover
Category: The Search
Original-URL: {url}

Where did this thread live before?
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_redirects(output: Path, tmp_path: Path, paths: list[str]) -> dict[str, str]:
    """Serve the site with nginx, the map `include`d as the README says; the
    Location (or status) each path gets."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    require(os.path.exists(nginx), "nginx (Debian's nginx-light)")
    port = free_port()
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + "events {}\nhttp {\n"
        f"  access_log off; client_body_temp_path {prefix}; proxy_temp_path {prefix};\n"
        f"  fastcgi_temp_path {prefix}; uwsgi_temp_path {prefix}; scgi_temp_path {prefix};\n"
        f"  map $request_uri $new {{ include {output}/redirects.nginx.map; }}\n"
        f"  server {{ listen 127.0.0.1:{port}; root {output};\n"
        '    if ($new != "") { return 301 $new; } }\n}\n',
        encoding="utf-8",
    )
    check = subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    server = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)

        class NoFollow(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # noqa: ARG002
                return None

        opener = urllib.request.build_opener(NoFollow)
        answers = {}
        for path in paths:
            try:
                response = opener.open(f"http://127.0.0.1:{port}{path}", timeout=10)
                answers[path] = str(response.status)
            except urllib.error.HTTPError as error:
                answers[path] = error.headers.get("Location") or str(error.code)
        return answers
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_an_original_url_that_is_not_plain_is_refused_and_nginx_serves_the_map(tmp_path):
    content = copy_content(tmp_path / "content")
    hostile = "/old; return 302 https://evil.invalid/; } server { #"
    (content / "threads" / "moved-hostile.md").write_text(
        MOVED_THREAD.format(url=hostile), encoding="utf-8"
    )
    (content / "threads" / "moved-plain.md").write_text(
        MOVED_THREAD.format(url="https://old.example/t/moved-thread?page=2").replace(
            "An old thread", "A plain old thread"
        ),
        encoding="utf-8",
    )
    output = tmp_path / "output"
    done = publish(output, content, "--strict")
    assert done.returncode == 1 and "Not published" in done.stderr
    assert (
        f"{content / 'threads' / 'moved-hostile.md'}:6: Original-URL {hostile!r} is not a plain "
        "path or http(s) URL, so no redirect is made for it." in done.stderr
    )
    done = publish(output, content, settings=PELICANCONF)  # `make html`: builds the rest
    assert done.returncode == 0, done.stderr
    site = output.resolve()
    for name in ("_redirects", "redirects.nginx.map"):
        assert "evil" not in (site / name).read_text(encoding="utf-8")
    target = "https://site.test/2026/a-plain-old-thread-that-moved/"
    answers = nginx_redirects(site, tmp_path, ["/t/moved-thread?page=2", "/old", "/"])
    assert answers == {"/t/moved-thread?page=2": target, "/old": "404", "/": "200"}


def test_quotes_and_lists_nested_past_the_limit_keep_their_text(tmp_path):
    content = copy_content(tmp_path / "content")
    deep_quote = "> " * 60 + "the deepest quote"
    deep_list = "\n".join("  " * i + f"- level{i}" for i in range(40))
    (content / "threads" / "deep.md").write_text(
        "Title: Deep nesting\nDate: 2026-06-03 09:00\nKind: discussion\nAuthor: D\n"
        f"Category: The Search\n\n{deep_quote}\n\n```reply\nid: r1\nauthor: L\n"
        f"date: 2026-06-03 10:00\n```\n\n{deep_list}\n\nAnd the last line.\n",
        encoding="utf-8",
    )
    site = build(tmp_path / "out", content=content)
    text = site.soup("/2026/deep-nesting/").get_text(" ")
    assert "the deepest quote" in text and "And the last line." in text
    assert all(f"level{i}" in text for i in range(40))


def test_a_second_publish_waits_for_the_first(tmp_path):
    content = copy_content(tmp_path / "content")
    output = tmp_path / "output"
    marker = tmp_path / "paused"
    env = {**os.environ, "SITE_BUILD_PAUSE_AT": "staged", "SITE_BUILD_PAUSE_FILE": str(marker)}
    first = publish(
        output, content, "--strict", "--no-search", env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    second = None
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        second = publish(
            output, content, "--strict", "--no-search", stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        # Its first word, while the first build holds the lock (had it not
        # waited, it would build and end, and this would be something else).
        said = second.stderr.readline()
        assert "Another build is running in this checkout (pid " in said, said
        assert "waiting for it to finish" in said and second.poll() is None
        os.kill(first.pid, signal.SIGKILL)
        out, err = second.communicate(timeout=300)
    finally:
        first.kill()
        first.wait(timeout=30)
        if second is not None and second.poll() is None:
            second.kill()
    assert second.returncode == 0, err
    assert "Built " in out
    assert (output / "index.html").is_file()
