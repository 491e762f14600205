"""Pelican's repeated work done once (plugins/speedups): same pages, same answers."""

from __future__ import annotations

import copy
import pickle

from speedups.plugin import Members

from tests.sitebuild import SITEURL, build_local, copy_content


class Item:
    """Like Pelican's contents: no `==` of its own, so equal means the same object."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_members_answers_in_as_a_list_of_the_same_objects_would():
    a, b, stranger = Item("a"), Item("b"), Item("a")
    members = Members([a, b])
    assert a in members and b in members
    assert stranger not in members and None not in members
    assert list(members) == [a, b] and len(members) == 2


def test_members_finds_an_item_added_after_a_first_lookup():
    a, late = Item("a"), Item("late")
    members = Members([a])
    assert late not in members
    members.append(late)
    assert late in members
    members.remove(a)
    assert a not in members


def test_members_copies_and_pickles_as_a_plain_list():
    a = Item("a")
    members = Members([a])
    assert a in members  # the lookup set exists now
    for other in (copy.copy(members), pickle.loads(pickle.dumps(members))):
        assert type(other) is list and len(other) == 1


def test_an_authors_own_url_is_kept_and_every_other_url_is_pelicans(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "posts" / "moved-here.md").write_text(
        "Title: A post with an address of its own\nDate: 2026-10-02\n"
        "Category: The Search\nTags: moving\n"
        "URL: elsewhere/moved-here/\nSave_as: elsewhere/moved-here/index.html\n\n"
        "This post lives where its author put it.\n",
        encoding="utf-8",
    )
    site = build_local(tmp_path / "out", content=content)
    assert site.path("/elsewhere/moved-here/").is_file()
    tag_page = site.soup("/tag/moving/")
    assert f"{SITEURL}/elsewhere/moved-here/" in [a["href"] for a in tag_page.select("main a")]
    # Every other item is listed at the address Pelican's own settings give it.
    home = site.soup("/")
    for a in home.select("h2.item-title a"):
        assert site.path(a["href"]).is_file(), a["href"]
