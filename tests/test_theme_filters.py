"""The theme's Python filters (pelicanconf.JINJA_FILTERS), without Pelican."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil.tz import tzlocal

import pelicanconf

CONTEXT = {"DEFAULT_DATE_FORMAT": "%-d %B %Y, %H:%M"}


def test_time_tag_shows_the_same_instant_as_each_zone_reads_it():
    utc = datetime(2026, 3, 4, 18, 20, tzinfo=UTC)
    chicago = utc.astimezone(ZoneInfo("America/Chicago"))
    assert utc == chicago  # equal datetimes: a cache keyed on them alone would mix them up
    first = pelicanconf.time_tag(CONTEXT, utc)
    second = pelicanconf.time_tag(CONTEXT, chicago)
    assert first == '<time datetime="2026-03-04T18:20:00+00:00">4 March 2026, 18:20</time>'
    assert second == '<time datetime="2026-03-04T12:20:00-06:00">4 March 2026, 12:20</time>'


def test_time_tag_takes_a_format_and_zones_that_cannot_be_hashed():
    when = datetime(2026, 1, 2, 9, 5, tzinfo=tzlocal())  # dateutil's local zone has no hash
    assert pelicanconf.time_tag(CONTEXT, when, "%Y").endswith(">2026</time>")


def test_time_tag_escapes_what_a_format_writes():
    """A format is the owner's (THREADS_DATE_FORMAT, a template's argument):
    what it writes is text in the page, never markup."""
    when = datetime(2026, 1, 2, 9, 5, tzinfo=UTC)
    tag = pelicanconf.time_tag(CONTEXT, when, '<b>%Y</b> & "%d"')
    assert tag == (
        '<time datetime="2026-01-02T09:05:00+00:00">'
        "&lt;b&gt;2026&lt;/b&gt; &amp; &#34;02&#34;</time>"
    )


def test_rendered_once_renders_each_item_once_per_name():
    class Item:
        pass

    calls = []

    def macro(item):
        calls.append(item)
        return f"<b>{len(calls)}</b>"

    one, two = Item(), Item()
    assert pelicanconf.rendered_once(one, "status", macro) == "<b>1</b>"
    assert pelicanconf.rendered_once(one, "status", macro) == "<b>1</b>"
    assert pelicanconf.rendered_once(two, "status", macro) == "<b>2</b>"
    assert pelicanconf.rendered_once(one, "other", macro) == "<b>3</b>"
    assert calls == [one, two, one]
