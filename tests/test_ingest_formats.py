"""Formats, encodings, column mapping and bad files: each bad file exits 2 with one line and
changes nothing in the store."""

import json

import pandas as pd
import pytest

from curator import CuratorError
from curator.ingest import ingest_file

TRIPLE = ("Our meeting moved to Friday.", "Make this more formal.",
          "Please note that our meeting has been rescheduled to Friday.")


def _store_state(root):
    from curator import Corpus

    with Corpus.open(root) as c:
        return {k: v for k, v in c.store.fingerprint().items() if k != "events"}


def _seed(cli, tmp_path):
    good = tmp_path / "good.csv"
    pd.DataFrame([dict(zip(("original_text", "rewrite_prompt", "rewritten_text"), TRIPLE))]).to_csv(good, index=False)
    assert cli("ingest", good).exit_code == 0
    return _store_state(cli.root)


BAD_FILES = {
    "truncated.csv": (b'original_text,rewrite_prompt,rewritten_text\n"a","b","c"\n"d","e","f is cut of',
                      "truncated"),
    "unknown.csv": (b"alpha,beta,gamma\n1,2,3\n4,5,6\n", "unknown layout"),
    "empty.csv": (b"", "empty"),
    "binary.csv": (bytes(range(256)) * 40, "binary"),
    "broken.json": (b'[{"prompt": "Shorten this."}, {"prompt": "Make it', "invalid JSON"),
    "broken.jsonl": (b'{"prompt": "Shorten this."}\n{"prompt": \n', "line 2"),
    "notparquet.parquet": (b"PAR1 this is not really parquet", "parquet"),
    "header_only.csv": (b"original_text,rewrite_prompt,rewritten_text\n", "only a header"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_exits_2_with_one_line_and_changes_nothing(cli, tmp_path, name):
    before = _seed(cli, tmp_path)
    data, needle = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_bytes(data)
    result = cli("ingest", bad)
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(bad) in lines[0]
    assert needle.lower() in lines[0].lower()
    assert _store_state(cli.root) == before


def test_unknown_layout_lists_columns_and_suggests_map(cli, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("alpha,beta\nRewrite this as a poem.,2\n")
    err = cli("ingest", f).stderr
    assert "alpha, beta" in err and "--map rewrite_prompt=" in err
    assert cli("ingest", f, "--map", "prompt=alpha").exit_code == 0


def test_ambiguous_columns_stop_with_the_map_to_use(cli, tmp_path):
    f = tmp_path / "amb.csv"
    f.write_text("rewrite_prompt,prompt,original_text,rewritten_text\na,b,c,d\n")
    result = cli("ingest", f)
    assert result.exit_code == 2
    assert "cannot tell which column is rewrite_prompt" in result.stderr
    assert "--map rewrite_prompt=rewrite_prompt" in result.stderr
    assert cli("ingest", f, "--map", "prompt=prompt").exit_code == 0


@pytest.mark.parametrize("encoding,label", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-bom"),
                                            ("cp1252", "cp1252")])
def test_encodings(corpus, tmp_path, encoding, label):
    f = tmp_path / f"{label}.csv"
    text = "rewrite_prompt\nRewrite this as a café menu — “fancy”.\nMake it naïve.\n"
    f.write_bytes(text.encode(encoding))
    s = ingest_file(corpus, f)
    assert s.encoding == label and s.columns == {"rewrite_prompt": "rewrite_prompt"}
    assert sorted(corpus.prompts().text) == ["Make it naïve.", "Rewrite this as a café menu — “fancy”."]


def test_all_formats_give_the_same_samples(tmp_path):
    from curator import Corpus

    rows = [dict(original_text=f"Text number {i}.\nSecond line, with \"quotes\".", rewrite_prompt=f"Prompt {i}",
                 rewritten_text=f"Rewrite {i} — naïve") for i in range(5)]
    frame = pd.DataFrame(rows)
    files = {
        "s.csv": lambda p: frame.to_csv(p, index=False),
        "s.tsv": lambda p: frame.to_csv(p, index=False, sep="\t"),
        "s.json": lambda p: p.write_text(json.dumps(rows)),
        "s.jsonl": lambda p: p.write_text("\n".join(json.dumps(r) for r in rows) + "\n"),
        "s.parquet": lambda p: frame.to_parquet(p),
    }
    seen = []
    for name, write in files.items():
        path = tmp_path / name
        write(path)
        with Corpus.init(tmp_path / f"c_{name}") as c:
            s = ingest_file(c, path)
            assert s.role == "samples" and s.landed == 5, name
            seen.append(sorted(map(tuple, c.samples()[["id", "original_text", "rewrite_prompt",
                                                         "rewritten_text"]].values.tolist())))
    assert all(s == seen[0] for s in seen)


def test_json_list_of_strings_and_headerless_list(corpus, tmp_path):
    (tmp_path / "l.json").write_text(json.dumps(["Shorten this.", "Make it rhyme."]))
    (tmp_path / "h.csv").write_text("Rewrite this as a limerick.\nTranslate this into French.\n")
    assert ingest_file(corpus, tmp_path / "l.json").new == 2
    s = ingest_file(corpus, tmp_path / "h.csv")
    assert s.rows == 2 and s.new == 2  # first line is a prompt, not a header


def test_bad_rows_are_reported_not_dropped(corpus, tmp_path):
    f = tmp_path / "rows.csv"
    f.write_text("original_text,rewrite_prompt,rewritten_text\na,Shorten,b\n,Shorten,b\nc,,d\ne,Poem,f\n")
    s = ingest_file(corpus, f)
    assert s.rows == 4 and s.landed == 2
    assert [(i.row, i.reason.split(" (")[0]) for i in s.issues] == [(2, "empty original_text"),
                                                                      (3, "empty rewrite_prompt")]


def test_as_target_and_status(corpus, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("rewrite_prompt,original_text,rewritten_text\nMake it a sea shanty,x,y\n")
    ingest_file(corpus, f, role="target")
    assert corpus.samples().status.tolist() == ["target"]
    assert corpus.store.scalar("SELECT role FROM provenance WHERE item_kind='prompt'") == "target"
    with pytest.raises(CuratorError, match="--as"):
        ingest_file(corpus, f, role="nonsense")


def test_missing_file_is_one_line(cli, tmp_path):
    result = cli("ingest", tmp_path / "nope.csv")
    assert result.exit_code == 2 and "no such file" in result.stderr
