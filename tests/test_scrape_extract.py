"""Extraction on pages that reproduce the real sites' structures, asserted exactly, and on real HTML."""

from __future__ import annotations

import time

import pytest

from curator.scrape.extract import clean_prompt, extract_prompts, looks_instructional
from curator.scrape.fetch import decode_body
from sites.server import page

# page → [(heading, prompt)] in page order: every expected prompt found (recall) and nothing else (precision)
EXPECTED = {
    "aihabit_rewriting.html": [
        ("Prompts for changing the tone", "Rewrite the following text in a more formal tone: {text}"),
        ("Prompts for changing the tone", "Make this paragraph sound friendlier and more casual: {text}"),
        ("Prompts for changing the tone", "Rephrase the text below so it sounds confident but not arrogant."),
        ("Prompts for changing the tone", "Rewrite this product description to be more persuasive."),
        ("Prompts for changing the length", "Shorten this paragraph to under 50 words without losing the key points."),
        ("Prompts for changing the length",
         "Expand the following text into a detailed paragraph of about 150 words: {text}"),
        ("Prompts for changing the length", "Summarize this article in three sentences."),
        ("Prompts for a different audience", "Rewrite this text so a 10-year-old can understand it."),
        ("Prompts for a different audience", "Explain the text below to {target_audience} in plain language."),
        ("Prompts for a different audience", "Adapt this email for a {audience} who has never heard of our product."),
    ],
    "learnprompt_styles.html": [
        ("Formal", "Rewrite the following paragraph in a formal writing style: {text}"),
        ("Conversational", "Rewrite this text in a conversational style, as if you were talking to a friend."),
        ("Descriptive", "Rewrite the passage below using vivid, descriptive language that appeals to the five senses."),
        ("Persuasive", "Turn this paragraph into a persuasive argument for {topic}."),
        ("Narrative", "Rewrite the text as a short story told in the first person."),
        ("Expository", "Rewrite this content as an expository article with clear headings."),
    ],
    "devto_developers.html": [
        ("Code generation", "Write a Python function that {describe_the_function} and add type hints."),
        ("Code generation", "Generate unit tests for the following code using pytest: {code}"),
        ("Code generation", "Convert this JavaScript code to TypeScript."),
        ("Code review", "Review this code and point out bugs, security issues and bad practices."),
        ("Code review", "Explain what this regular expression does, step by step: ^\\d{3}-\\d{4}$"),
        ("Documentation", "Write a clear pull request description for the following diff, with a summary and a "
                          "list of changes: {diff}"),
        ("Documentation", "Rewrite this README section so it is easier for beginners to follow."),
        ("Documentation", "Add docstrings to every function in this module."),
    ],
    "linkedin_pulse.html": [
        ("Cut the fluff", "Remove every unnecessary word from this text without changing its meaning."),
        ("Hook the reader", "Rewrite the first sentence of this post so it makes people stop scrolling."),
        ("Sound like me", "Rewrite this text in my voice. Here are three examples of my writing: {examples}"),
        ("Make it skimmable", "Break this text into short paragraphs with bold subheadings."),
        ("Change the reading level", "Rewrite this at an 8th-grade reading level."),
    ],
    "aihabit_editing.html": [
        ("Proofreading", "Proofread this text and correct all spelling, grammar and punctuation mistakes: {text}"),
        ("Clarity", "Edit this paragraph for clarity and remove any jargon."),
        ("Consistency", "Check the following text for inconsistent tense and fix it."),
        ("Word choice", "Replace weak verbs in this text with stronger ones."),
        ("Word choice", "Suggest better synonyms for overused words in the paragraph below."),
    ],
    "aihabit_emails.html": [
        ("Follow-up emails", "Write a polite follow-up email to {name} about {subject}, who has not replied in a week."),
        ("Follow-up emails", "Rewrite this email so it sounds more polite and less demanding: {email}"),
        ("Cold emails", "Write a short cold email introducing {product} to a busy marketing manager."),
        ("Replies", "Reply to this customer complaint in an empathetic, professional tone: {complaint}"),
    ],
    "aihabit_category_1.html": [],
    "aihabit_category_2.html": [],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_site_structures_exact(name):
    got = extract_prompts(page(name).decode("utf-8"))
    found = [(p.heading, p.normalised) for p in got.prompts]  # ground truth is written in the slot form
    expected = EXPECTED[name]
    true_pos = [f for f in found if f in expected]
    precision = len(true_pos) / len(found) if found else 1.0
    recall = len(true_pos) / len(expected) if expected else 1.0
    assert (precision, recall) == (1.0, 1.0), (found, got.rejected)
    assert found == expected
    assert [p.position for p in got.prompts] == list(range(1, len(expected) + 1))


def test_distractors_are_dropped_with_reasons():
    got = extract_prompts(page("aihabit_rewriting.html").decode("utf-8"))
    reasons = dict(got.rejected)
    assert reasons["Saves hours of manual editing"] == "in a section that holds no prompts (Why rewrite text with ChatGPT?)"
    texts = " ".join(p.text for p in got.prompts)
    for nav in ("Subscribe", "Twitter", "Table of Contents", "Sam Porter", "Make a list for emails", "click here",
                "Make sure you read the result"):
        assert nav not in texts


def test_prompt_and_content_selectors():
    html = page("aihabit_rewriting.html").decode("utf-8")
    only = extract_prompts(html, prompt_selector=".entry-content ol > li")
    assert only.method == "selector" and len(only.prompts) == 10
    assert only.prompts[0].heading == "Prompts for changing the tone"
    scoped = extract_prompts(html, content_selector="#comments")
    # the comment section holds one imperative sentence that is not about a text: only the selector says so
    assert [p.text for p in scoped.prompts] == []


@pytest.mark.parametrize("raw, expected", [
    ("1. Rewrite this text formally.", "Rewrite this text formally."),
    ("#3 - “Rewrite this text formally.”", "Rewrite this text formally."),
    ("Prompt 4: 'Summarise the text below'", "Summarise the text below"),
    ("Example prompt: \"Shorten this email\".", "Shorten this email"),
    ("• For a formal email: “Rewrite this email in a formal tone.”", "Rewrite this email in a formal tone."),
    ("(2) Rewrite [TEXT] as a <Style> poem", "Rewrite [TEXT] as a <Style> poem"),
])
def test_clean_prompt(raw, expected):
    assert clean_prompt(raw) == expected


def test_placeholders_are_kept_as_the_page_spelled_them():
    """Issue 11: raw stays raw. The slot form is derived (``normalised``), the page's text is the prompt."""
    got = extract_prompts(page("aihabit_editing.html").decode("utf-8"))
    proof = next(p for p in got.prompts if p.heading == "Proofreading")
    assert proof.text.endswith("mistakes: [text]")
    assert proof.normalised.endswith("mistakes: {text}")
    html = ("<html><head><title>ChatGPT prompts</title></head><body><article><h2>Prompts</h2><ol>"
            "<li><strong>Style:</strong> Rewrite [TEXT] as a &lt;Style&gt; poem for my readers</li>"
            "<li>Rewrite {text} as a {style} poem for my readers</li></ol></article></body></html>")
    got = extract_prompts(html, prompt_selector="li")
    # the second is the same prompt in another spelling: an in-page repeat, judged in the slot form
    assert [p.text for p in got.prompts] == ["Rewrite [TEXT] as a <Style> poem for my readers"]
    assert got.prompts[0].normalised == "Rewrite {text} as a {style} poem for my readers"
    assert got.prompts[0].raw.startswith("Style:")


@pytest.mark.parametrize("text, ok", [
    ("Rewrite this text in a formal tone.", True),
    ("Can you make this email shorter?", True),
    ("I want you to act as an editor for the text below.", True),
    ("Give the text below a pirate voice.", True),
    ("Saves time on editing every day", False),
    ("Makes the text easier to read", False),
    ("The quick brown fox jumps over the lazy dog", False),
    ("Sentence with a {placeholder} in it", True),
])
def test_instruction_heuristic(text, ok):
    assert looks_instructional(text) is ok


def test_broken_encoding_and_malformed_html():
    # declared UTF-8, but a cp1252 byte inside; unclosed tags everywhere
    body = ("<html><head><meta charset='utf-8'><body><h2>Caf\xe9 prompts<ol><li>Rewrite this text "
            "as a caf\xe9 menu<li>Summarize the text below in one line</ol><p><b>unclosed").encode("cp1252")
    text = decode_body(body, "text/html; charset=utf-8")
    got = extract_prompts(text)
    assert [p.text for p in got.prompts] == ["Rewrite this text as a café menu", "Summarize the text below in one line"]
    assert got.prompts[0].heading == "Café prompts"
    # garbage bytes, an empty page, a page of only tags: no prompts, no exception
    for junk in (bytes(range(256)) * 20, b"", b"<<<>>><html<body", b"<script>alert(1)</script>"):
        assert extract_prompts(decode_body(junk, "text/html")).prompts == []


def test_latin1_page_without_declaration_decodes():
    body = "<p>Prompt: Rewrite the text in a naïve, façade-free style.</p>".encode("latin-1")
    assert "naïve" in decode_body(body, "text/html")


@pytest.mark.shared
def test_real_world_html_never_crashes(shared_data):
    """Every real page of ../shared/data/html: no exception, bounded time per page."""
    pages = sorted((shared_data / "html").glob("*.html"))
    assert len(pages) > 100
    slowest = 0.0
    total = 0
    for path in pages:
        started = time.perf_counter()
        got = extract_prompts(decode_body(path.read_bytes(), "text/html"))
        took = time.perf_counter() - started
        slowest = max(slowest, took)
        total += len(got.prompts)
        for p in got.prompts:
            assert 3 <= len(p.text.split()) <= 150
        assert took < 10.0, f"{path.name} took {took:.1f}s"
    # none of these pages is a prompt listicle: only a handful of instruction-like list items may pass
    assert total < 0.5 * len(pages) * 10
