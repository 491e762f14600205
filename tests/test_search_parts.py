"""The search index in parts (tools/search_index.py), searched as one.

A generated site is indexed twice, in one part and in parts of 25 pages, and
Pagefind itself, in Chromium, answers the same queries from both: every part
merged with `mergeIndex` (as the search page does) must give the same pages and
the same filter counts as the single index. The search page is then used as a
reader uses it, and finds a page that lives in a part other than the first.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import (
    CHROMEDRIVER,
    CHROMIUM,
    LocalServer,
    require,
    start_chromium,
    stop_chromium,
)
from tests.sitebuild import PELICANCONF, build, run_build
from tools.bench import generate
from tools.search_index import (
    SHARD_SIZE_ENV,
    build_search_index,
    glob_of,
    pages_with_reader_text,
    part_folder,
    plan_parts,
    survey,
)

PART_SIZE = 25
# One word each: a word that no page of a part contains is dropped from the
# query in that part (Pagefind searches each merged index on its own), so a
# query of several words can find more in parts than in one index. The README
# says so, and SEARCH_SHARD_SIZE's default keeps sites under 1,000 pages whole.
QUERIES = ("interview", "library", "negotiate", "relocation", "offered", "rejection")

SEARCH = """
const done = arguments[arguments.length - 1];
(async () => {
  const pagefind = await import('/pagefind/pagefind.js');
  await pagefind.init();
  for (const part of (window.SEARCH_PARTS || [])) await pagefind.mergeIndex(part.bundlePath);
  const filters = await pagefind.filters();
  const answers = {};
  for (const query of arguments[0]) {
    const found = await pagefind.search(query);
    const pages = await Promise.all(found.results.map(r => r.data()));
    answers[query] = pages.map(p => p.url);
  }
  done({filters, answers, parts: (window.SEARCH_PARTS || []).length});
})().catch(error => done({error: String(error)}));
"""


def test_parts_are_a_year_at_a_time_in_runs_of_the_size():
    pages = [f"2023/a{i}/index.html" for i in range(5)] + [
        f"2024/b{i}/index.html" for i in range(3)
    ]
    pages += ["about/index.html"]
    assert plan_parts(pages, 100) == [pages]  # it fits: one part
    assert plan_parts([], 3) == []
    parts = plan_parts(sorted(pages), 3)
    assert parts == [
        ["about/index.html"],
        [f"2023/a{i}/index.html" for i in range(3)],
        [f"2023/a{i}/index.html" for i in range(3, 5)],
        [f"2024/b{i}/index.html" for i in range(3)],
    ]
    assert sorted(p for part in parts for p in part) == sorted(pages)  # nothing lost
    # A year over the size is cut into runs as even as can be: no small last
    # run, whose word statistics would rank its pages apart from the others.
    year = [f"2025/c{i:02}/index.html" for i in range(13)]
    runs = plan_parts([*year, "about/index.html"], 5)[1:]
    assert [len(run) for run in runs] == [5, 4, 4]
    assert [page for run in runs for page in run] == year  # in address order


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory):
    """One built site, indexed as one part and as parts of PART_SIZE pages."""
    root = tmp_path_factory.mktemp("search-parts")
    generate(root / "corpus", 120, seed=5, max_replies=6)
    # Addresses from the site's root, as `make serve` shows them: the search page
    # loads parts.js from whichever server serves the folder.
    site = build(
        root / "built",
        content=root / "corpus" / "project",
        settings=PELICANCONF,
        SITEURL="",
        FEED_DOMAIN="",
        RELATIVE_URLS=False,
    )
    indexed = {}
    for name, size in (("one", "100000"), ("parts", str(PART_SIZE))):
        folder = root / name
        shutil.copytree(site.output, folder)
        previous = os.environ.get(SHARD_SIZE_ENV)
        os.environ[SHARD_SIZE_ENV] = size
        try:
            error, cost = build_search_index(folder)
        finally:
            if previous is None:
                os.environ.pop(SHARD_SIZE_ENV)
            else:
                os.environ[SHARD_SIZE_ENV] = previous
        assert error is None, error
        indexed[name] = (folder, cost)
    return indexed


def ask(folder: Path, queries=QUERIES) -> dict:
    require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    require(os.path.exists(CHROMEDRIVER), f"ChromeDriver ({CHROMEDRIVER})")
    with LocalServer(folder) as server:
        driver = start_chromium()
        try:
            driver.set_script_timeout(120)
            driver.get(server.url + "/search/")
            answer = driver.execute_async_script(SEARCH, list(queries))
        finally:
            stop_chromium(driver)
    assert "error" not in answer, answer
    return answer


def test_a_large_site_is_indexed_in_parts_of_the_size(two_indexes):
    folder, cost = two_indexes["parts"]
    pages = pages_with_reader_text(folder)
    expected = len(plan_parts(pages, PART_SIZE))
    assert expected >= 4
    assert f"in {expected} parts" in cost
    bundles = sorted(p.parent for p in folder.glob("pagefind/**/pagefind-entry.json"))
    assert len(bundles) == expected
    listed = (folder / "pagefind" / "parts.js").read_text()
    for n in range(2, expected + 1):
        assert f'"part-{n}/"' in listed
    one, _ = two_indexes["one"]
    assert list(one.glob("pagefind/**/pagefind-entry.json")) == [
        one / "pagefind" / "pagefind-entry.json"
    ]
    # Nothing of the parts' scaffolding is left in the site.
    assert not list(folder.parent.glob(".search-part-*"))


def test_parts_merged_find_what_one_index_finds(two_indexes):
    whole = ask(two_indexes["one"][0])
    parted = ask(two_indexes["parts"][0])
    assert whole["parts"] == 0 and parted["parts"] >= 3
    assert parted["filters"] == whole["filters"]
    assert whole["filters"]["type"], whole["filters"]
    for query in QUERIES:
        assert sorted(parted["answers"][query]) == sorted(whole["answers"][query]), query
    assert any(len(whole["answers"][q]) > PART_SIZE for q in QUERIES)  # results span parts


def test_the_search_page_shows_results_from_every_part(two_indexes):
    folder, _ = two_indexes["parts"]
    # A page indexed in the last part, and a word from its title to look for.
    last = plan_parts(pages_with_reader_text(folder), PART_SIZE)[-1]
    target = "/" + Path(last[0]).parent.as_posix() + "/"
    require(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM})")
    with LocalServer(folder) as server:
        driver = start_chromium()
        try:
            driver.get(server.url + target)
            title = driver.find_element(By.CSS_SELECTOR, "h1").text
            driver.get(server.url + "/search/")
            box = WebDriverWait(driver, 30).until(
                ec.presence_of_element_located((By.CSS_SELECTOR, "#search input"))
            )
            box.send_keys(title)
            WebDriverWait(driver, 30).until(
                lambda d: any(
                    (a.get_attribute("href") or "").endswith(target)
                    for a in d.find_elements(By.CSS_SELECTOR, ".pagefind-ui__result-link")
                )
            )
        finally:
            stop_chromium(driver)


def test_an_edit_re_indexes_only_the_part_it_touched(tmp_path):
    """Through `make publish`'s command: the parts whose pages did not change are
    hard links to the last build's; search finds the edit; and the site searches
    as a clean build's index does."""
    generate(tmp_path / "corpus", 120, seed=5, max_replies=6)
    content = tmp_path / "corpus" / "project"
    env = {SHARD_SIZE_ENV: str(PART_SIZE)}
    output = tmp_path / "site" / "output"

    def publish(*extra, to=output):
        done = run_build(to, content, *extra, settings=PELICANCONF, siteurl="", env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    first = publish()
    count = len(plan_parts(pages_with_reader_text(output.resolve()), PART_SIZE))
    assert f"in {count} parts" in first and "kept from the last build" not in first
    before = output.resolve()

    # One post's text changes (its listing summary and related lists do not).
    post = sorted((content / "posts").glob("*.md"))[-1]
    post.write_text(post.read_text(encoding="utf-8") + "\nA word nobody used: quokkaberry.\n")
    second = publish()
    assert f"{count - 1} of {count} unchanged and kept from the last build" in second, second
    after = output.resolve()
    changed = []
    for number in range(1, count + 1):
        entry = Path(part_folder(number)) / "pagefind-entry.json"
        if (after / entry).stat().st_ino != (before / entry).stat().st_ino:
            changed.append(number)
    assert len(changed) == 1, changed  # one part indexed anew, the rest linked

    found = ask(after, ("quokkaberry", *QUERIES))
    assert len(found["answers"]["quokkaberry"]) == 1
    clean = tmp_path / "clean" / "output"
    clean_said = publish("--full", to=clean)
    assert "kept from the last build" not in clean_said
    whole = ask(clean.resolve(), ("quokkaberry", *QUERIES))
    assert found["filters"] == whole["filters"]
    for query in ("quokkaberry", *QUERIES):
        assert sorted(found["answers"][query]) == sorted(whole["answers"][query]), query


def test_the_previous_builds_own_files_are_not_read_again(tmp_path):
    """An incremental build hard-links its unchanged pages from the last build:
    what was learnt of those files is taken from the last build's survey, and
    a file that is not the same file (written anew, or a copy with the same
    bytes) is read."""
    before, now = tmp_path / "before", tmp_path / "now"
    body = b"<html><body><main data-pagefind-body>Some reader text</main></body></html>"
    for name in ("linked", "copied", "listing"):
        (before / name).mkdir(parents=True)
    (before / "linked" / "index.html").write_bytes(body)
    (before / "copied" / "index.html").write_bytes(body)
    (before / "listing" / "index.html").write_bytes(b"<html><body>A list</body></html>")
    _marked, known = survey(before)
    assert set(known) == {"linked/index.html", "copied/index.html", "listing/index.html"}
    assert known["linked/index.html"][0] and not known["listing/index.html"][0]

    for name in ("linked", "copied", "listing"):
        (now / name).mkdir(parents=True)
    os.link(before / "linked" / "index.html", now / "linked" / "index.html")
    os.link(before / "listing" / "index.html", now / "listing" / "index.html")
    shutil.copy2(before / "copied" / "index.html", now / "copied" / "index.html")
    # What the survey says of a linked file is believed (its bytes are the last
    # build's, by construction): a planted digest shows it was not read again.
    planted = {
        **known,
        "linked/index.html": [True, "ab" * 20, known["linked/index.html"][2]],
        "copied/index.html": [True, "cd" * 20, known["copied/index.html"][2]],
    }
    marked, seen = survey(now, before, planted)
    assert marked["linked/index.html"] == "ab" * 20
    assert marked["copied/index.html"] == known["copied/index.html"][1]  # read: another inode
    assert "listing/index.html" not in marked
    assert seen["listing/index.html"] == known["listing/index.html"]
    # Without the last build, everything is read.
    assert survey(now)[0]["linked/index.html"] == known["linked/index.html"][1]


def test_a_part_is_indexed_where_its_pages_are_or_from_links_when_a_glob_cannot_name_them(
    tmp_path, monkeypatch
):
    """A part's pages are named to Pagefind by one `--glob`; a path a glob would
    read otherwise, or a list too long for one argument, falls back to a folder
    of links. Both index the same pages under the same addresses."""
    assert glob_of(["2024/a/index.html", "2024/b/index.html"]) == (
        "{2024/a/index.html,2024/b/index.html}"
    )
    # Each is syntax to wax, Pagefind's glob library: "$" matched four other
    # folders, "(" would not parse, "<y>" left the page out.
    for odd in "{},[]*?!:()<>$ ~@#é":
        assert glob_of(["2024/a/index.html", f"2024/a{odd}b/index.html"]) is None, odd
    assert glob_of([f"2024/{'a' * 60}-{n}/index.html" for n in range(2000)]) is None

    def site(root: Path) -> Path:
        for year, count in (("2024", 3), ("2025", 2)):
            for n in range(count):
                page = root / year / f"post-{n}" / "index.html"
                page.parent.mkdir(parents=True)
                page.write_text(
                    f"<html lang='en'><body><main data-pagefind-body><h1>Post {year} {n}</h1>"
                    f"<p>Offer letter {year} number {n}.</p></main></body></html>",
                    encoding="utf-8",
                )
        (root / "index.html").write_text("<html><body>A list</body></html>", encoding="utf-8")
        return root

    monkeypatch.setenv(SHARD_SIZE_ENV, "2")
    entries = {}
    for way, limit in (("glob", 100_000), ("links", 0)):
        monkeypatch.setattr("tools.search_index.GLOB_LIMIT", limit)
        root = site(tmp_path / way)
        error, _cost = build_search_index(root)
        assert error is None, error
        entries[way] = [
            json.loads((root / part_folder(n) / "pagefind-entry.json").read_text())["languages"]
            for n in (1, 2, 3)
        ]
        fragments = sorted(
            p.name for n in (1, 2, 3) for p in (root / part_folder(n) / "fragment").iterdir()
        )
        entries[way].append(len(fragments))
    assert [part["en"]["page_count"] for part in entries["glob"][:3]] == [2, 1, 2]
    strip = [{k: v for k, v in part["en"].items() if k != "hash"} for part in entries["glob"][:3]]
    assert strip == [
        {k: v for k, v in part["en"].items() if k != "hash"} for part in entries["links"][:3]
    ]
    assert entries["glob"][3] == entries["links"][3] == 5
