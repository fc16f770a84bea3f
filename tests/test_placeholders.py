"""Placeholder spellings found on prompt sites all become the template syntax ``{name}``."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from curator.placeholders import find_placeholders, normalise_placeholders, placeholder_name


@pytest.mark.parametrize("raw, expected", [
    ("Rewrite [insert text] in a formal tone.", "Rewrite {text} in a formal tone."),
    ("Rewrite [insert text here]", "Rewrite {text}"),
    ("Make [TEXT] sound [TONE].", "Make {text} sound {tone}."),
    ("Write an essay about <topic>.", "Write an essay about {topic}."),
    ("Rewrite this in a {{tone}} voice", "Rewrite this in a {tone} voice"),
    ("Rewrite this in a {{ Tone }} voice", "Rewrite this in a {tone} voice"),
    ("Explain it to {Target Audience}", "Explain it to {target_audience}"),
    ("Write for [your target audience]", "Write for {target_audience}"),
    ("Summarise [paste your text here]", "Summarise {text}"),
    ("Summarise (paste your text here)", "Summarise {text}"),
    ("Rewrite <your text here> in [desired tone]", "Rewrite {text} in {tone}"),
    ("Write an email to [recipient-name] about [SUBJECT LINE]",
     "Write an email to {recipient_name} about {subject_line}"),
    ("Translate [insert] into French", "Translate {text} into French"),
    ('Rewrite "[text]" as a poem', 'Rewrite "{text}" as a poem'),
    ("Already {text} in a {tone} tone", "Already {text} in a {tone} tone"),
])
def test_spellings_become_snake_case_braces(raw, expected):
    assert normalise_placeholders(raw) == expected


@pytest.mark.parametrize("text", [
    "See [the docs](https://example.com) for more.",      # markdown link
    "As shown in [1] and [23].",                            # citations
    "Use <br> and <p> tags.",                               # HTML tags
    'Return JSON like {"tone": "formal"}.',                 # JSON object
    "He said it was [sic] wrong.",                          # editorial mark
    "[Note: this prompt works best when you give the model a long text first]",  # aside
    "- [x] done",                                           # checkbox
    "Plain prompt without any slots.",
    "Escaped {{{{literal}}}} braces",
])
def test_non_slots_are_left_alone(text):
    assert normalise_placeholders(text) == text


def test_placeholder_name_strips_fillers_and_rejects_prose():
    assert placeholder_name("insert text here") == "text"
    assert placeholder_name("Your Specific Topic") == "topic"
    assert placeholder_name("number of words") == "number_of_words"
    assert placeholder_name("this is far too long to be a slot name") is None
    assert placeholder_name("don't") is None


def test_find_placeholders_in_order_without_repeats():
    assert find_placeholders("Rewrite [TEXT] as <tone>, then [text] again for {{audience}}") == [
        "text", "tone", "audience"]
    assert find_placeholders("no slots") == []


@given(st.text(alphabet=st.sampled_from(list("ab []<>{}()_-xT insert here")), max_size=40))
def test_idempotent(text):
    once = normalise_placeholders(text)
    assert normalise_placeholders(once) == once
