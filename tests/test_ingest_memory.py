"""In-memory tables (DataFrame, list of dicts, datasets.Dataset) ingest exactly like files."""

from __future__ import annotations

import pandas as pd
import pytest

from curator import Corpus, CuratorError
from curator.ingest import ingest_file


def _ids(corpus: Corpus, table: str) -> set[str]:
    return {r[0] for r in corpus.store.query(f"SELECT id FROM {table}")}


@pytest.mark.shared
def test_a_dataframe_lands_like_the_file_it_was_read_from(shared_data, tmp_path):
    """gemma_mix: truth in gt_rewrite_prompt, the prediction in rewrite_prompt; same mapping either way."""
    path = shared_data / "public" / "gemma_mix_with_predictions.csv"
    with Corpus.init(tmp_path / "a") as a, Corpus.init(tmp_path / "b") as b:
        from_file = ingest_file(a, path, dataset="gemma")
        frame = pd.read_csv(path)  # numbers stay numbers, missing cells are NaN: as a user gets it
        [from_frame] = b.ingest(frame, name="gemma_mix", dataset="gemma")
        assert from_frame.columns == from_file.columns == {
            "rewrite_prompt": "gt_rewrite_prompt", "prediction": "rewrite_prompt",
            "original_text": "original_text", "rewritten_text": "rewritten_text"}
        assert (from_frame.rows, from_frame.landed) == (from_file.rows, from_file.landed) == (949, 949)
        # read_csv's defaults turn a prediction reading "NA"/"None" into NaN: no prediction there
        blank = frame["rewrite_prompt"].isna() | (frame["rewrite_prompt"].astype(str).str.strip() == "")
        assert from_frame.predictions == from_file.predictions - int(blank.sum()) > 900
        assert [i.row for i in from_frame.issues] == [i.row for i in from_file.issues]
        assert _ids(a, "samples") == _ids(b, "samples") and _ids(a, "prompts") == _ids(b, "prompts")
        assert b.predictions().shape[0] == from_frame.predictions
        prov = b.store.query("SELECT DISTINCT file, sha256, dataset, role FROM provenance")
        assert [tuple(r) for r in prov] == [("<dataframe>:gemma_mix", from_frame.sha256, "gemma", "samples")]
        # the same content again adds nothing, whatever it is called
        [again] = b.ingest(frame.copy(), name="gemma_mix", dataset="gemma")
        assert again.new == 0 and again.existing == again.landed and again.sha256 == from_frame.sha256


@pytest.mark.shared
def test_list_of_dicts_is_checked_row_by_row_like_a_file(shared_data, corpus):
    """rewrite_labels_16 repeats its header line twice inside the file: reported, not landed."""
    path = shared_data / "labelled" / "rewrite_labels_16.csv"
    rows = pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    [s] = corpus.ingest(rows, name="labels", role="prompts")
    assert s.rows == 1070 == s.landed + len(s.issues)
    assert [i.reason for i in s.issues] == ["repeats the header line"] * 2
    assert s.columns["rewrite_prompt"] == "target" and s.columns["prediction"] == "predicted"
    assert s.path == "records 'labels'" and s.dataset == "labels" and s.encoding == "memory"
    assert len(_ids(corpus, "prompts")) == s.new > 500


class FakeDataset:
    """The part of datasets.Dataset that ingest uses (duck-typed: no dependency on `datasets`)."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame
        self.column_names = list(frame.columns)

    def to_pandas(self) -> pd.DataFrame:
        return self._frame.copy()


class FakeDatasetDict(dict):
    @property
    def column_names(self):
        return {k: v.column_names for k, v in self.items()}

    def to_pandas(self):  # pragma: no cover - DatasetDict has none; ingest must refuse before
        raise AssertionError


def _examples_frame() -> pd.DataFrame:
    from curator.templates import seed_dir

    return pd.read_json(seed_dir() / "examples" / "examples.jsonl", lines=True)


def test_a_hugging_face_dataset_and_its_errors(corpus):
    frame = _examples_frame()
    [s] = corpus.ingest(FakeDataset(frame), predictor="handmade")
    assert s.role == "samples" and s.landed == len(frame) == s.predictions and s.dataset == "dataset"
    assert s.path.startswith("dataset '") and not s.issues
    with pytest.raises(CuratorError, match=r"DatasetDict holds several splits \(train, test\)"):
        corpus.ingest(FakeDatasetDict(train=FakeDataset(frame), test=FakeDataset(frame)))
    try:
        import datasets  # optional: the real thing when it is installed
    except ImportError:
        return
    [real] = corpus.ingest(datasets.Dataset.from_pandas(frame), predictor="handmade")
    assert real.sha256 == s.sha256 and real.new == 0


def test_in_memory_tables_get_the_files_errors(corpus):
    frame = pd.DataFrame({"prompt": ["Make it formal."], "instruction": ["Shorten it."]})
    with pytest.raises(CuratorError, match=r"dataframe 'x': cannot tell which column is rewrite_prompt.*--map"):
        corpus.ingest(frame, name="x")
    [s] = corpus.ingest(frame, name="x", mapping=["prompt=instruction"])
    assert s.landed == 1 and corpus.prompts().text.tolist() == ["Shorten it."]
    with pytest.raises(CuratorError, match="no rows"):
        corpus.ingest(pd.DataFrame({"prompt": []}))
    with pytest.raises(CuratorError, match="cannot ingest a set"):
        corpus.ingest({"Make it formal."})
    with pytest.raises(CuratorError, match="item 2 is a int"):
        corpus.ingest([{"prompt": "a"}, 3])
    # a list of strings is a list of paths (the existing API), and a missing one says so
    with pytest.raises(CuratorError, match="nope.csv: no such file"):
        corpus.ingest(["nope.csv"])
    # cells that are not strings: numbers as text, missing as empty (an empty prompt is reported)
    [m] = corpus.ingest([{"prompt": "Add 3 jokes.", "n": 3}, {"prompt": None, "n": 4.5}], name="mixed")
    assert m.landed == 1 and [i.row for i in m.issues] == [2] and "empty rewrite_prompt" in m.issues[0].reason
    meta = corpus.prompts(contains="jokes").meta.tolist()
    assert '"n":"3"' in meta[0]
