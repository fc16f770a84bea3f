"""docs/quickstart.ipynb runs top to bottom in a real Jupyter kernel, with a progress display."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "quickstart.ipynb"


def _text(output: dict) -> str:
    if output["output_type"] == "stream":
        return output["text"]
    data = output.get("data", {})
    return data.get("text/html") or data.get("text/plain") or ""


def test_quickstart_notebook_runs_the_whole_loop(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="the dev extras (nbformat, nbclient, ipykernel) are needed")
    nbclient = pytest.importorskip("nbclient", reason="the dev extras (nbclient, ipykernel) are needed")
    pytest.importorskip("ipykernel", reason="the dev extras (ipykernel) are needed")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    started = time.monotonic()
    nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    elapsed = time.monotonic() - started
    outputs = {i: "\n".join(_text(o) for o in c.outputs) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    everything = "\n".join(outputs.values())
    assert not any(o["output_type"] == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    # the long step shows a live notebook progress bar, finished
    assert 'class="curator-progress"' in everything and "embed (all-MiniLM-L6-v2): " in everything
    assert "(100%)" in everything and "· done</code>" in everything
    # the loop really ran: files in the corpus it made, decisions, the export
    corpus = tmp_path / "quickstart-corpus"
    assert (corpus / "curator.db").exists()
    import pandas as pd

    train, val = (pd.read_csv(corpus / "out" / name) for name in ("train.csv", "train.val.csv"))
    assert list(train.columns) == ["id", "original_text", "rewrite_prompt", "rewritten_text"]
    assert len(train) + len(val) == 12 and len(val) >= 1  # the 12 promoted, split by prompt
    assert "'selected': 12, 'promoted': 12" in everything and "{'selected': 2, 'rejected': 2}" in everything
    assert "32 pairs · mean SCS" in everything and "new prompts" in everything
    print(f"notebook executed in {elapsed:.1f} s")
