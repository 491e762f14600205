"""The topic tagger's learned layer (pelican/plugins/topics/model.py) as plain functions."""

from __future__ import annotations

import json

import pytest
from pelican.plugins.topics.model import Model, fingerprint, from_json, train, word_features
from pelican.plugins.topics.tagger import stem, words_of
from pelican.plugins.topics.vocabulary import VocabularyError, _without_model_table, load

from tests.sitebuild import CONTENT

VOCAB = """\
[tagger]
threshold = 3.0
relative = 0.5
min_distinct = 1
strong = 0

[[topics]]
slug = "offers"
name = "Offers"
description = "d"
phrases = ["job offer ^4"]

[[topics]]
slug = "salary"
name = "Salary"
description = "d"
phrases = ["salary ^4"]
"""


def stems_of(**fields: str) -> dict[str, list[str]]:
    return {name: list(map(stem, words_of(text))) for name, text in fields.items()}


def write_model(folder, weights: dict[str, dict[str, float]], bias: float = -4.0, **extra):
    data = {
        "topics": {t: {"bias": bias, "weights": w} for t, w in weights.items()},
        **extra,
    }
    (folder / "model.json").write_text(json.dumps(data), encoding="utf-8")
    path = folder / "topics.toml"
    path.write_text(VOCAB + '\n[model]\nfile = "model.json"\n', encoding="utf-8")
    return path


def test_training_learns_the_words_that_go_with_a_topic():
    examples = []
    for n in range(30):
        text = f"note {n} about the hiring committee and the search"
        if n % 2:
            text += " they pushed back on the number"
        features = word_features(stems_of(title="a post", body=text))
        examples.append((features, {"negotiation"} if n % 2 else set()))
    bias, weights = train(examples, ["negotiation"], l2=1.0)  # a small set: a light penalty
    model = Model(["negotiation"], bias, weights)
    yes = model.probabilities(model.features(stems_of(body="we pushed back on the number")))
    no = model.probabilities(model.features(stems_of(body="the hiring committee met")))
    assert yes["negotiation"] > 0.8 > 0.2 > no["negotiation"]
    # The words that argued for it are the ones that separate the two kinds of text.
    pushed = word_features(stems_of(body="pushed back on the number"))
    reasons = [k for k, _ in model.reasons("negotiation", pushed)]
    assert reasons and all("push" in k or "back" in k or "number" in k for k in reasons[:3])


def test_a_word_seen_in_one_text_only_is_no_evidence():
    examples = [(word_features(stems_of(body=f"plain text {n}")), set()) for n in range(10)]
    examples.append((word_features(stems_of(body="plain text zorblat")), {"offers"}))
    _bias, weights = train(examples, ["offers"])
    assert "w:zorblat" not in weights["offers"]


def test_tagging_finds_the_same_features_and_probabilities_as_training():
    text = stems_of(
        title="Pushed back on the offer",
        body="They offered a salary of $52,000 and I pushed back on the number. " * 3,
        replies="Good for you. Ask about the relocation money too.",
    )
    every = word_features(text)
    assert every["w:reloc"] == 1.0  # a thread's replies read as the rest of its question
    assert every["t:offer"] == 1.0 and every["b:push back"] == 1.0
    weights = {
        "a": {k: 0.1 * n for n, k in enumerate(sorted(every)) if n % 2},
        "b": {"rule:offers": 0.7, "chosen:offers": -0.4, "b:push back": 1.5, "t:push": 0.25},
    }
    model = Model(["a", "b"], {"a": -1.0, "b": 0.5}, weights)
    assert model.features(text) == {
        k: v for k, v in every.items() if k in weights["a"] or k in weights["b"]
    }
    rules = {"rule:offers": 1.6, "chosen:offers": 1.0, "rule:salary": 0.9}
    fast = model.tag_probabilities(rules, text)
    slow = model.probabilities({**rules, **every})
    assert fast.keys() == slow.keys() and all(abs(fast[t] - slow[t]) < 1e-9 for t in fast)


def test_only_the_opening_of_a_long_text_gives_features():
    long = stems_of(body="filler words here " * 200 + "zorblat")
    assert "w:zorblat" not in word_features(long)
    assert "w:zorblat" in word_features(stems_of(body="filler words here zorblat"))


def test_the_rules_keep_the_first_word():
    model = Model(["a", "b", "c", "d", "e"], {}, {}, add=0.9, drop=0.05, most=3)
    final, added, dropped = model.decide(
        ["a", "b"], {"a": 0.5, "b": 0.01, "c": 0.95, "d": 0.99, "e": 0.89}
    )
    # b is dropped (very unlikely); d and c are added (likely), most likely first;
    # e is not (below `add`); a, which the rules chose, stays at 0.5.
    assert dropped == ["b"] and added == ["d", "c"] and final == ["a", "d", "c"]
    final, added, _ = model.decide(["a", "b"], {"a": 0.5, "b": 0.5, "c": 0.95, "d": 0.99})
    assert final == ["a", "b", "d"] and added == ["d"]  # never more than `most`


def test_a_topic_the_model_adds_shows_the_words_that_weighed_most(tmp_path):
    path = write_model(
        tmp_path,
        {"salary": {"w:paycheck": 3.0, "b:rent is": 2.5, "w:the": 9.0}, "offers": {}},
        bias=-2.0,
    )
    vocabulary = load(path)
    chosen, evidence = vocabulary.tag(
        {"title": "Rent day", "body": "My Paychecks barely cover it; rent is half of each one."}
    )
    assert chosen == ["salary"]
    assert evidence["salary"].probability > 0.9
    shown = evidence["salary"].hits
    assert [h["text"] for h in shown] == ["paychecks", "rent is"]  # as written, folded
    assert all(h["field"] == "model" for h in shown)


def test_a_topic_the_model_finds_very_unlikely_is_dropped(tmp_path):
    path = write_model(tmp_path, {"offers": {"w:vendor": -12.0}}, bias=2.0)
    vocabulary = load(path)
    assert vocabulary.tag({"title": "", "body": "A job offer came this week"})[0] == ["offers"]
    vendor = "The vendor made a job offer of a discount"
    assert vocabulary.tag({"title": "", "body": vendor})[0] == []


def test_model_mistakes_name_the_file_and_the_fix(tmp_path):
    path = tmp_path / "topics.toml"
    path.write_text(VOCAB + '\n[model]\nfile = "missing.json"\n', encoding="utf-8")
    with pytest.raises(VocabularyError) as caught:
        load(path)
    assert "missing.json" in str(caught.value) and "make topics-train" in str(caught.value)
    path = write_model(tmp_path, {"parking": {"w:car": 1.0}})
    with pytest.raises(VocabularyError) as caught:
        load(path)
    assert "parking" in str(caught.value) and "retrain" in str(caught.value)
    (tmp_path / "model.json").write_text('{"topics": {"offers": {"bias": "high"}}}')
    with pytest.raises(VocabularyError) as caught:
        load(path)
    assert "model.json" in str(caught.value) and "not a topic model" in str(caught.value)


def test_a_model_trained_with_another_vocabulary_is_known_as_stale(tmp_path):
    path = write_model(tmp_path, {"offers": {}}, vocabulary=fingerprint(VOCAB))
    assert not load(path).model_stale
    path.write_text(path.read_text().replace("salary ^4", "salary ^3"), encoding="utf-8")
    assert load(path).model_stale


def test_the_shipped_model_was_trained_with_the_shipped_vocabulary():
    vocabulary = load(CONTENT / "topics.toml")
    assert vocabulary.model is not None, "content/topics.toml names no [model]"
    assert not vocabulary.model_stale, "retrain it: make topics-train"
    text = (CONTENT / "topics.toml").read_text(encoding="utf-8")
    assert vocabulary.model.vocabulary == fingerprint(_without_model_table(text))


def test_a_model_survives_its_file():
    model = Model(["a"], {"a": -1.5}, {"a": {"w:offer": 2.0, "b:push back": 1.25}}, add=0.8)
    again = from_json(json.loads(json.dumps(model.to_json())))
    assert again.weights == model.weights and again.bias == model.bias and again.add == 0.8


def test_the_phrases_that_fired_are_features_with_where_they_fired(tmp_path):
    (tmp_path / "topics.toml").write_text(VOCAB, encoding="utf-8")
    vocabulary = load(tmp_path / "topics.toml")
    texts = {"title": "A job offer at last", "body": "word " * 60 + "the salary is fine"}
    _chosen, evidence = vocabulary.tag(texts)
    features = vocabulary.phrase_features(evidence, None)
    assert features["p:offers:job offer ^4"] == 1.0 and features["rt:offers"] == 1.0
    assert features["p:salary:salary ^4"] == 1.0 and "rt:salary" not in features
    assert "rl:salary" not in features  # past the opening of the body
    _chosen, evidence = vocabulary.tag({"title": "", "body": "Our salary talk went well"})
    assert vocabulary.phrase_features(evidence, None)["rl:salary"] == 1.0


def test_texts_about_a_topic_can_count_more_in_training():
    # Three texts in ten are about it and "bonus" is only a weak sign of it:
    # counting them three times raises what the model says of a new one.
    examples = []
    for n in range(10):
        about = n < 3
        body = f"text {n} with a bonus" if about or n < 6 else f"text {n}"
        examples.append((word_features(stems_of(body=body)), {"offers"} if about else set()))
    plain = Model(["offers"], *train(examples, ["offers"], l2=4.0))
    weighted = Model(["offers"], *train(examples, ["offers"], l2=4.0, positive=3.0))
    features = word_features(stems_of(body="a bonus"))
    assert weighted.probabilities(features)["offers"] > plain.probabilities(features)["offers"]


def test_a_phrase_of_another_topic_that_argued_for_an_added_one_is_shown(tmp_path):
    fired = "p:offers:job offer ^4"
    path = write_model(tmp_path, {"salary": {fired: 6.0}, "offers": {fired: 8.0}})
    vocabulary = load(path)
    chosen, evidence = vocabulary.tag({"title": "", "body": "A Job Offers list came"})
    assert chosen == ["offers", "salary"]
    shown = evidence["salary"].hits
    assert [h["text"] for h in shown] == ["job offers"] and shown[0]["field"] == "model"
