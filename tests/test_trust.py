"""Training data you can trust (issue 11): dedup that neither chains nor merges slot variants, no
target leakage, no template prompts in samples, every exported row valid or reported."""

import json
import random
import sys
from pathlib import Path

import pandas as pd
import pytest

from curator.dedup import apply_dedup, plan_dedup, undo_dedup
from curator.ingest import ingest_file
from curator.items import PromptRecord, Provenance, add_prompts
from curator.slots import load_lexicon, slot_signature

REPO = Path(__file__).resolve().parents[1]
PAIRS = REPO / "tests" / "data" / "dedup_labelled_pairs.csv"


def _add(corpus, texts, origin="public"):
    with corpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, origin, Provenance("d", "prompts")) for t in texts])


def test_slot_signature_separates_slot_values_not_rewordings():
    lex = load_lexicon(REPO / "corpus")
    same = [("Rewrite this in a formal tone.", "Rewrite this in a formal tone, please."),
            ("Summarize the text in two sentences.", "Summarise the text in 2 sentences."),
            ("Make it passive-aggressive.", "Make it passive aggressive."),
            ("Go ahead and rewrite it as a poem.", "Rewrite it as a poem.")]
    for a, b in same:
        assert slot_signature(a, lex) == slot_signature(b, lex), (a, b)
    differ = [("Summarize in exactly 150 words.", "Summarize in exactly 200 words."),
              ("Translate this into French.", "Translate this into Spanish."),
              ("Rewrite like Ernest Hemingway.", "Rewrite like Jane Austen."),
              ("Rewrite in the voice of Gandalf.", "Rewrite in the voice of Yoda."),
              ("Rewrite this in a formal tone.", "Rewrite this in a casual tone."),
              ("Summarize this in two sentences.", "Summarize this in three sentences."),
              ("Rewrite this in the first person.", "Rewrite this in the third person.")]
    for a, b in differ:
        assert slot_signature(a, lex) != slot_signature(b, lex), (a, b)


def test_dedup_on_written_pairs_and_procedural_slot_variants(corpus, shared_data):
    """Labelled real prompts: paraphrases we wrote of real prompts (and their slot variants) plus
    procedural prompts whose part values are known (same values = duplicate, else a slot variant).
    Target: pairwise precision ≥ 0.90 while finding at least as many true pairs as cosine ≥ 0.95."""
    sys.path.insert(0, str(REPO / "scripts" / "bench"))
    from dedup_eval import group_pairs, pair_scores, procedural_labels

    import numpy as np

    from curator.dedup_index import similar_pairs
    from curator.embed import embed_texts

    proc = [" ".join(p.split()) for p in json.loads((shared_data / "prompts/procedural_prompts.json").read_text())]
    labels = procedural_labels(proc, shared_data)
    by_label: dict[str, list[str]] = {}
    for p, lab in labels.items():
        by_label.setdefault(lab, []).append(p)
    rng = random.Random(0)
    multi = sorted(k for k, v in by_label.items() if len(v) >= 2)
    chosen = [p for k in rng.sample(multi, 60) for p in sorted(by_label[k])[:4]]
    pairs = pd.read_csv(PAIRS, dtype=str)
    texts = list(dict.fromkeys(chosen + pairs.a.tolist() + pairs.b.tolist()))
    # written pairs: union of the paraphrase pairs is a label
    parent = {t: t for t in texts}

    def find(t):
        while parent[t] != t:
            t = parent[t]
        return t

    for a, b, d in zip(pairs.a, pairs.b, pairs.duplicate):
        if d == "1":
            parent[find(a)] = find(b)
    lab_of = {t: labels[t] for t in chosen} | {t: "pair:" + find(t) for t in parent if t not in labels}
    _add(corpus, texts)
    plan = plan_dedup(corpus)  # the default threshold
    ids = {r["id"]: r["text"] for r in corpus.store.query("SELECT id, text FROM prompts")}
    index = {t: i for i, t in enumerate(texts)}
    rep = np.full(len(texts), -1)
    for g in plan.groups:
        for m in g["members"]:
            rep[index[ids[m]]] = index[ids[g["representative"]]]
    codes: dict[str, int] = {}
    lab = np.array([codes.setdefault(lab_of[t], len(codes)) for t in texts])
    known, true = pair_scores(group_pairs(rep), lab)
    x = embed_texts(corpus, texts, progress=False)
    base_known, base_true = pair_scores(similar_pairs(x, 0.95, exact=True), lab)
    print(f"dedup labelled: {len(texts)} prompts, precision {true / known:.3f} ({true}/{known}), "
          f"cosine>=0.95: {base_true}/{base_known}")
    assert true / known >= 0.90 and true >= base_true, (true, known, base_true, base_known)
    # every written slot variant stays apart, every member is within the threshold of its representative
    negatives = [(a, b) for a, b, d in zip(pairs.a, pairs.b, pairs.duplicate) if d == "0"]
    merged = [(a, b) for a, b in negatives if rep[index[a]] >= 0 and rep[index[a]] == rep[index[b]]]
    assert len(merged) <= 1, merged  # "review of a new restaurant / bakery": no vocabulary word tells them apart
    for g in plan.groups:
        assert all(c >= plan.threshold - 1e-6 for c in g["cosine"].values())


def test_dedup_show_and_explain_cli(cli, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("rewrite_prompt\nSummarize the text in exactly 150 words.\nSummarize the text in exactly 200 words.\n"
                 "Rewrite this text in a formal tone.\n\"Rewrite this text in a formal tone, please.\"\n")
    cli("ingest", f)
    out = cli("dedup", "--dry-run").stderr
    assert "group of 2" in out and "formal tone" in out and "0.9" in out  # member cosine shown
    assert "150 words" not in out.split("group of")[1]
    res = json.loads(cli("dedup", "--explain", "Summarize the text in exactly 150 words.", "--json").stdout)
    near = res["neighbours"][0]
    assert near["cosine"] >= 0.9 and near["only_here"] == ["150"] and near["only_there"] == ["200"]
    assert "slot values differ" in near["why"] and not near["duplicate"]
    text = cli("dedup", "--explain", "Please rewrite this text in a formal tone.").stderr
    assert "verdict: near-duplicate of" in text


def test_leader_groups_do_not_chain_and_undo_restores_exactly(corpus):
    texts = ["Make it rhyme.", "Make this rhyme.", "Make this text rhyme.", "Make this text rhyme nicely.",
             "Make this whole text rhyme nicely please.", "Shorten it."]
    _add(corpus, texts)
    before = corpus.store.fingerprint()
    plan = plan_dedup(corpus, threshold=0.8)
    for g in plan.groups:
        assert min(g["cosine"].values()) >= 0.8 and g["cosine"][g["representative"]] == pytest.approx(1.0, abs=1e-3)
    run = apply_dedup(corpus, plan)
    assert corpus.store.scalar("SELECT COUNT(*) FROM prompts WHERE duplicate_of IS NOT NULL") == plan.duplicates
    # a representative is never itself a duplicate (no chains)
    assert not corpus.store.scalar("SELECT COUNT(*) FROM prompts p JOIN prompts r ON p.duplicate_of = r.id "
                                   "WHERE r.duplicate_of IS NOT NULL")
    assert undo_dedup(corpus)["run"] == run
    assert corpus.store.fingerprint()["prompts"] == before["prompts"]


def _score_all(corpus):
    from curator.score import score_predictions

    score_predictions(corpus, metric_model="default")


def test_target_prompts_are_never_trained_on(cli, corpus, shared_data, tmp_path):
    """Public samples; a target file holding 3 of their prompts and a paraphrase of a 4th; score,
    promote everything, export: no target prompt (nor its paraphrase) reaches train.csv."""
    src = pd.read_csv(shared_data / "public/gemma_mix_with_predictions.csv", dtype=str, keep_default_na=False)
    src = src[src.original_text.str.split().str.len() < 150].head(40)
    pub = tmp_path / "pub.csv"
    src.to_csv(pub, index=False)
    ingest_file(corpus, pub)
    prompts = list(dict.fromkeys(src.gt_rewrite_prompt))
    shared, para_of = prompts[:3], prompts[3]
    paraphrase = para_of.rstrip(".") + ", please."
    tfile = tmp_path / "target.csv"
    pd.DataFrame({"rewrite_prompt": shared + [paraphrase, "Turn this into a limerick about a cat."]}).to_csv(
        tfile, index=False)
    ingest_file(corpus, tfile, role="target")
    _score_all(corpus)
    overlapping = src.gt_rewrite_prompt.isin(shared + [para_of])
    res = corpus.promote(min_score=-1.0)
    assert res["held_back"] == int(overlapping.sum()) and res["held_back"] >= 4
    assert set(res["held_back_reasons"]) <= {"its prompt is a target prompt",
                                             "its prompt is a near-duplicate of a target prompt",
                                             "its prompt has an unfilled slot (a template)"}
    assert res["held_back_reasons"]["its prompt is a near-duplicate of a target prompt"] == \
        int((src.gt_rewrite_prompt == para_of).sum())
    out = tmp_path / "train.csv"
    summary = corpus.export(out, split=0.2)
    train = pd.concat([pd.read_csv(out, dtype=str), pd.read_csv(tmp_path / "train.val.csv", dtype=str)])
    assert not set(train.rewrite_prompt) & set(shared + [para_of])
    assert summary["rows"] + summary["validation_rows"] == len(src) - res["held_back"] - summary["refused_rows"]
    # every sample, exported with --status all: the overlap is refused and counted
    all_summary = corpus.export(tmp_path / "all.csv", status=None)
    assert all_summary["target_overlap_refused"] >= int(overlapping.sum())
    stats = corpus.stats()
    assert stats["target_overlap"]["samples"] == int(overlapping.sum()) and stats["target_overlap"]["train"] == 0
    # the override promotes them and says so in the event log
    res2 = corpus.promote(min_score=-1.0, allow_target_overlap=True)
    assert res2["promoted"] >= int(overlapping.sum())
    ev = corpus.store.query("SELECT args FROM events WHERE command = 'promote' ORDER BY id DESC LIMIT 1")[0][0]
    assert json.loads(ev)["allow_target_overlap"] is True
    refused = corpus.export(tmp_path / "t2.csv")
    assert refused["target_overlap_refused"] == int(overlapping.sum())
    allowed = corpus.export(tmp_path / "t3.csv", allow_target_overlap=True)
    assert allowed["target_overlap_refused"] == 0
    assert json.loads(corpus.store.query("SELECT args FROM events WHERE command = 'export' ORDER BY id DESC "
                                         "LIMIT 1")[0][0])["allow_target_overlap"] is True
    assert "target overlap:" in cli("stats").stderr


def test_template_prompts_never_reach_generate_or_export(tmp_path, shared_data):
    """Prompts with unfilled slots are not sent by `generate` (fake LLM on 127.0.0.1) and a sample
    carrying one is refused by `export` with its reason."""
    from click.testing import CliRunner

    from curator import Corpus
    from curator.cli import main
    from fake_llm_server import FakeLLM

    root = tmp_path / "corpus"
    c = Corpus.init(root)
    path = root / "curator.toml"
    path.write_text(path.read_text().replace("[llm.prices]\n", '[llm.prices]\n"fake" = { input = 1.0, output = 1.0 }\n'))
    c.close()
    f = tmp_path / "p.csv"
    f.write_text("rewrite_prompt\nRewrite this email to [recipient] in a friendly tone.\n"
                 "Write a poem about {topic}.\nRewrite this <text> as a haiku.\nMake this text sound like a pirate.\n")
    with FakeLLM() as fake:
        out = CliRunner().invoke(main, ["--corpus", str(root), "generate", "--prompts", str(f), "--base-url",
                                        fake.url, "--model", "fake", "--json"])
        assert out.exit_code == 0, out.output
        sent = len(fake.starts)
    with Corpus.open(root) as c:
        samples = c.samples()
        assert sent >= 1 and len(samples) >= 1
        assert set(samples.rewrite_prompt) == {"Make this text sound like a pirate."}
        # a public sample with a template prompt: kept raw, never exported
        src = pd.read_csv(shared_data / "public/gemma_mix_with_predictions.csv", dtype=str, keep_default_na=False)
        rows = src[src.gt_rewrite_prompt.str.contains(r"\[Topic\]", regex=True)].head(2)
        pub = tmp_path / "pub.csv"
        rows.to_csv(pub, index=False)
        ingest_file(c, pub, status="train")
        assert c.samples(contains="[Topic]").shape[0] == len(rows)  # raw text kept verbatim
        summary = c.export(tmp_path / "t.csv", status="train")
        assert summary["refused"].get("its prompt has an unfilled slot (a template)") == len(rows)
        assert summary["rows"] == 0
        st = c.stats()["templates"]
        assert st["prompts"] == 1 and st["unfillable"] == 0  # "[Topic]": the packaged seed has a topic vocabulary
        toml = c.root / "curator.toml"
        toml.write_text(toml.read_text() + "\n[templates]\nseed = false\n")
        c._settings = None
        st = c.stats()["templates"]
        assert st["prompts"] == 1 and st["unfillable"] == 1  # without the seed: no vocabulary for it
