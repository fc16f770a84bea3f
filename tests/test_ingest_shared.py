"""Every real public file in ../shared/data ingests, with the counts its README gives."""

import json

import pytest

from curator.ingest import ingest_file

# file → (role, rows, landed, reported, distinct new rows in a fresh corpus)
EXPECTED = {
    # 949 rows; one row repeats another exactly (same original, prompt and rewrite): it lands as a
    # second provenance of the same sample, so 948 distinct samples, each with its prediction.
    "public/gemma_mix_with_predictions.csv": ("samples", 949, 949, 0, 948),
    "public/gpt35_triples.csv": ("samples", 1080, 1080, 0, 1080),
    # 1,070 rows of which 2 repeat the header mid-file (reported, not landed); README's 566
    # distinct "prompts" count that header cell "TargetPrompt" as one, so 565 real prompts.
    "labelled/rewrite_labels_16.csv": ("prompts", 1070, 1068, 2, 565),
    "prompts/awesome_chatgpt_prompts.csv": ("prompts", 224, 224, 0, 224),
    "prompts/procedural_prompts.json": ("prompts", 9205, 9205, 0, 9205),
    # No header row in this one: its first line is a prompt and must not be lost.
    "prompts/handmade_lists/Eastern_Sheet2.csv": ("prompts", 60, 60, 0, 60),
    "prompts/handmade_lists/bible-prompts.csv": ("prompts", 18, 18, 0, 18),
    "prompts/handmade_lists/chatGPT-prompts.csv": ("prompts", 96, 96, 0, 96),
    "prompts/handmade_lists/chatGPTproperNouns-prompts.csv": ("prompts", 78, 78, 0, 78),
    "prompts/handmade_lists/essay-prompts.csv": ("prompts", 103, 103, 0, 103),
    "kaggle/train.csv": ("samples", 1, 1, 0, 1),
    # Kaggle's test file has texts but no prompt (it is what must be recovered): a target set.
    "kaggle/test.csv": ("target", 1, 1, 0, 1),
    "kaggle/sample_submission.csv": ("prompts", 1, 1, 0, 1),
}


def test_every_shared_file_is_covered_by_the_table(shared_data):
    files = {str(p.relative_to(shared_data)) for sub in ("public", "prompts", "labelled", "kaggle")
             for p in (shared_data / sub).rglob("*") if p.is_file() and p.suffix in (".csv", ".json")}
    # procedural_parts are vocabularies (used by the templates tests), not prompt lists
    files = {f for f in files if "procedural_parts" not in f}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_shared_file_ingests_with_counts_and_reingest_adds_nothing(corpus, shared_data, rel):
    role, rows, landed, reported, new = EXPECTED[rel]
    s = ingest_file(corpus, shared_data / rel)
    assert (s.role, s.rows, s.landed, len(s.issues), s.new) == (role, rows, landed, reported, new)
    table = "samples" if role in ("samples", "target") else "prompts"
    assert corpus.store.scalar(f"SELECT COUNT(*) FROM {table}") == new
    before = corpus.store.fingerprint()
    again = ingest_file(corpus, shared_data / rel)
    assert again.new == 0 and again.existing == landed
    after = corpus.store.fingerprint()
    # only the event log grows on a repeat
    assert {k: v for k, v in after.items() if k != "events"} == \
           {k: v for k, v in before.items() if k != "events"}


def test_gemma_predictions_and_provenance(corpus, shared_data):
    s = ingest_file(corpus, shared_data / "public/gemma_mix_with_predictions.csv")
    assert s.columns == {"rewrite_prompt": "gt_rewrite_prompt", "prediction": "rewrite_prompt",
                         "original_text": "original_text", "rewritten_text": "rewritten_text"}
    assert s.predictions == 948
    preds = corpus.predictions()
    assert set(preds.predictor) == {"gemma_mix_with_predictions:rewrite_prompt"}
    # the author's score column is kept with the sample
    meta = json.loads(corpus.samples().meta.iloc[0])
    assert float(meta["score"]) > 0
    prov = corpus.store.query("SELECT dataset, file, sha256, row FROM provenance WHERE item_kind='sample'"
                              " ORDER BY row LIMIT 1")[0]
    assert prov["dataset"] == "gemma_mix_with_predictions"
    assert prov["file"] == "gemma_mix_with_predictions.csv" and len(prov["sha256"]) == 64
    assert prov["row"] == 1
    # 949 provenance rows for 948 samples: the repeated row is recorded, not dropped
    assert corpus.store.scalar("SELECT COUNT(*) FROM provenance WHERE item_kind='sample'") == 949


def test_labelled_header_repeats_are_reported_with_row_numbers(corpus, shared_data):
    s = ingest_file(corpus, shared_data / "labelled/rewrite_labels_16.csv")
    assert [(i.row, i.reason) for i in s.issues] == [(813, "repeats the header line"),
                                                     (897, "repeats the header line")]
    labels = corpus.prompts().meta.map(lambda m: json.loads(m).get("RewriteLabel"))
    assert labels.nunique() == 16


def test_cli_ingest_all_shared_files(cli, shared_data):
    paths = [shared_data / rel for rel in EXPECTED]
    result = cli("ingest", *paths, "--json")
    assert result.exit_code == 0, result.output
    summaries = json.loads(result.stdout)
    assert sum(s["rows"] for s in summaries) == sum(v[1] for v in EXPECTED.values())
    assert all(s["rows"] == s["landed"] + len(s["issues"]) for s in summaries)
