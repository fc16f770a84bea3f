"""Slot values at speed: the candidate-token walk gives the same signatures as the token-by-token
reference on real prompts, the helper process and the caller meet in the middle with the same answers
and the representative order is the key order."""

import json
import random
import sys
from pathlib import Path

import pandas as pd
import pytest

from curator import slots
from curator.dedup import representative_key, representative_order
from curator.slots import (INPUT_NOUNS, NUMBER_WORDS, _TOKEN, SlotReader, _sentence_start, load_lexicon,
                           slot_signature, slot_signatures)


def reference_signature(text: str, lexicon) -> tuple[str, ...]:
    """The token-by-token walk slot_signature replaced (session 13), kept as the oracle."""
    matches = list(_TOKEN.finditer(text))
    toks = [m.group(0) for m in matches]
    low = [t.casefold() for t in toks]
    alpha = [t for t in toks if t[0].isalpha()]
    shouting = len(alpha) > 2 and sum(t[0].isupper() for t in alpha) > 0.6 * len(alpha)
    found: set[str] = set()
    i = 0
    while i < len(toks):
        tok = low[i]
        if tok[0].isdigit():
            found.add(tok.replace(",", ""))
            i += 1
            continue
        step = 0
        for n in range(min(lexicon.starts.get(tok, 0), len(toks) - i), 0, -1):
            key = tuple(low[i:i + n])
            if key in lexicon.phrases:
                exact = lexicon.exact_case.get(key)
                if exact is not None and (tuple(toks[i:i + n]) != exact
                                          or _sentence_start(text, matches[i].start())):
                    continue
                found.add(lexicon.phrases[key])
                step = n
                break
        if step:
            i += step
            continue
        if tok in NUMBER_WORDS:
            found.add(NUMBER_WORDS[tok])
        elif (not shouting and toks[i][0].isupper() and tok not in INPUT_NOUNS and toks[i] != "I"
              and not _sentence_start(text, matches[i].start())):
            found.add(tok)
        i += 1
    return tuple(sorted(found))


EDGE_CASES = [
    "", "   ", "...", "- Rewrite this in Go.", "Rewrite this in Go.", "go ahead and rewrite it in R",
    "REWRITE THIS IN FRENCH NOW", "Make it 1,000 words, then 2.5 times shorter.", "\"Translate\" it to Spanish",
    "Write it as a first-person diary of Sherlock Holmes in Old English.", "Ünïcödé Wörds and ß straße",
    "rewrite in the style of a pirate captain; then Add Emojis", "Use twenty-two bullet points in Markdown",
]


def _real_prompts(shared_data: Path) -> list[str]:
    texts = json.loads((shared_data / "prompts/procedural_prompts.json").read_text())
    texts += pd.read_csv(shared_data / "prompts/awesome_chatgpt_prompts.csv", dtype=str)["prompt"].dropna().tolist()
    for f in sorted((shared_data / "prompts/handmade_lists").glob("*.csv")):
        frame = pd.read_csv(f, dtype=str, keep_default_na=False, on_bad_lines="skip")
        texts += [v for col in frame.columns for v in frame[col].tolist() if v]
    texts += pd.read_csv(shared_data / "public/gemma_mix_with_predictions.csv", dtype=str,
                         keep_default_na=False)["gt_rewrite_prompt"].tolist()
    return texts


def test_signatures_equal_the_token_by_token_reference_on_real_prompts(shared_data):
    lex = load_lexicon()
    texts = _real_prompts(shared_data) + EDGE_CASES
    assert len(texts) > 10_000
    # word-shuffled and re-cased variants too (capitals mid-sentence, shouting, phrases split)
    rng = random.Random(0)
    for t in texts[:3000]:
        words = t.split()
        rng.shuffle(words)
        texts.append(" ".join(w.upper() if rng.random() < 0.2 else w.capitalize() if rng.random() < 0.2 else w
                              for w in words))
    differ = [t for t in texts if slot_signature(t, lex) != reference_signature(t, lex)]
    assert not differ, differ[:5]
    assert any(slot_signature(t, lex) for t in texts)  # not vacuous: real prompts have slot values


def test_slot_reader_helper_and_caller_meet_in_the_middle(shared_data, monkeypatch):
    """The helper reads from the end, the caller from the start, until they meet: the same
    signatures as reading here, whoever read what; a helper that dies or cannot start leaves
    the rest to the caller."""
    import time

    lex = load_lexicon()
    texts = (_real_prompts(shared_data) * 2)[:20000]
    expected = [slot_signature(t, lex) for t in texts]
    monkeypatch.setattr(slots, "PARALLEL_FROM", 1000)
    monkeypatch.setattr(slots, "HELPER_CHUNK", 500)
    seen = []
    reader = SlotReader(texts, lex)
    handoff = reader._handoff
    assert reader._helper is not None and handoff is not None and handoff.exists()
    deadline = time.monotonic() + 30
    while reader.theirs == 0 and time.monotonic() < deadline:  # the helper has answered something
        time.sleep(0.01)
    assert reader.theirs >= 500
    assert reader.result(lambda done, total: seen.append((done, total))) == expected
    assert reader.caller_read <= 20000 - 500 and not handoff.exists() and reader._helper.poll() is not None
    assert seen[-1] == (20000, 20000) and all(t == 20000 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # the helper dies after its first answers: the caller reads everything it did not answer
    reader = SlotReader(texts, lex)
    while reader.theirs == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    reader._helper.kill()
    assert reader.result() == expected
    # no helper possible (a sandbox without processes), or a helper that fails: same answer here
    for broken in ("/nonexistent/python", "/bin/false"):
        monkeypatch.setattr(sys, "executable", broken)
        reader = SlotReader(texts[:3000], lex)
        assert reader.result() == expected[:3000] and reader.caller_read == 3000


def test_slot_reader_below_the_threshold_starts_no_process():
    lex = load_lexicon()
    texts = ["Rewrite this in French.", "Make it 3 sentences."]
    reader = SlotReader(texts, lex)
    assert reader._helper is None and reader.theirs == 0 and reader._handoff is None
    got = reader.result()
    assert got == [slot_signature(t, lex) for t in texts]
    assert "french" in got[0] and "3" in got[1]


def test_representative_order_is_the_key_order(shared_data):
    texts = json.loads((shared_data / "prompts/procedural_prompts.json").read_text())[:5000]
    rng = random.Random(1)
    origins = [rng.choice(["public", "seed", "scraped", "template", "generated", "local", "odd"]) for _ in texts]
    ids = [f"{rng.getrandbits(64):016x}" for _ in texts]
    ids[:3] = ["é" + ids[0], "Z" + ids[1], "a" + ids[2]]  # non-hex ids compare by code point, as Python does
    keys = [representative_key(o, t, i) for o, t, i in zip(origins, texts, ids)]
    assert representative_order(origins, texts, ids).tolist() == sorted(range(len(texts)), key=keys.__getitem__)


def test_one_thread_for_a_search_beside_the_helper_and_back():
    """While the slot helper runs, the pair search uses one faiss and one BLAS thread (three busy
    threads on two cores slowed it from 6.5 s to 9.6 s at 250k); the counts come back after,
    also when the search fails."""
    import faiss
    from threadpoolctl import threadpool_info

    from curator.dedup_index import one_thread

    before = faiss.omp_get_max_threads()
    blas_before = [i["num_threads"] for i in threadpool_info()]
    with pytest.raises(RuntimeError), one_thread():
        assert faiss.omp_get_max_threads() == 1
        assert all(i["num_threads"] == 1 for i in threadpool_info())
        raise RuntimeError("search failed")
    assert faiss.omp_get_max_threads() == before and [i["num_threads"] for i in threadpool_info()] == blas_before
