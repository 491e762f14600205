"""`make new-thread` writes a skeleton that builds without a single warning."""

from __future__ import annotations

from tests.sitebuild import build, copy_content, run_tool


def test_new_thread_skeleton_builds_cleanly(tmp_path):
    content = copy_content(tmp_path / "content")
    command = ["--title", "Do I tell the dean?", "--content", content]
    done = run_tool("new_thread.py", *command)
    assert done.returncode == 0, done.stderr
    path = content / "threads" / "do-i-tell-the-dean.md"
    assert done.stdout.strip() == f"Wrote {path}"
    again = run_tool("new_thread.py", *command)
    assert again.returncode == 1 and "already exists" in again.stderr

    site = build(tmp_path / "out", content=content)
    assert site.messages == []
    soup = site.soup(f"/{path.read_text().split('Date: ')[1][:4]}/do-i-tell-the-dean/")
    assert soup.find("h1").get_text() == "Do I tell the dean?"
    assert soup.select_one("#reply-first #reply-second")
