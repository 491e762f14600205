"""Tidy `.site-versions/` after a build, in a process of its own.

`tools/build.py` starts it once the new version is swapped in, and does not
wait for it: `python tools/tidy_versions.py VERSIONS CURRENT`. It imports
nothing of the project (it runs beside the next build, if one starts).

It does two things:

* **Leaves a scaffold for the next build** (`.scaffold/`): the folders of a
  version that hold its pages and feeds, without their files. Making a folder
  costs about 0.3 ms on an ext4 disk, against 0.01 ms for the hard link that
  brings an unchanged page in, and a site of 5,000 items has 9,800 folders: a
  build that starts from a scaffold (one `rename()`) makes almost none. The
  scaffold is an old version on its way out, its files removed, and its
  folders that hold no page (the search index's, the theme's, static files')
  too; with none on its way out (the first builds), the current version's page
  folders made anew here, off the build's time. It lists its own folders in
  `.scaffold-folders`, so the build that takes it can remove those it did not
  use: the site is then exactly what a clean build gives, folder for folder. A
  page written where the scaffold has a folder (a folder of an old version is
  a file now) takes its place, if nothing was written in it
  (`stacks_offers/reuse.py`, `clear_empty_folder`).
* **Removes the other old versions** (`.trash/`; `build.py` moved them there).

Two of these processes may run at once (two builds close together): each makes
its scaffold under a name of its own and renames it into place; the second to
finish finds one there and removes its own.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

SCAFFOLD = ".scaffold"
LISTING = ".scaffold-folders"  # in the scaffold: its folders, relative
MAKING = ".scaffold-making-"  # + the pid: a scaffold being made
TRASH = ".trash"
BUNDLE = "pagefind"  # the search index's folder: Pagefind writes its own


PAGES = (".html", ".xml")  # what Pelican's writer writes: pages and feeds


def page_folders(site: str, strip: bool = False) -> list[str]:
    """The folders of `site` (relative) that hold a page or a feed, or a folder
    that does: not the search index's, not those of static files and the
    theme's (a file a later build copies there might take a folder's name).
    With `strip` (an old version made a scaffold), every file and every other
    folder is removed in the same pass, the deepest first."""
    holding: set[str] = set()
    for root, dirs, files in os.walk(site, topdown=False):
        relative = os.path.relpath(root, site)
        holds = any(name.endswith(PAGES) for name in files)
        for name in dirs:
            if os.path.normpath(os.path.join(relative, name)) in holding:
                holds = True
            elif strip:  # emptied already: its own turn came first
                path = os.path.join(root, name)
                (os.unlink if os.path.islink(path) else os.rmdir)(path)
        if strip:
            for name in files:
                os.unlink(os.path.join(root, name))
        if holds and relative not in (".", BUNDLE):
            holding.add(relative)
    return sorted(holding, key=lambda f: (f.count(os.sep), f))


def mirror(source: str, target: str) -> list[str]:
    """Make in `target` the page folders of `source`; them, relative."""
    os.mkdir(target)
    folders = page_folders(source)
    for folder in folders:  # parents first
        os.mkdir(os.path.join(target, folder))
    return folders


def tidy(versions: str, current: str) -> None:
    trash = os.path.join(versions, TRASH)
    old = sorted(os.listdir(trash)) if os.path.isdir(trash) else []
    scaffold = os.path.join(versions, SCAFFOLD)
    if not os.path.exists(scaffold):
        making = os.path.join(versions, f"{MAKING}{os.getpid()}")
        try:
            if old:
                os.rename(os.path.join(trash, old.pop(0)), making)
                folders = page_folders(making, strip=True)
            else:
                folders = mirror(current, making)
            with open(os.path.join(making, LISTING), "w", encoding="utf-8") as listing:
                json.dump(folders, listing)
            os.rename(making, scaffold)  # fails if another process made one meanwhile
        except OSError:
            shutil.rmtree(making, ignore_errors=True)
    for name in old:
        shutil.rmtree(os.path.join(trash, name), ignore_errors=True)


if __name__ == "__main__":
    tidy(sys.argv[1], sys.argv[2])
