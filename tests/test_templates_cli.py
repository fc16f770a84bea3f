"""`curator expand`, `curator combine`, `curator templates` on real corpora and the shared data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from curator import Corpus
from curator import templates as tpl
from curator.items import PromptRecord, Provenance, add_prompts

REPO = Path(__file__).resolve().parents[1]


def _seeded(cli) -> Path:
    """The CLI's corpus as `curator init` leaves it: it reads the seed set shipped in the package."""
    assert not (cli.root / "templates").exists() and not (cli.root / "vocab").exists()
    return cli.root


def _own_only(cli) -> Path:
    """The CLI's corpus reading only its own templates/ and vocab/ ([templates] seed = false)."""
    with open(cli.root / "curator.toml", "a", encoding="utf-8") as f:
        f.write("\n[templates]\nseed = false\n")
    return cli.root


def _rows(root: Path, sql: str, params=()):
    with Corpus.open(root) as c:
        return [dict(r) for r in c.store.query(sql, params)]


def test_expand_and_combine_the_seed_corpus(cli):
    root = _seeded(cli)
    r = cli("expand", "--seed", "1", "--max-per-template", "10", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    library = tpl.load_library(root)
    assert all(t.file.is_relative_to(tpl.seed_dir()) for t in library.templates.values())
    expected = sum(tpl.expected_count(library, t, 10) for t in library.templates.values())
    assert summary["prompts"] == expected and summary["templates"] == len(library.templates) >= 150
    rows = _rows(root, "SELECT p.text, p.category, p.meta, v.file, v.sha256, v.row, v.context, v.role "
                       "FROM prompts p JOIN provenance v ON v.item_id = p.id WHERE p.origin = 'template'")
    assert summary["new"] == len({r["text"] for r in rows}) > 500
    by_id = library.templates
    for row in rows:
        meta = json.loads(row["meta"])
        t = by_id[meta["template_id"]]
        assert row["category"] == t.category and row["context"] == t.id and row["role"] == "template"
        assert row["file"] == t.file.name and row["sha256"] == tpl._sha256(t.file)
        assert row["text"] == tpl.render(t.segments, meta["values"])
    # idempotent: the second run adds nothing
    again = json.loads(cli("expand", "--seed", "1", "--max-per-template", "10", "--json").stdout)
    assert again["new"] == 0 and again["existing"] == summary["prompts"]

    r = cli("combine", "--k", "2", "--n", "150", "--seed", "4", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["new"] == 150
    r = cli("combine", "--k", "3", "--n", "50", "--seed", "4", "--categories", "tone,length",
            "--categories", "translation", "--json")
    assert json.loads(r.stdout)["prompts"] == 50
    combined = _rows(root, "SELECT p.text, p.category, p.meta, v.role FROM prompts p JOIN provenance v "
                           "ON v.item_id = p.id WHERE p.origin = 'combined'")
    assert len(combined) == 200 and {r["category"] for r in combined} == {"multi"}
    for row in combined:
        meta = json.loads(row["meta"])
        k = len(meta["parts"])
        assert k in (2, 3) and len(set(meta["categories"])) == k and row["role"] == "combined"
        assert [p["category"] for p in meta["parts"]] == meta["categories"]
    three = [json.loads(r["meta"]) for r in combined if len(json.loads(r["meta"])["parts"]) == 3]
    assert all(set(m["categories"]) == {"tone", "length", "translation"} for m in three)

    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["prompts"]["by_origin"]["template"] == summary["new"]
    assert stats["prompts"]["by_origin"]["combined"] == 200
    assert stats["prompts"]["by_category"]["multi"] == 200
    events = _rows(root, "SELECT command FROM events WHERE command IN ('expand', 'combine')")
    assert [e["command"] for e in events] == ["expand", "expand", "combine", "combine"]


def test_dry_run_writes_nothing_and_lists_validate(cli):
    root = _seeded(cli)
    r = cli("expand", "--dry-run", "--show", "5", "--category", "tone", "--json")
    data = json.loads(r.stdout)
    assert set(data["by_category"]) == {"tone"} and len(data["shown"]) == 5
    assert _rows(root, "SELECT COUNT(*) AS n FROM prompts")[0]["n"] == 0
    listing = json.loads(cli("templates", "list", "--json").stdout)
    assert len(listing["templates"]) >= 150 and listing["parts"] > 50
    vocab = {v["name"]: v for v in json.loads(cli("templates", "vocab", "--json").stdout)}
    assert vocab["text"]["sampled"] and "target_audience" in vocab["audience"]["aliases"]


@pytest.mark.parametrize("template, vocab, where, message", [
    ('[tone]\nok = "Make this {tone}."\nbad = "Make this {tonee}."\n', 'tone = ["formal"]\n',
     "t.toml:3", "unknown placeholder {tonee}"),
    ('[tone]\n\n\nbad = "Rewrite this {tone in French."\n', 'tone = ["formal"]\n',
     "t.toml:4", "unbalanced '{' at column 14"),
    ('[tone]\nbad = "Rewrite this} now"\n', 'tone = ["formal"]\n', "t.toml:2", "unbalanced '}'"),
    ('[tone]\nfine = "Make this {tone}."\n', 'tone = []\n', "t.toml:2", "empty vocabulary"),
    ('[tone]\nbad = "Make this {Tone}."\n', 'tone = ["formal"]\n', "t.toml:2", "bad placeholder {Tone}"),
])
def test_bad_templates_stop_with_file_and_line(cli, template, vocab, where, message):
    _own_only(cli)
    (cli.root / "templates").mkdir()
    (cli.root / "vocab").mkdir()
    (cli.root / "templates" / "t.toml").write_text(template, encoding="utf-8")
    (cli.root / "vocab" / "v.toml").write_text(vocab, encoding="utf-8")
    r = cli("expand")
    assert r.exit_code == 2
    assert where in r.stderr and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert _rows(cli.root, "SELECT COUNT(*) AS n FROM prompts")[0]["n"] == 0


def test_duplicate_ids_and_bad_toml_are_reported(cli):
    (cli.root / "templates").mkdir()
    (cli.root / "vocab").mkdir()
    (cli.root / "templates" / "a.toml").write_text('[tone]\nx = "Make this formal."\n', encoding="utf-8")
    (cli.root / "templates" / "b.toml").write_text('[tone]\n\nx = "Make this casual."\n', encoding="utf-8")
    r = cli("expand")
    assert r.exit_code == 2 and "b.toml:3" in r.stderr and "a.toml:2" in r.stderr
    (cli.root / "templates" / "b.toml").write_text('[tone\nx = "y"\n', encoding="utf-8")
    r = cli("expand")
    assert r.exit_code == 2 and "b.toml: invalid TOML" in r.stderr and "line 1" in r.stderr


def test_users_extend_by_dropping_files(cli):
    root = _own_only(cli)
    (root / "templates").mkdir()
    (root / "vocab").mkdir()
    (root / "templates" / "mine.toml").write_text('[tone]\nt = "Make this {text} sound {tone}."\n', encoding="utf-8")
    (root / "vocab" / "a.toml").write_text('tone = ["formal", "grim"]\n[text]\nsampled = true\n'
                                           'values = ["memo"]\n', encoding="utf-8")
    first = json.loads(cli("expand", "--json").stdout)
    assert first["prompts"] == 2
    # a dropped vocabulary file extends the list; a dropped template file adds templates
    (root / "vocab" / "b.toml").write_text('tone = ["jolly", "formal"]\n', encoding="utf-8")
    (root / "templates" / "more.toml").write_text('[length]\ns = "Shorten this {text}."\n', encoding="utf-8")
    second = json.loads(cli("expand", "--json").stdout)
    assert second["prompts"] == 4 and second["new"] == 2
    texts = {r["text"] for r in _rows(root, "SELECT text FROM prompts")}
    assert texts == {"Make this memo sound formal.", "Make this memo sound grim.",
                     "Make this memo sound jolly.", "Shorten this memo."}
    # --templates overrides a template by id; a .txt file holds scraped-style prompts
    override = root.parent / "override.toml"
    override.write_text('[tone]\nt = "Rewrite this {text} in a {tone} way."\n', encoding="utf-8")
    scraped = root.parent / "found.txt"
    scraped.write_text("# found on a blog\nRewrite [TEXT] so it sounds <tone>.\n", encoding="utf-8")
    r = cli("expand", "--templates", str(override), "--templates", str(scraped), "--json", "--dry-run",
            "--show", "20")
    shown = set(json.loads(r.stdout)["shown"])
    assert "Rewrite this memo in a jolly way." in shown and "Make this memo sound jolly." not in shown
    assert "Rewrite this memo so it sounds grim." in shown


def test_corpus_files_replace_seed_ids_but_not_each_other(cli):
    """A user edits a seed template by putting one of the same id in <corpus>/templates."""
    seed = tpl.load_library(None)
    tid = "tone.formal" if "tone.formal" in seed.templates else sorted(seed.templates)[0]
    category, key = tid.split(".", 1)
    (cli.root / "templates").mkdir()
    (cli.root / "templates" / "mine.toml").write_text(f'[{category}]\n{key} = "Make this sound mine."\n',
                                                     encoding="utf-8")
    library = tpl.load_library(cli.root)
    assert library.templates[tid].text == "Make this sound mine."
    assert len(library.templates) == len(seed.templates) and len(library.parts) == len(seed.parts)
    shown = json.loads(cli("expand", "--dry-run", "--json", "--category", category, "--show", "500").stdout)["shown"]
    assert "Make this sound mine." in shown
    (cli.root / "templates" / "again.toml").write_text(f'[{category}]\n{key} = "Twice."\n', encoding="utf-8")
    r = cli("expand")
    assert r.exit_code == 2 and "already used at" in r.stderr and "mine.toml" in r.stderr


def test_stored_scraped_prompts_with_placeholders_expand(cli):
    root = _seeded(cli)
    scraped = ["Rewrite [insert text] in a [TONE] tone.", "Explain <topic> to [target audience].",
               "Translate this {{ text }} into [Target Language].", "Write a [WIDGET] about cats.",
               "Rewrite this as a pirate."]
    with Corpus.open(root) as c, c.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "scraped", Provenance("blog", "scraped", "https://x.test/p", row=i))
                           for i, t in enumerate(scraped)])
    r = cli("expand", "--scraped", "--category", "scraped", "--max-per-template", "5", "--json")
    data = json.loads(r.stdout)
    assert data["scraped_skipped"] == {"{widget}": 1}
    assert data["templates"] == 3 and data["prompts"] == 15
    texts = [r["text"] for r in _rows(root, "SELECT text FROM prompts WHERE origin = 'template'")]
    assert len(texts) == 15 and not any("[" in t or "<" in t or "{" in t for t in texts)
    assert sum(t.startswith("Rewrite this ") and t.endswith(" tone.") for t in texts) == 5
    assert sum(t.startswith("Translate this ") for t in texts) == 5


@pytest.mark.shared
def test_shared_procedural_parts_as_vocabularies(cli, shared_data, tmp_path):
    """The 11th-place solution's word lists (apostrophes, initials, long phrases) as vocabularies."""
    parts = shared_data / "prompts" / "procedural_parts"
    templates = tmp_path / "procedural.toml"
    templates.write_text(
        "[style]\n"
        'author = "Rewrite this text in the style of {authors}."\n'
        'accent = "Rewrite this in {accents}, in a {tone} tone."\n'
        'media = "Turn this into {mostly_fictional} with {to_inject} about the {themes}."\n'
        "[encoding]\n"
        'replace = "Replace every {to_replace} in this text with \\"{nouns_everyday}\\"."\n'
        'code = "Rewrite this as a {code} file written by {personalities}."\n'
        'words = "Rewrite this using only {constrain_words}, {{exactly}} like {authors}."\n',
        encoding="utf-8")
    lists = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in parts.glob("*.json")}
    cap = 60
    _own_only(cli)
    r = cli("expand", "--templates", templates, "--vocab", parts, "--max-per-template", cap, "--seed", 3,
            "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    sizes = {"author": len(lists["authors"]),
             "accent": len(lists["accents"]) * len(lists["tone"]),
             "media": len(lists["mostly_fictional"]) * len(lists["to_inject"]) * len(lists["themes"]),
             "replace": len(lists["to_replace"]) * len(lists["nouns_everyday"]),
             "code": len(lists["code"]) * len(lists["personalities"]),
             "words": len(lists["constrain_words"]) * len(lists["authors"])}
    assert data["prompts"] == sum(min(n, cap) for n in sizes.values())
    rows = _rows(cli.root, "SELECT text, meta FROM prompts WHERE origin = 'template'")
    assert len(rows) == data["new"] == data["prompts"]
    seen_authors = set()
    for row in rows:
        meta = json.loads(row["meta"])
        for name, value in meta["values"].items():
            assert value in lists[name], (name, value)       # verbatim: quotes, initials, accents
            assert value in row["text"] or value[0].upper() + value[1:] in row["text"]
        assert "{" not in row["text"].replace("{exactly}", "")
        if meta["template_id"] == "style.author":
            seen_authors.add(meta["values"]["authors"])
    assert seen_authors == set(lists["authors"])          # 14 < cap: the whole list, "P.G. Wodehouse" too
    texts = {r["text"] for r in rows}
    assert any("{exactly}" in t for t in texts)             # the escaped braces stayed literal
    assert "Rewrite this text in the style of F. Scott Fitzgerald." in texts
    # a/an agrees with the value: "in an archaic tone", "a sarcastic"
    accents = [t for t in texts if " tone." in t]
    assert accents and all((" an archaic tone" in t) or (" a archaic" not in t) for t in accents)
    assert not any(" a archaic" in t or " an formal" in t for t in texts)
