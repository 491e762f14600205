"""The plugins as another Pelican site gets them: a wheel built from this repository,
installed into a fresh virtual environment, and a small site of its own built with
Pelican's `notmyidea` theme. Nothing of this repository is on that site's path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pelican
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pelican/plugins/threads/", "pelican/plugins/topics/", "pelican/plugins/indexes/")
NOTMYIDEA = Path(pelican.__file__).parent / "themes" / "notmyidea"

# The site's own writing, made up for this test.
POSTS = {
    "posts/first-shift.md": """\
Title: My first shift at the branch desk
Date: 2026-02-02 09:00
Category: Notes
Slug: first-shift

I learned where the holds shelf is, and that the date stamp sticks.
""",
    "posts/weeding-day.md": """\
Title: Weeding day
Date: 2026-02-09 09:00
Category: Notes
Slug: weeding-day

We pulled forty travel guides older than the countries they describe.
""",
    "comments/weeding-day/glenna.md": """\
Author: Glenna Ruiz
Date: 2026-02-09 12:00

Which ones did you keep for the local history room?
""",
    "threads/second-interview.md": """\
Title: Should I bring a portfolio to a second interview?
Slug: second-interview
Date: 2026-02-03 08:00
Kind: question
Author: Pim Alvarez
Category: Interviews

A branch manager asked me back for a second conversation. Do people bring printed
examples of programmes they ran?

```reply
id: r1
author: Odile Brandt
date: 2026-02-03 10:00
accepted: yes
```

Bring one page per programme: attendance, cost, and what you would change.

```reply
id: r2
parent: r1
author: Pim Alvarez
date: 2026-02-03 11:30
```

One page each is doable. Would a **short** <b>flyer</b> count?<script>alert("stolen")</script>
<a href="javascript:alert(1)" onclick="steal()">see my flyer</a>

```reply
id: r3
parent: r2
author: Odile Brandt
date: 2026-02-03 12:15
```

A flyer counts if you say what it achieved.

```reply
id: r4
author: Sunny <i>Okoro</i> & co
date: 2026-02-04 09:00
```

They will mostly ask about the people you worked with, not the paper.
""",
}

VOCABULARY = """\
[[topics]]
slug = "interviews"
name = "Interviews"
description = "Getting ready for interviews and what happens in them."
phrases = ["interview ^4", "portfolio ^2"]
"""


def _settings(plugins: list[str], theme: str = "notmyidea", extra: str = "") -> str:
    return (
        "AUTHOR = 'Tove Lind'\n"
        "SITENAME = 'Branch Notes'\n"
        "SITEURL = ''\n"
        "PATH = 'content'\n"
        "TIMEZONE = 'UTC'\n"
        "DEFAULT_LANG = 'en'\n"
        f"THEME = {theme!r}\n"
        f"PLUGINS = {plugins!r}\n"
        "RELATIVE_URLS = True\n"
        "FEED_ALL_ATOM = None\n"
        "CATEGORY_FEED_ATOM = None\n"
        "AUTHOR_FEED_ATOM = None\n"
        "AUTHOR_FEED_RSS = None\n"
        "TRANSLATION_FEED_ATOM = None\n"
        "THREADS_REPLY_EMAIL = 'replies@branch-notes.test'\n" + extra
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install <this repository>` builds, from a copy of what it
    packs (a build in place would leave build/ and egg-info here)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("pelican", "stacks_offers"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # pip builds with this environment's setuptools (requirements.txt pins it).
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = dist.glob("stacks_offers_pelican_plugins-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed. Pelican and the
    plugins' dependencies come from this one (a .pth file), so nothing is
    fetched; the wheel's files go into the new environment's own folder."""
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "outer-environment.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return python


def _clean_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    # Wide enough that Pelican's console does not wrap a message.
    return {**{key: os.environ[key] for key in keep if key in os.environ}, "COLUMNS": "500"}


def _run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), *args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _site(tmp_path: Path, settings: str, vocabulary: bool = False) -> Path:
    for name, text in POSTS.items():
        path = tmp_path / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if vocabulary:
        (tmp_path / "content" / "topics.toml").write_text(VOCABULARY, encoding="utf-8")
    (tmp_path / "pelicanconf.py").write_text(settings, encoding="utf-8")
    return tmp_path


def _build(python: Path, site: Path) -> Path:
    done = _run(python, site, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output")
    assert done.returncode == 0, done.stdout + done.stderr
    for line in (done.stdout + done.stderr).splitlines():
        assert "ERROR" not in line and "WARNING" not in line, done.stdout + done.stderr
    return site / "output"


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_the_wheel_holds_the_three_plugins_and_nothing_of_pelicans_own(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    files = [n for n in names if ".dist-info/" not in n]
    assert all(n.startswith((*PACKAGES, "stacks_offers/")) for n in files), files
    # Installing it must not replace Pelican's package or namespace files.
    assert "pelican/__init__.py" not in names and "pelican/plugins/__init__.py" not in names
    for package in PACKAGES:
        assert package + "__init__.py" in names
    assert "pelican/plugins/threads/templates/thread.html" in names
    assert "pelican/plugins/topics/templates/topic.html" in names
    assert "pelican/plugins/indexes/templates/questions.html" in names
    # The speed layer is this site's own.
    assert not any("parallel" in n or "speedups" in n for n in names)


def test_pelican_finds_the_installed_plugins_in_its_namespace(venv, tmp_path):
    done = _run(
        venv,
        tmp_path,
        "-c",
        "import pelican.plugins.threads as t\n"
        "from pelican.plugins._utils import get_namespace_plugins\n"
        "print(t.__file__)\n"
        "print(' '.join(sorted(get_namespace_plugins())))",
    )
    assert done.returncode == 0, done.stderr
    where, found = done.stdout.splitlines()
    assert Path(where).is_relative_to(venv.parent.parent)  # installed, not this repository
    # What Pelican loads with no PLUGINS setting: the three plugins, not their helpers.
    assert {"pelican.plugins.threads", "pelican.plugins.topics", "pelican.plugins.indexes"} <= set(
        found.split()
    )
    assert "stacks_offers" not in found


def test_a_notmyidea_site_shows_a_thread_with_its_nested_replies(venv, tmp_path):
    out = _build(venv, _site(tmp_path, _settings(["pelican.plugins.threads"])))
    page = out / "second-interview.html"
    soup = _soup(page)
    # The theme's own article page, then the replies.
    assert soup.select_one("#content h1.entry-title").get_text(strip=True) == (
        "Should I bring a portfolio to a second interview?"
    )
    discussion = soup.select_one("section.threads-discussion")
    assert discussion.find("h2").get_text(strip=True) == "4 replies"
    assert [li["id"] for li in discussion.select("li.threads-reply")] == [
        "reply-r1",
        "reply-r2",
        "reply-r3",
        "reply-r4",
    ]
    # Nested: r3 answers r2, which answers r1; r4 answers the question.
    assert discussion.select_one("#reply-r1 #reply-r2 #reply-r3") is not None
    assert discussion.select_one("#reply-r1 #reply-r4") is None
    top = discussion.find("ol", class_="threads-replies")
    assert [li["id"] for li in top.find_all("li", recursive=False)] == ["reply-r1", "reply-r4"]
    r1 = soup.select_one("#reply-r1 > article")
    assert "accepted answer" in r1.get_text()
    assert "asker" in soup.select_one("#reply-r2 > article header").get_text()


def test_reply_text_is_sanitised_and_names_escaped(venv, tmp_path):
    out = _build(venv, _site(tmp_path, _settings(["pelican.plugins.threads"])))
    soup = _soup(out / "second-interview.html")
    r2 = soup.select_one("#reply-r2 > article .threads-reply-body")
    assert r2.find("strong").get_text() == "short"  # Markdown is rendered
    # Raw HTML is not: its words stay, the tags and the script go.
    assert "Would a short flyer count?" in r2.get_text()
    assert r2.find("b") is None and r2.find("script") is None and "stolen" not in str(soup)
    link = r2.find("a", string="see my flyer")
    assert not link.has_attr("href") and not link.has_attr("onclick")
    assert "javascript" not in str(r2) and "steal()" not in str(r2)
    # notmyidea does not autoescape: the plugin's templates escape what readers wrote.
    author = soup.select_one("#reply-r4 .threads-author")
    assert author.get_text() == "Sunny <i>Okoro</i> & co" and author.find("i") is None


def test_every_reply_has_a_permalink_to_itself(venv, tmp_path):
    out = _build(venv, _site(tmp_path, _settings(["pelican.plugins.threads"])))
    page = out / "second-interview.html"
    soup = _soup(page)
    replies = soup.select("li.threads-reply")
    assert len(replies) == 4
    for li in replies:
        link = li.find("article").select_one("a.threads-permalink")
        target = urlsplit(urljoin("http://site.test/second-interview.html", link["href"]))
        assert target.path == "/second-interview.html"
        assert target.fragment == li["id"]
        assert link.find("time")["datetime"].startswith("2026-02-0")
    # A reply by e-mail names the thread and the reply answered.
    mail = soup.select_one("#reply-r3 > article .threads-reply-links a")
    assert mail["href"].startswith("mailto:replies@branch-notes.test?subject=")
    assert "second-interview%23r3" in mail["href"]


def test_a_post_shows_its_comment_files_and_they_are_not_posts(venv, tmp_path):
    out = _build(venv, _site(tmp_path, _settings(["pelican.plugins.threads"])))
    soup = _soup(out / "weeding-day.html")
    (comment,) = soup.select("li.threads-reply")
    assert comment.select_one(".threads-author").get_text() == "Glenna Ruiz"
    assert "local history room" in comment.get_text()
    # A post without comments is the theme's page as it is.
    assert _soup(out / "first-shift.html").select_one("section.threads-discussion") is None
    # The comment file is a reply, not a post of its own.
    index = _soup(out / "index.html").get_text()
    assert "local history room" not in index
    assert not list(out.glob("**/glenna*.html"))


def test_a_theme_replaces_any_of_the_default_templates(venv, tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(NOTMYIDEA, theme)
    (theme / "templates" / "threads").mkdir()
    (theme / "templates" / "threads" / "reply.html").write_text(
        '<p class="my-reply">{{ r.author|e }} wrote: {{ r.html|safe }}</p>\n', encoding="utf-8"
    )
    site = tmp_path / "site"
    out = _build(venv, _site(site, _settings(["pelican.plugins.threads"], theme=str(theme))))
    soup = _soup(out / "second-interview.html")
    assert [p.get_text(" ", strip=True)[:20] for p in soup.select("p.my-reply")] == [
        "Odile Brandt wrote: ",
        "Pim Alvarez wrote: O",
        "Odile Brandt wrote: ",
        "Sunny <i>Okoro</i> &",
    ]
    assert soup.select(".threads-reply-body") == []  # the plugin's reply.html is not used
    assert soup.select_one("#reply-r1 #reply-r2 #reply-r3") is not None  # its other parts are


def test_topics_and_indexes_work_with_the_threads_plugin_on_notmyidea(venv, tmp_path):
    plugins = ["pelican.plugins.threads", "pelican.plugins.topics", "pelican.plugins.indexes"]
    out = _build(venv, _site(tmp_path, _settings(plugins), vocabulary=True))
    topic = _soup(out / "topics" / "interviews" / "index.html")
    assert topic.select_one(".topics-topic h1").get_text() == "Topic: Interviews"
    listed = [a.get_text() for a in topic.select(".topics-topic li a")]
    assert listed == ["Should I bring a portfolio to a second interview?"]
    topics = _soup(out / "topics" / "index.html")
    assert [a.get_text() for a in topics.select(".topics-index dt a")] == ["Interviews"]
    questions = _soup(out / "questions" / "index.html")
    items = [li.get_text(" ", strip=True) for li in questions.select(".indexes-questions li")]
    assert items == ["Should I bring a portfolio to a second interview? (4 replies, solved)"]
    assert (out / "robots.txt").read_text(encoding="utf-8").startswith("User-agent: *")


@pytest.mark.parametrize(
    "plugins",
    [
        ["pelican.plugins.topics", "pelican.plugins.threads"],
        None,  # unset: Pelican loads every installed plugin, alphabetically: indexes first
    ],
)
def test_plugins_in_an_order_that_would_build_the_site_wrong_stop_the_build(
    venv, tmp_path, plugins
):
    site = _site(tmp_path, _settings(plugins), vocabulary=True)
    done = _run(venv, site, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output")
    assert done.returncode != 0
    said = done.stdout + done.stderr
    first = "indexes" if plugins is None else "topics"
    assert f"{first!r} reads article.kind, which 'threads' sets, but comes before it" in said
    assert not (site / "output" / "second-interview.html").exists()
