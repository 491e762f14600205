"""The first hour: `make new-thread` and `make new-post` write drafts that preview with
`make html` and stay out of `make publish` until the author says; a build names the example
values still set; `make github` pushes only to a remote the owner names."""

from __future__ import annotations

import subprocess

from tests.sitebuild import (
    PELICANCONF,
    PUBLISHCONF,
    ROOT,
    build,
    copy_content,
    run_build,
    run_tool,
)


def write(kind: str, title: str, content) -> subprocess.CompletedProcess:
    return run_tool("new_thread.py", "--kind", kind, "--title", title, "--content", content)


def test_a_new_thread_and_a_new_post_are_drafts_until_their_status_line_goes(tmp_path):
    content = copy_content(tmp_path / "content")
    done = write("thread", "Do I tell the dean?", content)
    assert done.returncode == 0, done.stderr
    thread = content / "threads" / "do-i-tell-the-dean.md"
    assert done.stdout.splitlines()[0] == f"Wrote {thread}"
    assert "/drafts/do-i-tell-the-dean.html" in done.stdout and "Status: draft" in done.stdout
    again = write("thread", "Do I tell the dean?", content)
    assert again.returncode == 1 and "already exists" in again.stderr
    done = write("post", "What ten rejections taught me", content)
    assert done.returncode == 0, done.stderr
    post = content / "posts" / "what-ten-rejections-taught-me.md"

    # `make html`: both build without a warning, as drafts a writer can look at.
    local = build(tmp_path / "local", content=content, settings=PELICANCONF)
    assert local.messages == []
    soup = local.soup("/drafts/do-i-tell-the-dean.html")
    assert soup.find("h1").get_text() == "Do I tell the dean?"
    assert soup.select_one("#reply-first #reply-second")
    assert local.soup("/drafts/what-ten-rejections-taught-me.html").find("h2")

    # `make publish`: neither is published, nor listed anywhere.
    published = build(tmp_path / "published", content=content, settings=PUBLISHCONF)
    assert published.messages == []
    every_page = "".join(p.read_text(encoding="utf-8") for p in published.output.rglob("*.html"))
    assert "do-i-tell-the-dean" not in every_page and "Your Name" not in every_page
    assert "ten-rejections" not in every_page

    # Delete the status line: now they are published.
    for path in (thread, post):
        path.write_text(path.read_text().replace("Status: draft\n", ""), encoding="utf-8")
    published = build(tmp_path / "published-2", content=content, settings=PUBLISHCONF)
    year = thread.read_text().split("Date: ")[1][:4]
    assert published.soup(f"/{year}/do-i-tell-the-dean/").find("h1")
    assert published.soup(f"/{year}/what-ten-rejections-taught-me/").find("h1")
    # ...but each example line left in them is a warning naming file and line, so
    # `make publish` (which stops on any warning) would not publish them as they are.
    leftover = [m for m in published.messages if "still the skeleton's example" in m]
    lines = thread.read_text().splitlines()
    where = (
        lines.index("Write the opening post here. `Kind:` is `question` (readers answer it; one")
        + 1
    )
    assert any(f"{thread}:{where}: still the skeleton's example" in m for m in leftover), leftover
    assert any("author: Someone Else" in m for m in leftover)
    assert any(str(post) in m and "Write the post here" in m for m in leftover)
    done = run_build(tmp_path / "strict", content, "--no-search", "--strict")
    assert done.returncode == 1 and "still the skeleton's example" in done.stderr

    # Written over, they publish without a word.
    for path in (thread, post):
        text = path.read_text()
        for old_line, new_line in (
            ("Author: Your Name", "Author: Wren"),
            ("author: Your Name", "author: Wren"),
            ("author: Someone Else", "author: Ines"),
            (
                "Summary: One or two sentences that listings and feeds show under the title.",
                "Summary: Ten no's, and what they had in common.",
            ),
            ("Write the opening post here.", "My provost asked me something odd."),
            ("A reply to the opening post.", "Tell her the truth."),
            ("A reply to the reply above (`parent: first`).", "Thanks, I will."),
            ("Write the post here, in Markdown:", "Here is what I learned:"),
        ):
            text = text.replace(old_line, new_line)
        path.write_text(text, encoding="utf-8")
    published = build(tmp_path / "published-3", content=content, settings=PUBLISHCONF)
    assert [m for m in published.messages if "skeleton" in m] == []


def test_a_skeleton_is_dated_in_the_sites_time_zone(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import pelicanconf

    done = run_tool("new_thread.py", "--title", "When is it", "--content", tmp_path)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "threads" / "when-is-it.md").read_text().split("Date: ")[1][:16]
    written = datetime.strptime(written, "%Y-%m-%d %H:%M").replace(
        tzinfo=ZoneInfo(pelicanconf.TIMEZONE)
    )
    assert abs((datetime.now(ZoneInfo("UTC")) - written).total_seconds()) < 600


def test_a_build_names_the_example_values_still_set_and_where_to_change_them(tmp_path):
    content = copy_content(tmp_path / "content")
    # No SITEURL anywhere, as on a new machine.
    done = run_build(tmp_path / "a", content, "--no-search", siteurl=None, unset=("SITEURL",))
    assert done.returncode == 0, done.stderr
    said = done.stdout.split("Still set to the examples a new site comes with", 1)[1]
    assert "SITEURL is 'https://stacks-and-offers.example.org': make publish SITEURL=" in said
    assert "THREADS_REPLY_EMAIL is 'replies@stacks-and-offers.example.org'" in said
    assert "AUTHOR is 'Marisol Okafor': pelicanconf.py: the name your posts" in said
    # Once the address is set, only what is left is named.
    done = run_build(tmp_path / "b", content, "--no-search", siteurl="https://jobs.test")
    assert done.returncode == 0, done.stderr
    assert "SITEURL is" not in done.stdout and "THREADS_REPLY_EMAIL is" in done.stdout


def test_make_github_pushes_nowhere_unless_the_owner_names_the_remote():
    done = subprocess.run(
        ["make", "-s", "github"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "Name the remote to push the site to: make github GITHUB_PAGES_REMOTE=origin" in (
        done.stdout
    )


def test_the_github_pages_workflow_builds_with_the_readmes_command():
    workflow = (ROOT / "docs" / "github-pages-workflow.yml").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make publish   # build the real site into output/" in readme
    assert "\n          make publish\n" in workflow and "SITEURL: ${{ vars.SITEURL }}" in workflow
    # without the variable, the step says which to add instead of Pelican's feed warning
    assert 'if [ -z "$SITEURL" ]' in workflow and "Add the repository variable SITEURL" in workflow
    assert "path: output/" in workflow and "actions/deploy-pages@" in workflow


def test_a_comment_folder_named_after_the_file_and_a_misspelt_category_say_what_to_do(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "posts" / "my-draft-name.md").write_text(
        "Title: Moving on after a long search\nSlug: moving-on\nDate: 2026-07-01 09:00\n"
        "Category: The Serch\n\nA post whose file name is not its slug.\n",
        encoding="utf-8",
    )
    (content / "posts" / "new-category.md").write_text(
        "Title: Notes from the archives\nDate: 2026-07-02 09:00\nCategory: Archives Work\n\n"
        "A category nobody has used yet, on purpose.\n",
        encoding="utf-8",
    )
    folder = content / "comments" / "my-draft-name"
    folder.mkdir()
    (folder / "c1.md").write_text(
        "Author: Reader\nDate: 2026-07-01 10:00\n\nCongratulations!\n", encoding="utf-8"
    )
    site = build(tmp_path / "out", content=content, settings=PELICANCONF)
    messages = "\n".join(site.messages)
    assert (
        "The folder is named after the file my-draft-name.md, but comment folders take the "
        "item's slug: rename it to 'moving-on'." in messages
    )
    assert (
        "posts/my-draft-name.md: category 'The Serch' is not one of the site's categories "
        "(categories.toml); did you mean 'The Search'?" in messages
    )
    assert "Archives Work" not in messages  # nothing like it: a new category on purpose
    assert len(site.messages) == 2
