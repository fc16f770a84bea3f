"""Export in Kaggle's columns, and the round trip export → ingest into a fresh corpus."""

import json

import pandas as pd
import pytest

from curator import Corpus
from curator.export import KAGGLE_COLUMNS
from curator.ingest import ingest_file

COLS = ["id", "original_text", "rewrite_prompt", "rewritten_text"]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_round_trip_on_real_data(tmp_path, shared_data, fmt):
    with Corpus.init(tmp_path / "a") as a:
        ingest_file(a, shared_data / "public/gemma_mix_with_predictions.csv", status="train")
        out = tmp_path / f"train.{fmt}"
        summary = a.export(out, status="train")
        # every row is exported or refused with its reason: 48 originals over the 200-word limit,
        # 4 rows whose prompt is a template ("…discussing [Topic].")
        assert summary["rows"] + summary["refused_rows"] == 948
        assert summary["refused"] == {"original_text over 200 words ([limits] max_original_words)": 48,
                                      "its prompt has an unfilled slot (a template)": 4}
        refused = pd.read_csv(summary["refused_file"], dtype=str)
        assert len(refused) == 52 and refused.reason.str.len().gt(0).all()
        original = a.samples(status="train")[COLS]
        original = original[~original.id.isin(refused.id)].sort_values("id").reset_index(drop=True)
    if fmt == "csv":
        assert list(pd.read_csv(out, nrows=1).columns) == KAGGLE_COLUMNS
    with Corpus.init(tmp_path / "b") as b:
        s = ingest_file(b, out, status="train")
        assert s.landed == 896 and not s.issues
        again = b.samples()[COLS].sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(original, again)


def test_export_provenance_columns_and_status_filter(cli, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("original_text,rewrite_prompt,rewritten_text\na,Shorten this.,b\nc,Make it rhyme.,d\n")
    assert cli("ingest", f, "--status", "train").exit_code == 0
    out = tmp_path / "o.csv"
    assert cli("export", "--out", out, "--provenance").exit_code == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == KAGGLE_COLUMNS + ["dataset", "origin", "status", "model", "prompt_id"]
    assert len(frame) == 2 and set(frame.status) == {"train"}
    assert cli("export", "--out", out, "--status", "candidate").exit_code == 0
    assert len(pd.read_csv(out)) == 0
    jl = tmp_path / "o.jsonl"
    assert cli("export", "--out", jl, "--status", "all").exit_code == 0
    assert [json.loads(x)["rewrite_prompt"] for x in jl.read_text().splitlines()] == ["Shorten this.",
                                                                                     "Make it rhyme."]
