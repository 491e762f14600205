"""`make new-thread` writes a skeleton that builds without a single warning."""

from __future__ import annotations

import subprocess
import sys

from tests.sitebuild import ROOT, build, copy_content


def test_new_thread_skeleton_builds_cleanly(tmp_path):
    content = copy_content(tmp_path / "content")
    command = [
        sys.executable,
        str(ROOT / "tools" / "new_thread.py"),
        "--title",
        "Do I tell the dean?",
        "--content",
        str(content),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    path = content / "threads" / "do-i-tell-the-dean.md"
    assert done.stdout.strip() == f"Wrote {path}"
    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 1 and "already exists" in again.stderr

    site = build(tmp_path / "out", content=content)
    assert site.messages == []
    soup = site.soup(f"/{path.read_text().split('Date: ')[1][:4]}/do-i-tell-the-dean/")
    assert soup.find("h1").get_text() == "Do I tell the dean?"
    assert soup.select_one("#reply-first #reply-second")
