"""The tests run the project's commands in a process forked from their own
(`run_command` in tests/sitebuild.py). These check that this stands for a new
interpreter: each such command starts on its own, and what a command prints,
warnings included, is what a new process prints."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.sitebuild import ROOT, run_command

# Every command the tests run through run_build / run_tool.
FORKED = ["build.py", "import_content.py", "new_thread.py", "notify.py", "pending.py"]
FORKED += ["tagging.py", "takedown.py"]


@pytest.mark.parametrize("script", FORKED)
def test_each_command_the_tests_fork_starts_in_a_new_interpreter(script):
    """A forked command finds every module the test process imported; started
    anew it must find them itself (its own path setup)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / script), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:"), done.stdout[:500]


def test_a_forked_command_prints_what_a_new_process_prints(tmp_path):
    """Output, errors, warnings (pytest records them in this process) and the
    exit status, the same both ways."""
    script = tmp_path / "speaks.py"
    script.write_text(
        "import os, sys, tempfile, warnings\n"
        "with open(os.environ['WHERE'], 'w') as f: f.write(str('tests.sitebuild' in sys.modules))\n"
        "print('out', sys.argv[1:], os.environ.get('SPEAKS'), os.getcwd())\n"
        "print('temp', tempfile.gettempdir())\n"
        "warnings.warn('a user warning', UserWarning)\n"
        "warnings.warn('deprecated here', DeprecationWarning)\n"
        "import json; json.loads('{}')\n"
        "print('err', '\\udce9', file=sys.stderr)\n"
        "sys.exit(3)\n",
        encoding="utf-8",
    )
    command = [sys.executable, str(script), "one", "two"]
    env = {**os.environ, "SPEAKS": "yes", "TMPDIR": str(tmp_path)}
    forked = run_command(command, {**env, "WHERE": str(tmp_path / "a")}, timeout=60)
    fresh = run_command(command, {**env, "WHERE": str(tmp_path / "b")}, timeout=60, fresh=True)
    # The first ran in a fork of this process, the second in a new interpreter.
    assert [(tmp_path / n).read_text() for n in "ab"] == ["True", "False"]
    assert forked.returncode == fresh.returncode == 3
    assert forked.stdout == fresh.stdout
    assert f"temp {tmp_path}" in fresh.stdout
    assert forked.stderr == fresh.stderr
    assert "UserWarning: a user warning" in fresh.stderr
    assert "DeprecationWarning: deprecated here" in fresh.stderr  # __main__'s are shown
