"""Extraction measured on the local test web (tests/sites/web): 38 pages in five site chromes,
20 prompt layouts and their distractors, with ground truth. The held-out pages (ho-*, ho2-*,
ho3-*) were sealed before they were measured; docs/sources.md reports their figures (and the one
fix made after batch 3 was measured)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

WEB = Path(__file__).parent / "sites" / "web"
sys.path.insert(0, str(WEB))

from measure import measure, report, truth  # noqa: E402


@pytest.fixture(scope="module")
def heldout():
    return measure(heldout=True)


def test_pages_are_the_sealed_ones():
    t = truth()
    assert len(t) >= 38 and sum(v["heldout"] for v in t.values()) >= 18
    assert len({v["chrome"] for v in t.values()}) == 5
    for name, v in t.items():
        html = (WEB / "pages" / f"{name}.html").read_bytes()
        assert hashlib.sha256(html).hexdigest() == v["sha256"], f"{name}.html changed after it was sealed"


def test_heldout_pages_meet_the_target(heldout):
    o = heldout["overall"]
    assert o["precision"] >= 0.92 and o["recall"] >= 0.92, report(heldout)
    for name, p in heldout["pages"].items():
        assert p["precision"] >= 0.6 and p["recall"] >= 0.6, (name, p)
    for chrome, c in heldout["chromes"].items():
        assert c["recall"] >= 0.75, (chrome, c)


def test_development_pages_stay_exact():
    dev = measure(heldout=False)
    assert dev["overall"]["precision"] >= 0.97 and dev["overall"]["recall"] >= 0.97, report(dev)
    # every layout is found somewhere: tables, <br> lists, emoji bullets, framings, numbered headings…
    assert all(k["recall"] >= 0.8 for k in dev["kinds"].values()), dev["kinds"]


@pytest.mark.shared
def test_real_non_listicle_pages_give_almost_no_prompts(shared_data):
    """Precision check on 117 real pages none of which is a prompt listicle."""
    from curator.scrape.extract import extract_prompts
    from curator.scrape.fetch import decode_body

    found = []
    for path in sorted((shared_data / "html").glob("*.html")):
        found += [(path.name, p.text) for p in extract_prompts(decode_body(path.read_bytes(), "text/html")).prompts]
    assert len(found) <= 4, found
    assert len({name for name, _ in found}) <= 2, found


@pytest.mark.parametrize("text, why", [
    ("Sharpen the wording of this announcement.", None),          # a verb outside the list, used as one
    ("Loosen up this paragraph so it sounds like a conversation.", None),
    ("Tell ChatGPT which style guide your team follows.", "talks about the tool (a tip for the reader)"),
    ("Paste your {text} into the message box.", "an instruction to the reader"),
    ("Copy one of the prompts below and press Enter.", "an instruction to the reader"),
    ("Once the project decided to port the code, the work began.", "not an instruction"),
    ("Lebe in Gemeinschaft mit anderen Menschen", "not an instruction"),
    ("DOUBLE YOUR BTC TODAY", "not an instruction"),
    ("Always check the output before you publish it.", "talks about the tool (a tip for the reader)"),
    ("Rewrite this email and format the output as a bulleted list.", None),  # names its text: a prompt
])
def test_judge_rules(text, why):
    from curator.scrape.judge import rejection

    assert rejection(text) == why


def test_sample_output_and_tips_are_not_prompts():
    from curator.scrape.extract import extract_prompts

    html = """<article><h2>Emails</h2><p><strong>Prompt:</strong> Rewrite this email so it sounds warmer.</p>
    <p><strong>Output:</strong></p><blockquote><p>Thank you for reaching out, and keep this between us.</p></blockquote>
    <p><em>Result:</em> “Make sure to bring the documents tomorrow.”</p>
    <p><strong>Pro tip:</strong> Give the model an example of your own writing first.</p>
    <p>For a cover letter: “Rewrite this cover letter so it opens with my biggest win.”</p>
    <p>✍️ Trim this post to under 280 characters.</p>
    <table><tr><th>Use</th><th>Prompt</th></tr><tr><td>Apology</td><td>Rewrite this apology so it sounds sincere.</td></tr></table>
    <p>Reduce the jargon in this text.<br>Punch up this intro.<br>Condense these notes into five bullets.</p>
    <h2>How to use these prompts</h2><ol><li>Open a new chat.</li><li>Write your draft first.</li></ol></article>"""
    got = [p.text for p in extract_prompts(html).prompts]
    assert got == ["Rewrite this email so it sounds warmer.",
                   "Rewrite this cover letter so it opens with my biggest win.",
                   "Trim this post to under 280 characters.", "Rewrite this apology so it sounds sincere.",
                   "Reduce the jargon in this text.", "Punch up this intro.", "Condense these notes into five bullets."]


def test_advice_on_a_page_about_something_else_is_not_a_prompt():
    from curator.scrape.extract import extract_prompts

    advice = """<html><head><title>How to become a better writer</title></head><body><article>
    <h1>How to become a better writer</h1><p>Writing is a skill like any other.</p>
    <h2>Habits</h2><ul><li>Write every day, even for ten minutes.</li><li>Keep a notebook with you.</li>
    <li>Make time for reading outside your genre.</li><li>Rewrite this kind of sentence until it sings: {sentence}</li></ul>
    </article></body></html>"""
    got = extract_prompts(advice)
    assert [p.text for p in got.prompts] == ["Rewrite this kind of sentence until it sings: {sentence}"]
    assert any("not a prompt page" in why for _, why in got.rejected)
    # the same list on a page about ChatGPT prompts is a list of prompts
    about = advice.replace("How to become a better writer", "ChatGPT prompts for writers")
    assert len(extract_prompts(about).prompts) == 4
