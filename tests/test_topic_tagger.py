"""The topic tagger and vocabulary loader as plain functions (no Pelican)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pelican.plugins.topics.tagger import (
    _TOKEN_RE,
    Hit,
    Index,
    Phrase,
    TemplateError,
    _cancel,
    _match_at,
    _outermost,
    compile_template,
    find,
    fold,
    score,
    stem,
    tokens,
    words_of,
)
from pelican.plugins.topics.vocabulary import VocabularyError, load

from tests.sitebuild import CONTENT

VOCABULARY = load(CONTENT / "topics.toml")


def hits(templates: list[str], text: str, against: list[str] = ()) -> list[str]:
    index = Index()
    for template in templates:
        index.add(compile_template(template, "t"))
    for template in against:
        index.add(compile_template(template, "t", against=True))
    return [h.text for h in find(index, "body", text) if not h.phrase.against]


def topics_of(title: str, body: str = "") -> list[str]:
    return VOCABULARY.tag({"title": title, "body": body})[0]


def test_case_punctuation_accents_and_inflection_are_normalised():
    assert [s for s, _ in tokens("RÉSUMÉS, Interviewing!")] == ["resum", "interview"]
    assert hits(["interview"], "Interviews, interviewed; INTERVIEWING.") == [
        "interviews",
        "interviewed",
        "interviewing",
    ]


_PIECES = [
    *"abzAZ09k$#.,' \t\n-",
    *"\u2019\u2018\u201c\u201d\u2014\u2013\u00a0\u2026\u00e9\u00df\u00c9\u0435\u4e2d\u00ab\u00bb\u2022\U0001f600",
    *["#money", "didn't", "rock'n'roll", "$52,000", "40k", "r\u00e9sum\u00e9"],
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_words_are_what_the_token_expression_finds(text):
    # words_of splits on the characters between words where it can (in C),
    # and must give what the token expression gives for any text.
    expected = [w.replace("'", "").replace("\u2019", "") for w in _TOKEN_RE.findall(fold(text))]
    assert words_of(text) == expected


def test_template_alternatives_optional_words_and_gaps():
    assert hits(["turned (me|us) down"], "they turned me down, then turned down") == [
        "turned me down",
        "turned down",
    ]
    assert hits(["offer ... position"], "an offer for the open position") == [
        "offer for the open position"
    ]
    assert hits(["offer ... position"], "an offer for a much better paid position") == []
    assert hits(["#money"], "They said $52,000, or 52k, not 52 books") == ["#money", "#money"]


def test_a_phrase_counts_once_where_words_overlap():
    assert hits(["pay", "pay scale"], "the pay scale") == ["pay scale"]
    assert hits(["manager", "managing", "management"], "a manager") == ["manager"]


def _tried(phrases: list[Phrase], text: str) -> list[Hit]:
    """Every variant of every phrase tried at every word (what `find` must
    find, before keeping the outermost and cancelling)."""
    stems = [stem(w) for w in words_of(text)]
    return [
        Hit(phrase, "body", start, end, "", phrase.weight_of(variant))
        for phrase in phrases
        for variant in phrase.variants
        for start in range(len(stems))
        if (end := _match_at(stems, start, variant)) is not None
    ]


def _places(found: list[Hit], templates: bool = False) -> list[tuple]:
    """The hits as (topic, against, start, end, weight), and with `templates`
    the phrase (of two longer ones at one place, as heavy, either may be kept)."""
    return sorted(
        (h.phrase.topic, h.phrase.against, h.start, h.end, h.weight)
        + ((h.phrase.template,) if templates else ())
        for h in found
    )


@pytest.mark.parametrize(
    "templates",
    [
        [("offer", "a"), ("offers ^3", "a"), ("offered", "b"), ("offer ^2", "a")],
        [("offers ^3", "a"), ("offer", "a"), ("offering ^3", "a"), ("offer", "b")],
        [("offer", "a"), ("offering", "a"), ("job offer", "a"), ("offer ^5", "a")],
    ],
)
def test_one_word_phrases_of_one_topic_on_one_word_count_once_the_heaviest(templates):
    # The index files only one of them: the heaviest, the first added if as
    # heavy, as keeping the outermost hit of each place would keep.
    phrases = [compile_template(template, topic) for template, topic in templates]
    index = Index()
    for phrase in phrases:
        index.add(phrase)
    text = "An offer, then the job offer; offers and offering."
    expected = _cancel(_outermost(_tried(phrases, text)))
    assert _places(find(index, "body", text), templates=True) == _places(expected, templates=True)
    assert index.phrases == phrases


@pytest.mark.parametrize(
    ("templates", "text", "order"),
    [
        # A topic's one-word hit inside its longer one is dropped, but it was
        # found first at that word: its topic comes first at the shared place.
        ([("pay rise", "x"), ("pay", "y"), ("pay rise", "y")], "pay rise", ["y", "x"]),
        ([("pay", "a"), ("salary", "b"), ("pay", "b")], "salary pay", ["b", "b", "a"]),
    ],
)
def test_hits_at_one_place_come_in_the_order_their_topics_were_first_found(templates, text, order):
    # The order reaches the evidence's order, and the model adds its features
    # up in that order: the same text must give the same sums.
    index = Index()
    for template, topic in templates:
        index.add(compile_template(template, topic))
    assert [h.phrase.topic for h in find(index, "body", text)] == order
    assert list(score([("body", text, 1.0)], index)) == list(dict.fromkeys(order))


def test_the_index_finds_what_trying_every_phrase_at_every_word_finds():
    # Phrases starting with common words are looked up by a later word, and filed
    # by their neighbours: the index must not lose a match by it.
    templates = [
        "the offer",
        "an offer ^3",
        "the offer letter",
        "not ... move forward",
        "i|we turned down",
        "ask|asked for (a|an) higher|better",
        "offer ... position",
        "my staff",
        "who you know",
        "(the) job|position went to",
        "on the table",
        "of the",
        "is it over",
        "second interview",
        "not|never ... second interview",
        "go in (a|another) (different) direction",
        "pay",
    ]
    text = (
        "I asked for a higher step. The offer letter came; the offer for the open position "
        "did not move forward. We turned down an offer. Is it over? The job went to the other "
        "finalist and I never got a second interview. They did not, sadly, call for a second "
        "interview. It's who you know. Everything on the table, they said, going in another "
        "direction with my staff. Pay. The the the offer offer of the of the."
    )
    phrases = [compile_template(t, str(n)) for n, t in enumerate(templates)]
    index = Index()
    for phrase in phrases:
        index.add(phrase)
    stems = [stem(w) for w in words_of(text)]
    expected = set()
    for phrase in phrases:
        for variant in phrase.variants:
            for start in range(len(stems)):
                end = _match_at(stems, start, variant)
                if end is not None:
                    expected.add((phrase.template, start, end))
    found = {(h.phrase.template, h.start, h.end) for h in find(index, "body", text)}
    # find keeps only the outermost hit of each place per topic: every phrase is its own topic.
    assert found and found <= expected
    for template, start, end in expected - found:
        assert any(t == template and s <= start and end <= e for t, s, e in found)


_PHRASES = VOCABULARY.index.phrases
# Every word the site's vocabulary is made of, with a few common words and others.
_WORDS = sorted(
    {
        word.strip("()")
        for phrase in _PHRASES
        for part in phrase.template.split(" ^")[0].split()
        for word in part.strip("()").split("|")
        if part != "..." and word != "#money"
    }
    | {"the", "a", "of", "my", "not", "$52,000", "zebra", "interviews", "negotiated"}
)


@st.composite
def _said(draw) -> list[str]:
    """The words of one of the vocabulary's phrases as a writer might put them:
    one of each `a|b`, an optional word or not, a gap of up to four words."""
    said = []
    for part in draw(st.sampled_from(_PHRASES)).template.split(" ^")[0].split():
        if part == "...":
            said += draw(st.lists(st.sampled_from(_WORDS), max_size=4))
        elif not (part.startswith("(") and draw(st.booleans())):
            word = draw(st.sampled_from(part.strip("()").split("|")))
            said.append("$40k" if word == "#money" else word)
    return said


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_said(), st.lists(st.sampled_from(_WORDS), max_size=3)), max_size=12))
def test_the_site_vocabulary_finds_what_trying_every_phrase_at_every_word_finds(pieces):
    # `find` looks only where a phrase can start (a one-word or gapped variant's
    # word, or a pair a longer one is filed under): it must find what trying
    # every variant of every phrase at every word finds, then keeping the
    # outermost and cancelling, as `find` does.
    text = " ".join(word for piece in pieces for word in piece)
    tried = _cancel(_outermost(_tried(_PHRASES, text)))
    assert _places(find(VOCABULARY.index, "body", text)) == _places(tried)


def test_against_cues_cancel_what_they_overlap_only():
    found = hits(["offer"], "she offered to help; the offer came", against=["offered to help"])
    assert found == ["offer"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "the phrase is empty"),
        ("(only) (optional)", "every word in the phrase is optional"),
        ("(the) offer", "only one of its words is required"),
        ("salary ^high", "is not a number"),
        ("cover-letter", "is not one word"),
    ],
)
def test_bad_templates_are_refused(template, message):
    with pytest.raises(TemplateError, match=message):
        compile_template(template, "t")


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "An interview with the author of our mystery pick",
            "The novelist gave a lovely interview.",
            [],
        ),
        (
            "Our director offered to help with the book sale",
            "She offered to help sort donations.",
            [],
        ),
        (
            "The new library director starts Monday",
            "The director will lead strategic planning.",
            [],
        ),
        ("Toddler storytime this week", "Songs, a felt board, bubbles and two picture books.", []),
        (
            "I got the job offer!",
            "The offer letter arrived and I accepted the position.",
            ["offers"],
        ),
        (
            "Negotiating my salary",
            "I asked for a higher step on the pay scale.",
            ["negotiation", "salary"],
        ),
        ("Turned down again", "Another rejection email this morning.", ["rejection"]),
    ],
)
def test_common_traps_and_plain_cases(title, body, expected):
    assert sorted(topics_of(title, body)) == sorted(expected)


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        # Rejection rarely says "rejected".
        (
            "well, that's that",
            "The second interview never came. Today HR wrote that they have decided to go in "
            "another direction and wished me luck.",
            ["rejection"],
        ),
        (
            "Update on the archives job",
            "Got a form email this morning thanking me for my interest. They chose the other "
            "finalist. I'm trying not to take it personally.",
            ["rejection"],
        ),
        # Negotiation is leverage, bargaining, pushing back on the number.
        (
            "Would telling her hurt me?",
            "If I admit I have no other option, does that weaken my bargaining position? "
            "I'd like to keep some leverage when we talk pay.",
            ["negotiation"],
        ),
        (
            "They came in low",
            "How do I push back on the number without sounding ungrateful? I was hoping they "
            "would meet me halfway.",
            ["negotiation"],
        ),
        # A move told as a story, without the word "relocate".
        (
            "A year in a town of three thousand",
            "We packed a U-Haul and drove nineteen hours so my partner could take a job in a "
            "new state. Here is what a small town is like for the new librarian.",
            ["relocation"],
        ),
        # Direction: the asker turning an offer down is no rejection.
        (
            "I said no to them and feel weird",
            "They made me an offer on Friday and I turned it down this morning: the commute was "
            "too long. I emailed the director to decline the offer.",
            ["offers"],
        ),
    ],
)
def test_indirect_phrasing_and_direction(title, body, expected):
    assert sorted(topics_of(title, body)) == sorted(expected)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        # A mention is not aboutness: a degree named in a bio, a job ad's trap words.
        (
            "About me",
            "I'm a reference librarian in Ohio. I got my MLIS in 2015 and I write here about "
            "knitting, cataloguing and mystery novels.",
        ),
        (
            "Job ad: Reference Librarian",
            "The county seeks a Reference Librarian. Required qualifications: MLS from an "
            "accredited program. Salary $54,000 to $61,000 plus benefits. To apply, submit a "
            "cover letter and resume through the online portal. Equal opportunity employer.",
        ),
        (
            "Please welcome our new teen librarian",
            "Please join us in welcoming Dana, who earned her MLIS last spring and is excited to "
            "offer new gaming clubs. The board rejected a proposal to cut Sunday hours.",
        ),
    ],
)
def test_mentions_and_decoys_get_no_topic(title, body):
    assert topics_of(title, body) == []


def test_one_weak_cue_is_a_mention_two_distinct_cues_or_one_strong_one_a_subject():
    weak = VOCABULARY.tag({"title": "Saturday", "body": "I was so nervous at the desk."})
    assert weak[0] == [] and not weak[1]["wellbeing"].strong
    two = VOCABULARY.tag(
        {"title": "Saturday", "body": "I was so nervous at the desk, and I cried in the car."}
    )
    assert two[0] == ["wellbeing"] and two[1]["wellbeing"].templates >= {"nervous ^1.5"}
    strong = VOCABULARY.tag({"title": "Saturday", "body": "Honestly, I think it is burnout."})
    assert strong[0] == ["wellbeing"]


def test_the_opening_counts_more_than_the_same_words_later():
    filler = "We talked about the weather and the new carpet in the lobby. " * 8
    early = VOCABULARY.tag({"title": "A note", "body": "They rescinded it. " + filler})
    late = VOCABULARY.tag({"title": "A note", "body": filler + "They rescinded it."})
    assert early[1]["offers"].score == pytest.approx(late[1]["offers"].score * 1.5)


def test_a_passing_mention_weighs_less_in_a_long_text():
    short = VOCABULARY.tag({"title": "x", "body": "A word about the cover letter. " * 3})
    filler = " ".join(["the shelves were dusty"] * 400)  # 1,600 words
    long = VOCABULARY.tag({"title": "x", "body": filler + " A word about the cover letter."})
    assert long[1]["applications"].score < short[1]["applications"].score / 2
    assert long[0] == []


def test_the_question_counts_more_than_the_replies_and_replies_still_count():
    question_only = VOCABULARY.tag({"title": "Thoughts?", "body": "The number seems low."})
    assert question_only[0] == []
    with_replies = VOCABULARY.tag(
        {
            "title": "Thoughts?",
            "body": "The number seems low.",
            "replies": "Yes, negotiate the salary. Ask for a higher step. Counter the offer.",
        }
    )
    assert "negotiation" in with_replies[0]
    assert with_replies[1]["negotiation"].hits[-1]["field"] == "replies"


def test_replies_alone_add_at_most_their_cap():
    many = " ".join(["negotiate", "counter offer", "bargaining", "leverage"] * 50)
    evidence = VOCABULARY.tag({"title": "x", "replies": many})[1]
    assert evidence["negotiation"].score == VOCABULARY.caps["replies"]


def test_tagging_a_huge_text_reads_each_token_once():
    text = "I asked for a higher step and negotiated the offer. " * 20000  # ~200,000 words
    chosen, evidence = VOCABULARY.tag({"title": "Long", "body": text})
    assert "negotiation" in chosen and evidence["negotiation"].hit_count >= 40000
    assert len(evidence["negotiation"].hits) == 20  # the evidence kept is bounded


def write(tmp_path, text: str):
    path = tmp_path / "topics.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = '[[topics]]\nslug = "a"\nname = "A"\ndescription = "d"\nphrases = ["x"]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[topics]\n", "not valid TOML"),
        ("", "no topics"),
        (GOOD + "colour = 1\n", "topic 'a': unknown key 'colour'"),
        (GOOD.replace('name = "A"\n', ""), "topic 'a' needs name"),
        (GOOD + GOOD, "topic 'a' is defined twice"),
        (GOOD.replace('["x"]', '["(the) x"]'), ":5: topic 'a': phrase '(the) x': only one"),
        ("[tagger]\nspeed = 3\n" + GOOD, ":2: unknown [tagger] key 'speed'"),
        ("[tagger]\nthreshold = -1\n" + GOOD, "threshold = -1: use a number >= 0"),
    ],
)
def test_vocabulary_mistakes_name_the_file_and_the_fix(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(VocabularyError) as caught:
        load(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_default_vocabulary_has_the_topics_the_design_names():
    assert set(VOCABULARY.topics) == {
        "rejection",
        "interviews",
        "negotiation",
        "offers",
        "applications",
        "networking",
        "career-change",
        "management",
        "relocation",
        "wellbeing",
        "education",
        "salary",
    }
    assert VOCABULARY.lookup("Career change") == "career-change"
    assert VOCABULARY.lookup("SALARY") == "salary"


@settings(max_examples=300, deadline=None)
@given(
    spans=st.lists(
        st.tuples(
            st.sampled_from(["offers", "salary"]),
            st.booleans(),
            st.integers(0, 60),
            st.integers(1, 12),
        ),
        max_size=40,
    )
)
def test_a_hit_is_cancelled_exactly_when_it_overlaps_an_against_cue_of_its_topic(spans):
    """`_cancel` (a binary search per hit) against the definition, pair by pair."""
    phrases = {
        (topic, against): Phrase(f"{topic}-{against}", topic, 1.0, against, ())
        for topic in ("offers", "salary")
        for against in (False, True)
    }
    hits = [
        Hit(phrases[(topic, against)], "body", start, start + length, "x", 1.0)
        for topic, against, start, length in spans
    ]
    expected = [
        h
        for h in hits
        if h.phrase.against
        or not any(
            c.phrase.against
            and c.phrase.topic == h.phrase.topic
            and c.start < h.end
            and h.start < c.end
            for c in hits
        )
    ]
    assert _cancel(hits) == expected
