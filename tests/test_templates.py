"""The template expander and the combiner, as a library: parsing, properties, the seed corpus."""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import assume, given, settings, strategies as st

from curator import templates as tpl
from curator.errors import CuratorError

REPO = Path(__file__).resolve().parents[1]
SEED = tpl.seed_dir()
TAXONOMY = ("length", "tone", "style", "removal", "addition", "translation", "format", "encoding",
            "perspective", "audience", "grammar", "clarity", "compliance", "emphasis")
LEFTOVER = re.compile(r"\{[a-z][a-z0-9_]*\}")


@pytest.fixture(scope="module")
def seed_library() -> tpl.Library:
    return tpl.load_library(None)  # the packaged seed set


# -- parsing -------------------------------------------------------------------------------------
def test_parse_escapes_and_slots():
    assert tpl.parse("Rewrite {text} as {{JSON}} and }}") == (
        "Rewrite ", tpl.Slot("text"), " as {JSON} and }")
    assert tpl.slot_names(tpl.parse("{a} {b} {a}")) == ["a", "b"]


@pytest.mark.parametrize("bad, column", [
    ("Rewrite {tone", 9), ("Rewrite tone}", 13), ("Make {Tone} better", 6), ("a {b {c}}", 3),
    ("a {} b", 3), ("x {tone.name}", 3),
])
def test_parse_errors_name_the_column(bad, column):
    with pytest.raises(tpl.TemplateSyntaxError) as err:
        tpl.parse(bad)
    assert err.value.column == column


def test_articles_agree_with_the_value():
    segs = tpl.parse("Rewrite this in a {tone} tone as an {form}.")
    assert tpl.render(segs, {"tone": "archaic", "form": "haiku"}) == "Rewrite this in an archaic tone as a haiku."
    assert tpl.render(segs, {"tone": "unusual", "form": "SQL query"}) == \
        "Rewrite this in an unusual tone as an SQL query."
    assert tpl.render(segs, {"tone": "one-sided", "form": "R&B song"}) == \
        "Rewrite this in a one-sided tone as an R&B song."
    assert tpl.render(tpl.parse("A {x} day"), {"x": "hour-long"}) == "An hour-long day"
    assert tpl.render(tpl.parse("{x} said so"), {"x": "a pirate"}) == "A pirate said so"


# -- properties of the expander ------------------------------------------------------------------
NAMES = ["tone", "author", "lang", "x1", "x2"]
VALUE = st.text(alphabet=st.sampled_from(list("abcXYZ éüñ'\"-.&")), min_size=1, max_size=8).map(str.strip) \
    .filter(bool)
LITERAL = st.lists(st.sampled_from(["Rewrite ", "THIS", " ", ".", "{{", "}}", "'", "É", "A "]), max_size=4) \
    .map("".join)


@st.composite
def libraries(draw):
    """A library with one template over 1–3 crossed placeholders (some repeated) and maybe a
    sampled {text} slot, with vocabularies of real-looking values (quotes, accents)."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    vocab = {n: tpl.Vocabulary(n, draw(st.lists(VALUE, min_size=1, max_size=6, unique=True))) for n in names}
    slots = names + draw(st.lists(st.sampled_from(names), max_size=2))
    if draw(st.booleans()):
        vocab["text"] = tpl.Vocabulary("text", ["email", "memo", "poem", "story"], sampled=True)
        slots.append("text")
    slots = draw(st.permutations(slots))
    text = "".join(draw(LITERAL) + "{" + s + "}" for s in slots) + draw(LITERAL)
    t = tpl.Template("t.one", "tone", text, Path("t.toml"), 1, tpl.parse(text))
    return tpl.Library(templates={t.id: t}, vocab=vocab)


@settings(max_examples=150, deadline=None)
@given(libraries(), st.integers(0, 40), st.integers(0, 10**6))
def test_expansion_properties(library, cap, seed):
    t = library.templates["t.one"]
    out = tpl.expand_template(library, t, cap, seed)
    crossed = [n for n in t.placeholders if not library.vocab[n].sampled]
    size = math.prod(len(library.vocab[n].values) for n in crossed)
    # the count formula
    assert len(out) == (size if cap == 0 else min(size, cap)) == tpl.expected_count(library, t, cap)
    assert len({e.index for e in out}) == len(out)
    escapes = t.text.count("{{")
    for e in out:
        # no placeholder left, and every literal brace is one that was escaped
        assert not any("{" + n + "}" in e.text for n in t.placeholders)
        assert escapes or not LEFTOVER.search(e.text)
        assert e.text.count("{") == escapes
        # a placeholder used twice got the same value: the text is the values rendered once each
        assert e.text == tpl.render(t.segments, e.values)
        assert set(e.values) == set(t.placeholders)
        for n, v in e.values.items():
            assert v in library.vocab[n].values
    # the same seed gives the same prompts
    assert [e.text for e in tpl.expand_template(library, t, cap, seed)] == [e.text for e in out]


@settings(max_examples=60, deadline=None)
@given(libraries(), st.integers(1, 10))
def test_different_seeds_choose_different_samples(library, cap):
    t = library.templates["t.one"]
    size = tpl.cross_size(library, t)
    assume(size > cap)
    runs = {tuple(e.index for e in tpl.expand_template(library, t, cap, seed)) for seed in range(12)}
    # C(size, cap) >= size >= 2 possible samples: twelve seeds all picking the same one would be
    # a (1/2)^11 coincidence at worst; it means the seed is ignored
    assert len(runs) > 1


def test_sampled_noun_never_repeats_a_word_of_the_prompt():
    vocab = {"text": tpl.Vocabulary("text", ["poem", "email", "memo", "blog post", "story"], sampled=True),
             "form": tpl.Vocabulary("form", ["poem", "short story", "blog post", "memo", "limerick"])}
    t = tpl.Template("s.form", "style", "Rewrite this {text} as a {form}.", Path("x"), 1,
                     tpl.parse("Rewrite this {text} as a {form}."))
    library = tpl.Library(templates={t.id: t}, vocab=vocab)
    for seed in range(30):
        for e in tpl.expand_template(library, t, 0, seed):
            noun, form = e.values["text"], e.values["form"]
            assert not (set(noun.split()) & set(form.split())), e.text
    # and one template's prompts spread over the nouns instead of repeating one
    nouns = [e.values["text"] for e in tpl.expand_template(library, t, 0, 7)]
    assert len(set(nouns)) >= 3


def test_huge_cross_products_are_sampled_without_materialising():
    vocab = {n: tpl.Vocabulary(n, [f"{n}{i}" for i in range(1000)]) for n in ("a", "b", "c", "d")}
    t = tpl.Template("big.t", "x", "{a} {b} {c} {d}", Path("x"), 1, tpl.parse("{a} {b} {c} {d}"))
    library = tpl.Library(templates={t.id: t}, vocab=vocab)
    assert tpl.cross_size(library, t) == 10**12
    out = tpl.expand_template(library, t, 50, 3)
    assert len({e.text for e in out}) == 50


# -- the seed corpus -----------------------------------------------------------------------------
def test_seed_corpus_covers_the_taxonomy(seed_library):
    lib = seed_library
    assert len(lib.templates) >= 150
    per_category = {c: sum(t.category == c for t in lib.templates.values()) for c in TAXONOMY}
    assert all(n >= 8 for n in per_category.values()), per_category
    for family in ("text", "tone", "writing_style", "author", "language", "poem_type",
                   "programming_language", "encoding", "text_format", "data_format", "song_genre", "person"):
        assert len(lib.vocab[family].values) >= 4, family
    assert lib.vocab["text"].sampled and not lib.vocab["tone"].sampled
    # realistic: short imperative prompts
    for t in lib.templates.values():
        assert t.text[0].isupper() and t.text.endswith("."), t.where
        assert len(t.text.split()) <= 20, t.where


def test_seed_expansion_is_clean(seed_library):
    out = list(tpl.expand(seed_library, 25, seed=0))
    assert len(out) == sum(tpl.expected_count(seed_library, t, 25) for t in seed_library.templates.values())
    for e in out:
        assert not LEFTOVER.search(e.text) and "{" not in e.text, e.text
        assert not re.search(r"\b[aA] [aeiouAEIOU]\w", e.text) or re.search(r"\b[aA] (uni|use|one|eu)", e.text), e.text
        assert "  " not in e.text


# -- combination ---------------------------------------------------------------------------------
def _raw_conflicts() -> tuple[dict[str, set[str]], set[frozenset[str]], dict[str, set[str]]]:
    """The conflict table read straight from the TOML, independently of the loader."""
    data = tomllib.loads((SEED / "templates" / "combine.toml").read_text(encoding="utf-8"))
    part_tags = {f"{cat}.{pid}": set(spec.get("tags", [])) for cat, parts in data["parts"].items()
                 for pid, spec in parts.items()}
    pairs = {frozenset(p) for p in data["conflicts"]["pairs"]}
    value_tags: dict[str, set[str]] = {}
    for tag, values in data["conflicts"]["values"].items():
        for v in values:
            value_tags.setdefault(v.casefold(), set()).add(tag)
    return part_tags, pairs, value_tags


@pytest.mark.parametrize("k", [2, 3])
def test_no_conflicting_pair_in_10000_draws(seed_library, k):
    part_tags, pairs, value_tags = _raw_conflicts()
    assert frozenset(("shorter", "longer")) in pairs and frozenset(("formal", "informal")) in pairs
    draws = list(itertools.islice(tpl.draw_combinations(seed_library, k, seed=11), 10_000))
    assert len(draws) == 10_000
    for c in draws:
        assert len(c.parts) == k and len(set(c.categories)) == k, c.text
        tags = []
        for p in c.parts:
            slots = tpl.slot_names(p.first + p.then)
            tags.append(part_tags[p.id] | {t for n in slots if n in c.values
                                           for t in value_tags.get(c.values[n].casefold(), ())})
        for i, j in itertools.combinations(range(k), 2):
            for a in tags[i]:
                for b in tags[j]:
                    assert frozenset((a, b)) not in pairs, (c.text, a, b)
        low = c.text.lower()
        assert not ("more formal" in low and "more casual" in low), c.text
        assert not (("shorten" in low or "concise" in low) and ("twice as long" in low or "more detail" in low)), c.text
        assert not LEFTOVER.search(c.text) and "{" not in c.text


def test_combined_prompts_are_one_natural_sentence(seed_library):
    combos = tpl.combine(seed_library, 3, n=300, seed=5)
    assert len(combos) == 300 and len({c.text for c in combos}) == 300
    for c in combos:
        body = c.text
        for v in c.values.values():
            body = body.replace(v, "VALUE")
        assert body.endswith(".") and ". " not in body[:-1] and "? " not in body, c.text
        assert body[0].isupper()
    # the translation / encoding parts come last
    for c in tpl.combine(seed_library, 2, n=300, seed=6):
        orders = [p.order for p in c.parts]
        assert orders == sorted(orders)


def test_combination_is_seeded_and_restricted_by_category(seed_library):
    a = [c.text for c in tpl.combine(seed_library, 2, n=50, seed=1)]
    assert a == [c.text for c in tpl.combine(seed_library, 2, n=50, seed=1)]
    assert a != [c.text for c in tpl.combine(seed_library, 2, n=50, seed=2)]
    only = tpl.combine(seed_library, 2, n=40, seed=1, categories=["tone", "length"])
    assert {frozenset(c.categories) for c in only} == {frozenset(("tone", "length"))}
    with pytest.raises(CuratorError, match="at least 3 categories"):
        tpl.combine(seed_library, 3, n=5, categories=["tone", "length"])
    with pytest.raises(CuratorError, match="no combination parts in categories"):
        tpl.combine(seed_library, 2, n=5, categories=["tone", "nonsense"])


def test_incompatible_categories_say_so(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "c.toml").write_text(
        '[parts.length]\nshort = { first = "Shorten this", then = "shorten it", tags = ["shorter"] }\n'
        '[parts.addition]\nmore = { first = "Expand this", then = "expand it", tags = ["longer"] }\n'
        '[conflicts]\npairs = [["shorter", "longer"]]\n', encoding="utf-8")
    library = tpl.load_library(tmp_path, seed=False)
    with pytest.raises(CuratorError, match="no conflict-free combination"):
        tpl.combine(library, 2, n=1)


# -- scraped placeholder conventions -------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("Rewrite [insert text] in a [TONE] tone.", "Rewrite this {text} in a {tone} tone."),
    ("Summarise the following [text] for <target audience>.", "Summarise the following {text} for {target_audience}."),
    ("Make this {{tone}}", "Make this {tone}"),
    ('Return {"tone": 1} for [TEXT]', 'Return {{"tone": 1}} for this {text}'),
])
def test_scraped_templates_are_normalised(raw, expected):
    assert tpl.scraped_template(raw) == expected
    tpl.parse(tpl.scraped_template(raw))  # always parseable


def test_aliases_let_scraped_names_find_seed_vocabularies(seed_library):
    for name, canonical in (("target_audience", "audience"), ("target_language", "language"),
                            ("tone", "tone"), ("number_of_words", "word_limit")):
        assert seed_library.vocabulary(name).name == canonical


def test_names_beat_aliases_and_ambiguous_aliases_stop(tmp_path):
    (tmp_path / "vocab").mkdir()
    (tmp_path / "vocab" / "a.toml").write_text(
        '[programming_language]\naliases = ["code"]\nvalues = ["Rust"]\n', encoding="utf-8")
    (tmp_path / "vocab" / "b.toml").write_text('code = ["YAML"]\n', encoding="utf-8")
    library = tpl.load_library(tmp_path, seed=False)
    assert library.vocabulary("code").values == ["YAML"]
    (tmp_path / "vocab" / "c.toml").write_text('[lang]\naliases = ["code"]\nvalues = ["Go"]\n', encoding="utf-8")
    with pytest.raises(CuratorError, match="alias 'code'"):
        tpl.load_library(tmp_path, seed=False)


@pytest.mark.parametrize("value, article", [
    ("urgent", "an"), ("urban", "an"), ("unusual", "an"), ("unicorn", "a"), ("European", "a"),
    ("one-line", "a"), ("hour", "an"), ("honest", "an"), ("HTML", "an"), ("FAQ", "an"), ("Q&A", "a"),
    ("R&B", "an"), ("JSON", "a"), ("haiku", "a"), ("ode", "an"), ("SQL", "an"), ("user", "a"),
])
def test_article_choice(value, article):
    assert tpl.render(tpl.parse("a {x}"), {"x": value}) == f"{article} {value}"
