"""The held-out split: by prompt group, so a prompt and its paraphrases sit on one side only."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator import CuratorError
from curator.ingest import ingest_file
from curator.items import PromptRecord, Provenance, add_prompts
from curator.review import prompt_groups, split_by_prompt


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(st.sampled_from("abcdefghij"), min_size=2, max_size=200),
       fraction=st.floats(0.05, 0.5), seed=st.integers(0, 2**32 - 1))
def test_split_keeps_groups_whole(groups, fraction, seed):
    mask = split_by_prompt(groups, fraction, seed)
    assert len(mask) == len(groups)
    val = {g for g, m in zip(groups, mask) if m}
    train = {g for g, m in zip(groups, mask) if not m}
    assert not val & train
    if len(set(groups)) > 1:
        assert train and val  # neither side is empty when there are two groups or more
    assert (split_by_prompt(groups, fraction, seed) == mask).all()  # reproducible from the seed


def test_split_fraction_is_checked():
    for bad in (0, 1, -0.1, 1.5):
        with pytest.raises(CuratorError, match="between 0 and 1"):
            split_by_prompt(["a", "b"], bad)


def test_split_of_real_samples_by_prompt(corpus, shared_data):
    """gemma_mix has 948 samples over fewer distinct prompts: repeated prompts must not straddle."""
    ingest_file(corpus, shared_data / "public/gemma_mix_with_predictions.csv", status="train")
    frame = corpus.samples(status="train")
    assert frame.prompt_id.nunique() < len(frame)  # the file does repeat prompts
    groups = prompt_groups(corpus, frame.prompt_id.tolist(), frame.id.tolist())
    for seed in range(5):
        mask = split_by_prompt(groups, 0.1, seed)
        assert not {g for g, m in zip(groups, mask) if m} & {g for g, m in zip(groups, mask) if not m}
        assert 0.1 <= mask.mean() < 0.15
    assert (split_by_prompt(groups, 0.1, 0) != split_by_prompt(groups, 0.1, 1)).any()  # the seed matters
    out = corpus.export(corpus.root / "train.csv", split=0.1, seed=3)
    a = pd.read_csv(corpus.root / "train.csv")
    b = pd.read_csv(corpus.root / "train.val.csv")
    assert len(a) + len(b) + out["refused_rows"] == len(frame)  # refused rows are in neither part
    assert out["validation_rows"] == len(b) and out["rows"] == len(a)
    assert not set(a.rewrite_prompt) & set(b.rewrite_prompt)
    assert not set(a.id) & set(b.id)
    assert list(a.columns) == ["id", "original_text", "rewrite_prompt", "rewritten_text"]


def test_split_follows_dedup_groups(corpus):
    with corpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "public", Provenance("d", "prompts"))
                           for t in ("Make it rhyme.", "Make this rhyme.", "Make it rhyme please.", "Shorten it.")])
    ids = corpus.prompts().set_index("text").id
    # a chain: 'please' → 'Make this rhyme.' → 'Make it rhyme.'
    corpus.store.execute("UPDATE prompts SET duplicate_of = ? WHERE id = ?", (ids["Make it rhyme."], ids["Make this rhyme."]))
    corpus.store.execute("UPDATE prompts SET duplicate_of = ? WHERE id = ?",
                         (ids["Make this rhyme."], ids["Make it rhyme please."]))
    groups = prompt_groups(corpus, [ids["Make it rhyme."], ids["Make this rhyme."], ids["Make it rhyme please."],
                                    ids["Shorten it."], None, None], ["s1", "s2", "s3", "s4", "s5", "s6"])
    assert groups[0] == groups[1] == groups[2] != groups[3]
    assert groups[4] != groups[5]  # samples without a prompt are not lumped together


def test_export_split_cli_keeps_paraphrases_together(cli, tmp_path):
    """Paraphrases marked by dedup (duplicate_of) land on one side of the CLI's split."""
    from curator import Corpus

    rows = ["original_text,rewrite_prompt,rewritten_text"]
    for i in range(40):
        rows.append(f"orig {i},Rewrite this as poem number {i % 10}.,rew {i}")
        rows.append(f"other {i},Rewrite this as poem no. {i % 10}.,rew2 {i}")
    f = tmp_path / "s.csv"
    f.write_text("\n".join(rows) + "\n")
    assert cli("ingest", f, "--status", "train").exit_code == 0
    with Corpus.open(cli.root) as c:
        ids = c.prompts().set_index("text").id
        with c.store.transaction() as conn:
            for k in range(10):
                conn.execute("UPDATE prompts SET duplicate_of = ? WHERE id = ?",
                             (ids[f"Rewrite this as poem number {k}."], ids[f"Rewrite this as poem no. {k}."]))
    out = cli("export", "--out", tmp_path / "out" / "train.csv", "--split", "0.2", "--seed", "7")
    assert out.exit_code == 0, out.stderr
    a = pd.read_csv(tmp_path / "out" / "train.csv")
    b = pd.read_csv(tmp_path / "out" / "train.val.csv")
    assert len(a) + len(b) == 80 and len(b) == 16  # two of ten groups of 8
    number = lambda p: p.rstrip(".").split()[-1]  # noqa: E731 - the group of a paraphrase
    assert not {number(p) for p in a.rewrite_prompt} & {number(p) for p in b.rewrite_prompt}
