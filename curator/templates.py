"""Prompt templates and multi-instruction combinations from a change taxonomy.

The best public training data for prompt recovery came from short hand-written templates whose
placeholders were filled from word lists ("Rewrite this {text} in the style of {author}.") and
from prompts that ask for two or three changes at once ("Rewrite this memo in a humorous tone and
shorten it to under 50 words."). This module makes both reproducible:

* **templates** live in ``<corpus>/templates/*.toml``: one table per change category, one line per
  template (``id = "text"``); ``{name}`` is a placeholder, ``{{`` / ``}}`` are literal braces.
* **vocabularies** live in ``<corpus>/vocab/*.toml`` (or ``.json`` lists): one list per
  placeholder. A vocabulary marked ``sampled = true`` (the text-type nouns: email, memo, poem…) is
  drawn once per prompt instead of multiplying the cross product, and never repeats a word the
  prompt already says ("Rewrite this poem as a poem" cannot happen).
* **combination parts** (``[parts.<category>]`` tables) are clauses with a ``first`` form that
  opens a prompt and a ``then`` form that continues it; a declared **conflict table** (tag pairs,
  plus tags implied by filled values) keeps contradictory changes (shorten vs expand, formal vs
  informal…) out of the same prompt.

Everything is seeded: the same seed and files give the same prompts, and each template draws from
its own random stream (seeded by seed and template id), so adding a template changes nobody else's
output. See ``docs/templates.md`` for the file formats.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from .errors import CuratorError
from .placeholders import find_placeholders, normalise_placeholders

if TYPE_CHECKING:
    from .items import AddResult
    from .context import Context

__all__ = [
    "Slot", "Template", "Vocabulary", "Part", "Conflicts", "Library", "Expansion", "Combination",
    "TemplateSyntaxError", "parse", "load_library", "load_vocabularies", "load_template_files",
    "cross_size", "expected_count", "expand_template", "expand", "draw_combinations", "combine",
    "scraped_template", "store_expansions", "store_combinations", "JOINERS",
]

NAME = re.compile(r"[a-z][a-z0-9_]*")
RESERVED_TABLES = ("parts", "conflicts")
# how many tries a combination draw gets before the categories are declared incompatible
MAX_TRIES = 200

# Natural joins of k clauses. {A} is the first clause capitalised, {a} the same clause with a
# lower-case first letter (after "Please"), {b} / {c} the continuation clauses.
JOINERS: dict[int, tuple[str, ...]] = {
    2: ("{A} and {b}.", "{A}, then {b}.", "{A}, and also {b}.", "Please {a} and {b}."),
    3: ("{A}, {b}, and {c}.", "{A}, {b}, then {c}.", "{A} and {b}, then {c}.",
        "Please {a}, {b}, and {c}."),
}

_STOPWORDS = frozenset("a an the of to in on for and or with this that it its as by from into".split())
_WORDS = re.compile(r"[\w']+")


# -- parsing ---------------------------------------------------------------------------------------
class TemplateSyntaxError(ValueError):
    """A template text that cannot be parsed; ``column`` is 1-based within the text."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Slot:
    """A ``{name}`` placeholder in a parsed template."""

    name: str


Segment = str | Slot


def parse(text: str) -> tuple[Segment, ...]:
    """Split a template into literal strings and :class:`Slot` placeholders.

    ``{{`` and ``}}`` are literal braces; ``{name}`` (lower-case snake_case) is a placeholder.
    Anything else with a brace is an error, because a stray brace in a template is nearly always
    a typo that would otherwise leak into thousands of prompts.

    >>> parse("Rewrite this {text} as {{JSON}}.")
    ('Rewrite this ', Slot(name='text'), ' as {JSON}.')
    """
    out: list[Segment] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                buf.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            inner = text[i + 1:end] if end != -1 else ""
            if end == -1 or "{" in inner:
                raise TemplateSyntaxError(f"unbalanced '{{' at column {i + 1}; write '{{{{' for a literal brace",
                                          i + 1)
            if not NAME.fullmatch(inner):
                raise TemplateSyntaxError(
                    f"bad placeholder {{{inner}}} at column {i + 1}: names are lower-case snake_case "
                    f"like {{tone}}; write '{{{{' for a literal brace", i + 1)
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(Slot(inner))
            i = end + 1
        elif ch == "}":
            if text.startswith("}}", i):
                buf.append("}")
                i += 2
                continue
            raise TemplateSyntaxError(f"unbalanced '}}' at column {i + 1}; write '}}}}' for a literal brace", i + 1)
        else:
            buf.append(ch)
            i += 1
    if buf:
        out.append("".join(buf))
    return tuple(out)


def slot_names(segments: Sequence[Segment]) -> list[str]:
    """Placeholder names in order of first appearance, each once."""
    seen: dict[str, None] = {}
    for seg in segments:
        if isinstance(seg, Slot):
            seen.setdefault(seg.name, None)
    return list(seen)


# -- data ------------------------------------------------------------------------------------------
@dataclass
class Vocabulary:
    """Values for one placeholder; ``sampled`` ones are drawn per prompt, not crossed."""

    name: str
    values: list[str]
    sampled: bool = False
    aliases: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


@dataclass
class Template:
    id: str
    category: str
    text: str
    file: Path
    line: int
    segments: tuple[Segment, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def placeholders(self) -> list[str]:
        return slot_names(self.segments)


@dataclass
class Part:
    """One combinable change: ``first`` opens a prompt, ``then`` continues one ("and …")."""

    id: str
    category: str
    first: tuple[Segment, ...]
    then: tuple[Segment, ...]
    tags: frozenset[str]
    order: int
    file: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Conflicts:
    """Tag pairs that must never meet in one prompt, and the tags a filled value implies.

    A pair of one tag (``["form", "form"]``) means two different parts carrying it conflict.
    """

    pairs: set[frozenset[str]] = field(default_factory=set)
    value_tags: dict[str, set[str]] = field(default_factory=dict)  # casefolded value -> tags

    def tags_of(self, part: Part, values: dict[str, str]) -> set[str]:
        tags = set(part.tags)
        for name in slot_names(part.first + part.then):
            if name in values:
                tags |= self.value_tags.get(values[name].casefold(), set())
        return tags

    def clash(self, a: set[str], b: set[str]) -> tuple[str, str] | None:
        for x in a:
            for y in b:
                if frozenset((x, y)) in self.pairs:
                    return (x, y)
        return None


@dataclass
class Library:
    """Everything ``expand`` and ``combine`` read: templates, parts, conflicts, vocabularies."""

    templates: dict[str, Template] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    conflicts: Conflicts = field(default_factory=Conflicts)
    vocab: dict[str, Vocabulary] = field(default_factory=dict)
    file_hashes: dict[Path, str] = field(default_factory=dict)

    def vocabulary(self, name: str) -> Vocabulary | None:
        """The vocabulary for a placeholder name, following aliases."""
        if name in self.vocab:
            return self.vocab[name]
        for v in self.vocab.values():
            if name in v.aliases:
                return v
        return None

    @property
    def categories(self) -> list[str]:
        return sorted({t.category for t in self.templates.values()})


@dataclass
class Expansion:
    text: str
    template: Template
    values: dict[str, str]
    index: int  # position in the template's cross product: stable for the same vocabularies


@dataclass
class Combination:
    text: str
    parts: list[Part]
    values: dict[str, str]
    tags: list[list[str]]
    index: int  # draw number for this seed

    @property
    def categories(self) -> list[str]:
        return [p.category for p in self.parts]


# -- loading ---------------------------------------------------------------------------------------
def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CuratorError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from exc
    except OSError as exc:
        raise CuratorError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        return tomllib.loads(raw), raw
    except tomllib.TOMLDecodeError as exc:
        raise CuratorError(f"{path}: invalid TOML: {exc}") from exc


def _key_lines(raw: str) -> dict[tuple[str, str], int]:
    """(table, key) -> 1-based line, so errors can name the line tomllib does not report."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    key = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_\-]+))\s*=""")
    for no, line in enumerate(raw.splitlines(), 1):
        if m := header.match(line):
            table = ".".join(p.strip().strip('"\'') for p in m.group(1).split("."))
        elif m := key.match(line):
            lines.setdefault((table, m.group(1) or m.group(2) or m.group(3)), no)
    return lines


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(paths: Iterable[Path], suffixes: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.is_file() and f.suffix in suffixes)
        elif p.is_file():
            out.append(p)
        else:
            raise CuratorError(f"{p}: no such file or directory")
    return out


def _clean_values(values: Any, where: str) -> list[str]:
    if not isinstance(values, list):
        raise CuratorError(f"{where}: a vocabulary must be a list of strings")
    out: dict[str, None] = {}
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise CuratorError(f"{where}: value {i + 1} is {type(v).__name__}, not a string")
        s = " ".join(str(v).split())
        if s:
            out.setdefault(s, None)
    return list(out)


def _vocab_name(raw: str, where: str, strict: bool) -> str:
    name = raw if strict else re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")
    if not NAME.fullmatch(name):
        raise CuratorError(f"{where}: vocabulary name {raw!r} must be lower-case snake_case like 'tone'")
    return name


def load_vocabularies(paths: Iterable[Path], into: dict[str, Vocabulary] | None = None,
                      hashes: dict[Path, str] | None = None) -> dict[str, Vocabulary]:
    """Read vocabulary files (directories are read ``*.toml`` / ``*.json``, sorted by name).

    TOML: ``name = ["a", "b"]``, or a table ``[name]`` with ``values``, optional ``sampled``,
    ``aliases`` and ``replace``. JSON: a list (named after the file) or an object of lists. The
    same name in several files is one vocabulary with the values of all (``replace = true``
    starts it afresh), which is how a user extends the seed lists by dropping in a file.
    """
    vocab = {} if into is None else into
    for path in _files(paths, (".toml", ".json")):
        if hashes is not None:
            hashes[path] = _sha256(path)
        if path.suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise CuratorError(f"{path}: invalid JSON ({exc})") from exc
            entries = ({path.stem: data} if isinstance(data, list) else data) if isinstance(data, (list, dict)) \
                else None
            if entries is None:
                raise CuratorError(f"{path}: a JSON vocabulary is a list of strings or an object of lists")
            lines: dict[tuple[str, str], int] = {}
            strict = False
        else:
            entries, raw = _read_toml(path)
            lines, strict = _key_lines(raw), True
        for raw_name, spec in entries.items():
            line = lines.get(("", raw_name)) or lines.get((raw_name, "values"))
            where = f"{path}:{line}" if line else str(path)
            name = _vocab_name(raw_name, where, strict)
            options: dict[str, Any] = {}
            if isinstance(spec, dict):
                unknown = set(spec) - {"values", "sampled", "aliases", "replace"}
                if unknown:
                    raise CuratorError(f"{where}: unknown key(s) {sorted(unknown)} in [{name}]; "
                                       "allowed: values, sampled, aliases, replace")
                options, spec = spec, spec.get("values", [])
            values = _clean_values(spec, f"{where} ({name})")
            v = vocab.get(name)
            if v is None or options.get("replace"):
                v = vocab[name] = Vocabulary(name, [], files=[])
            v.values = list(dict.fromkeys(v.values + values))
            v.files.append(path)
            if "sampled" in options:
                v.sampled = bool(options["sampled"])
            for alias in options.get("aliases", []):
                v.aliases.append(_vocab_name(str(alias), where, True))
    return vocab


def _template_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise CuratorError(f"{where}: a template is a string (id = \"Rewrite this …\"), got {type(value).__name__}")
    return " ".join(value.split())


def _parse_at(text: str, where: str, what: str) -> tuple[Segment, ...]:
    try:
        return parse(text)
    except TemplateSyntaxError as exc:
        raise CuratorError(f"{where}: {what}: {exc}") from exc


def load_template_files(paths: Iterable[Path], library: Library, override: bool = False) -> Library:
    """Read template files into ``library``: ``.toml`` (our format) or ``.txt`` (one per line).

    A repeated template id is an error naming both places, unless ``override`` (``--templates``
    files replace seed templates of the same id). ``.txt`` lines are scraped-style prompts: their
    placeholder spellings are normalised (see :func:`scraped_template`).
    """
    for path in _files(paths, (".toml", ".txt")):
        library.file_hashes[path] = _sha256(path)
        if path.suffix == ".txt":
            _load_txt(path, library, override)
            continue
        data, raw = _read_toml(path)
        lines = _key_lines(raw)
        for table, body in data.items():
            if table == "description" and isinstance(body, str):
                continue
            if not isinstance(body, dict):
                raise CuratorError(f"{path}:{lines.get(('', table), '?')}: top-level {table!r} must be a "
                                   "[category] table of templates (or [parts.*] / [conflicts])")
            if table == "parts":
                _load_parts(path, body, lines, library)
            elif table == "conflicts":
                _load_conflicts(path, body, lines, library)
            else:
                category = _vocab_name(table, f"{path}", True)
                for tid, value in body.items():
                    line = lines.get((table, tid), 0)
                    where = f"{path}:{line}"
                    text = _template_text(value, where)
                    _add_template(library, Template(f"{category}.{tid}", category, text, path, line,
                                                    _parse_at(text, where, f"template {tid!r}")), override)
    return library


def _add_template(library: Library, t: Template, override: bool) -> None:
    old = library.templates.get(t.id)
    if old is not None and not override:
        raise CuratorError(f"{t.where}: template id {t.id!r} is already used at {old.where}; ids must be unique")
    library.templates[t.id] = t


def _load_txt(path: Path, library: Library, override: bool) -> None:
    text = path.read_text(encoding="utf-8")
    for no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{no}"
        norm = scraped_template(line)
        _add_template(library, Template(f"{path.stem}:{no}", path.stem.lower(), norm, path, no,
                                        _parse_at(norm, where, "template")), override)


def _load_parts(path: Path, body: dict[str, Any], lines: dict, library: Library) -> None:
    for category, parts in body.items():
        if not isinstance(parts, dict):
            raise CuratorError(f"{path}: [parts.{category}] must be a table of parts")
        for pid, spec in parts.items():
            line = lines.get((f"parts.{category}", pid), 0)
            where = f"{path}:{line}"
            if not isinstance(spec, dict) or not isinstance(spec.get("first"), str) \
                    or not isinstance(spec.get("then"), str):
                raise CuratorError(f"{where}: part {pid!r} needs first = \"…\" and then = \"…\" strings")
            unknown = set(spec) - {"first", "then", "tags", "order"}
            if unknown:
                raise CuratorError(f"{where}: part {pid!r}: unknown key(s) {sorted(unknown)}")
            first = spec["first"].strip().rstrip(".")
            then = spec["then"].strip().rstrip(".")
            library.parts.append(Part(
                f"{category}.{pid}", _vocab_name(category, where, True),
                _parse_at(first, where, f"part {pid!r} (first)"), _parse_at(then, where, f"part {pid!r} (then)"),
                frozenset(str(t) for t in spec.get("tags", [])), int(spec.get("order", 50)), path, line))


def _load_conflicts(path: Path, body: dict[str, Any], lines: dict, library: Library) -> None:
    where = f"{path}:{lines.get(('conflicts', 'pairs'), '?')}"
    for pair in body.get("pairs", []):
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(t, str) for t in pair):
            raise CuratorError(f"{where}: conflicts.pairs holds [\"tag\", \"tag\"] pairs, got {pair!r}")
        library.conflicts.pairs.add(frozenset(pair))
    for tag, values in body.get("values", {}).items():
        for v in _clean_values(values, f"{path}: [conflicts.values] {tag}"):
            library.conflicts.value_tags.setdefault(v.casefold(), set()).add(tag)


def load_library(root: Path | None, templates: Sequence[Path] = (), vocab: Sequence[Path] = (),
                 validate_all: bool = True) -> Library:
    """Templates and vocabularies of a corpus directory, plus extra files (which override).

    Reads ``root/templates`` and ``root/vocab`` when they exist, then ``templates`` / ``vocab``
    (files or directories). Every template and part is validated before anything is expanded:
    unknown placeholder or empty vocabulary stops with the file and line.
    """
    library = Library()
    if root is not None and (root / "vocab").is_dir():
        load_vocabularies([root / "vocab"], library.vocab, library.file_hashes)
    if vocab:
        load_vocabularies(vocab, library.vocab, library.file_hashes)
    if root is not None and (root / "templates").is_dir():
        load_template_files([root / "templates"], library)
    if templates:
        load_template_files(templates, library, override=True)
    if validate_all:
        validate(library)
    return library


def validate(library: Library) -> None:
    """No alias belongs to two vocabularies (a vocabulary's own name beats any alias); every
    placeholder of every template and part has a non-empty vocabulary."""
    owner: dict[str, Vocabulary] = {}
    for v in library.vocab.values():
        for alias in v.aliases:
            other = owner.get(alias)
            if other is not None and other is not v:
                raise CuratorError(f"{v.files[-1]}: alias {alias!r} of [{v.name}] is already an alias of "
                                   f"[{other.name}] ({other.files[-1]}); remove one of them")
            owner[alias] = v
    for t in library.templates.values():
        _check_slots(library, t.placeholders, t.where, f"template {t.id!r}")
    for p in library.parts:
        _check_slots(library, slot_names(p.first + p.then), p.where, f"part {p.id!r}")


def _check_slots(library: Library, names: Iterable[str], where: str, what: str) -> None:
    for name in names:
        v = library.vocabulary(name)
        if v is None:
            known = ", ".join(sorted(library.vocab)) or "none"
            raise CuratorError(f"{where}: {what}: unknown placeholder {{{name}}}; add a list named {name!r} "
                               f"to a vocab/*.toml file (known: {known})")
        if not v.values:
            files = ", ".join(str(f) for f in v.files)
            raise CuratorError(f"{where}: {what}: placeholder {{{name}}} has an empty vocabulary ({files}); "
                               "add values or remove the placeholder")


# -- rendering -------------------------------------------------------------------------------------
def _article(value: str) -> str:
    """'a' or 'an' before ``value``, by sound for the common cases (an hour, a unicorn, an SQL)."""
    word = value.split()[0] if value.split() else value
    low = word.lower()
    if len(word) > 1 and (word.isupper() or not word[1:2].isalpha()) and word[0].isalpha():
        return "an" if word[0].upper() in "AEFHILMNORSX" else "a"  # read as letters
    if low.startswith(("hour", "honest", "honou", "honor", "heir")):
        return "an"
    if low.startswith(("uni", "use", "usu", "uti", "eu", "one", "once", "ukul", "ura", "uro")):
        return "a"
    return "an" if low[:1] in "aeiou" else "a"


def render(segments: Sequence[Segment], values: dict[str, str]) -> str:
    """Fill the slots; a literal "a"/"an" right before a slot agrees with the filled value."""
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, Slot):
            value = values[seg.name]
            if out:
                m = re.search(r"(?:^|(?<=\W))([Aa]n?) $", out[-1])
                if m and value:
                    art = _article(value)
                    art = art.capitalize() if m.group(1)[0] == "A" else art
                    out[-1] = out[-1][:m.start(1)] + art + " "
            elif value:
                value = value[0].upper() + value[1:]
            out.append(value)
        else:
            out.append(seg)
    return "".join(out)


def _words(text: str) -> set[str]:
    words = {w.lower().strip("'") for w in _WORDS.findall(text)} - _STOPWORDS
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}


class _Deck:
    """Draws a sampled vocabulary without replacement (reshuffling when spent), skipping values
    that would repeat a word of the prompt, so one template's prompts spread over the nouns."""

    def __init__(self, values: list[str], rng: random.Random):
        self.values, self.rng, self.pile = values, rng, []  # type: list[str]

    def draw(self, avoid: set[str]) -> str:
        for _ in range(2):
            if not self.pile:
                self.pile = self.values[:]
                self.rng.shuffle(self.pile)
            for i in range(len(self.pile) - 1, -1, -1):
                if not (_words(self.pile[i]) & avoid):
                    return self.pile.pop(i)
            self.pile = []  # nothing fits in what is left: try a full deck once
        return self.rng.choice(self.values)  # every value repeats a word: take one anyway


def _fill_sampled(segments: Sequence[Segment], sampled: list[str], values: dict[str, str],
                  decks: dict[str, _Deck], names: dict[str, str]) -> None:
    """Choose the sampled slots last, avoiding every word already in the prompt."""
    for name in sampled:
        placeholder = {n: "" for n in sampled if n not in values}
        avoid = _words(render(segments, {**values, **placeholder}))
        values[name] = decks[names[name]].draw(avoid)


# -- expansion -------------------------------------------------------------------------------------
def _split(library: Library, names: Iterable[str]) -> tuple[list[str], list[str]]:
    crossed, sampled = [], []
    for n in names:
        (sampled if library.vocabulary(n).sampled else crossed).append(n)  # type: ignore[union-attr]
    return crossed, sampled


def cross_size(library: Library, template: Template) -> int:
    """Size of the template's cross product (sampled placeholders do not multiply it)."""
    crossed, _ = _split(library, template.placeholders)
    return math.prod(len(library.vocabulary(n).values) for n in crossed)  # type: ignore[union-attr]


def expected_count(library: Library, template: Template, max_per_template: int) -> int:
    """How many prompts :func:`expand_template` makes: min(cross product, cap); cap 0 = no cap."""
    size = cross_size(library, template)
    return size if max_per_template <= 0 else min(size, max_per_template)


def expand_template(library: Library, template: Template, max_per_template: int = 25,
                    seed: int = 0) -> list[Expansion]:
    """The template's prompts: a seeded sample (without repeats) of its cross product.

    The sample is drawn by index from ``range(size)`` (no materialised product, so a template with
    a billion combinations costs the same as one with ten) and kept in index order.
    """
    crossed, sampled = _split(library, template.placeholders)
    vocabs = {n: library.vocabulary(n) for n in template.placeholders}
    size = cross_size(library, template)
    rng = random.Random(f"{seed}:{template.id}")
    count = expected_count(library, template, max_per_template)
    indices = range(size) if count == size else sorted(rng.sample(range(size), count))
    decks = {vocabs[n].name: _Deck(vocabs[n].values, rng) for n in sampled}  # type: ignore[union-attr]
    canon = {n: vocabs[n].name for n in sampled}  # type: ignore[union-attr]
    out = []
    for index in indices:
        values: dict[str, str] = {}
        rest = index
        for name in reversed(crossed):  # mixed radix, last placeholder fastest
            vals = vocabs[name].values  # type: ignore[union-attr]
            rest, digit = divmod(rest, len(vals))
            values[name] = vals[digit]
        _fill_sampled(template.segments, sampled, values, decks, canon)
        values = {n: values[n] for n in template.placeholders}
        out.append(Expansion(render(template.segments, values), template, values, index))
    return out


def expand(library: Library, max_per_template: int = 25, seed: int = 0,
           categories: Sequence[str] | None = None) -> Iterator[Expansion]:
    """Every template's expansions, templates in id order."""
    for tid in sorted(library.templates):
        t = library.templates[tid]
        if categories and t.category not in categories:
            continue
        yield from expand_template(library, t, max_per_template, seed)


# -- combination -----------------------------------------------------------------------------------
def _parts_by_category(library: Library, categories: Sequence[str] | None) -> dict[str, list[Part]]:
    by: dict[str, list[Part]] = {}
    for p in library.parts:
        if not categories or p.category in categories:
            by.setdefault(p.category, []).append(p)
    return by


def draw_combinations(library: Library, k: int = 2, seed: int = 0,
                      categories: Sequence[str] | None = None) -> Iterator[Combination]:
    """An endless seeded stream of conflict-free k-part prompts from k distinct categories.

    Each draw picks k categories, one part in each and the values of its placeholders, and keeps
    it only when no two parts' tags (their own plus those implied by the values) form a declared
    conflict pair; otherwise it draws again. Parts are ordered by their ``order`` so that a
    translation or encoding comes last ("…, then translate it into French").
    """
    if k not in JOINERS:
        raise CuratorError(f"--k must be one of {sorted(JOINERS)}, got {k}")
    by = _parts_by_category(library, categories)
    if categories:
        missing = sorted(set(categories) - set(by))
        if missing:
            raise CuratorError(f"no combination parts in categories {missing}; categories with parts: "
                               f"{sorted({p.category for p in library.parts})}")
    if len(by) < k:
        raise CuratorError(f"need parts in at least {k} categories to combine {k} changes, found "
                           f"{len(by)} ({', '.join(sorted(by)) or 'none'}); add [parts.<category>] tables")
    rng = random.Random(f"combine:{seed}:{k}")
    cats = sorted(by)
    decks: dict[str, _Deck] = {}
    index = 0
    while True:
        for _ in range(MAX_TRIES):
            picked = [rng.choice(by[c]) for c in rng.sample(cats, k)]
            picked.sort(key=lambda p: p.order)
            combo = _fill_combination(library, picked, rng, decks, index)
            if combo is not None:
                break
        else:
            raise CuratorError(f"no conflict-free combination of {k} parts found in {MAX_TRIES} draws "
                               f"from categories {cats}; relax [conflicts] or add parts")
        yield combo
        index += 1


def _fill_combination(library: Library, parts: list[Part], rng: random.Random,
                      decks: dict[str, _Deck], index: int) -> Combination | None:
    forms = [parts[0].first] + [p.then for p in parts[1:]]
    names = slot_names([s for f in forms for s in f])
    crossed, sampled = _split(library, names)
    values = {n: rng.choice(library.vocabulary(n).values) for n in crossed}  # type: ignore[union-attr]
    tags = [library.conflicts.tags_of(p, values) for p in parts]
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            if library.conflicts.clash(tags[i], tags[j]):
                return None
    canon = {n: library.vocabulary(n).name for n in sampled}  # type: ignore[union-attr]
    for n in sampled:
        decks.setdefault(canon[n], _Deck(library.vocabulary(n).values, rng))  # type: ignore[union-attr]
    joined: list[Segment] = [s for f in forms for s in (*f, " ")]
    _fill_sampled(joined, sampled, values, decks, canon)
    clauses = [render(f, values) for f in forms]
    joiner = rng.choice(JOINERS[len(parts)])
    first = clauses[0]
    lower = first if first[1:2].isupper() else first[:1].lower() + first[1:]
    text = joiner.format(A=first[:1].upper() + first[1:], a=lower, b=clauses[1],
                         c=clauses[2] if len(clauses) > 2 else "")
    return Combination(text, parts, {n: values[n] for n in names}, [sorted(t) for t in tags], index)


def combine(library: Library, k: int = 2, n: int = 100, seed: int = 0,
            categories: Sequence[str] | None = None, max_draws: int | None = None) -> list[Combination]:
    """``n`` distinct combined prompts (fewer when the parts cannot make that many)."""
    seen: set[str] = set()
    out: list[Combination] = []
    limit = max_draws if max_draws is not None else max(1000, 50 * n)
    for draws, combo in enumerate(draw_combinations(library, k, seed, categories)):
        if len(out) >= n or draws >= limit:
            break
        key = " ".join(combo.text.casefold().split())
        if key not in seen and not find_placeholders(combo.text):  # a slot left unfilled: a template, skip
            seen.add(key)
            out.append(combo)
    return out


# -- scraped templates -----------------------------------------------------------------------------
_PASSAGE_SLOTS = ("text", "passage", "paragraph", "content", "article", "essay", "message")
_DETERMINERS = re.compile(r"(?:\b(?:this|the|that|my|your|a|an|our|following|these|his|her|their)\s+)$",
                          re.IGNORECASE)


def scraped_template(text: str) -> str:
    """A prompt found on the web as one of our templates.

    Placeholder spellings (``[insert text]``, ``<topic>``, ``{{tone}}``, ``[TONE]``) become
    ``{name}`` (:func:`curator.placeholders.normalise_placeholders`); a bare passage slot ("Rewrite
    [TEXT] formally") becomes "this {text}", since in our templates ``{text}`` is the text-type
    noun; any other brace left over is escaped so it stays literal.
    """
    norm = normalise_placeholders(" ".join(text.split()))
    pieces = re.split(r"(\{[a-z][a-z0-9_]*\})", norm)
    out: list[str] = []
    for piece in pieces:
        m = re.fullmatch(r"\{([a-z][a-z0-9_]*)\}", piece)
        if not m:
            out.append(piece.replace("{", "{{").replace("}", "}}"))
            continue
        name = m.group(1)
        if name in _PASSAGE_SLOTS:
            before = "".join(out)
            out.append("{text}" if _DETERMINERS.search(before) else "this {text}")
        else:
            out.append(piece)
    return "".join(out)


# -- storing ---------------------------------------------------------------------------------------
def _file_label(library: Library, path: Path) -> str:
    return path.name


def store_expansions(corpus: "Context", library: Library, expansions: Iterable[Expansion]) -> "AddResult":
    """Write expansions as prompts (origin=template) with provenance, in the caller's transaction."""
    from .items import PromptRecord, Provenance, add_prompts

    records = [PromptRecord(
        e.text, "template",
        Provenance(dataset="templates", role="template", file=_file_label(library, e.template.file),
                   sha256=library.file_hashes.get(e.template.file), row=e.index, context=e.template.id),
        source="templates", category=e.template.category,
        meta={"template_id": e.template.id, "values": e.values}) for e in expansions]
    return add_prompts(corpus.store.conn, records)


def store_combinations(corpus: "Context", library: Library, combos: Iterable[Combination],
                       seed: int = 0) -> "AddResult":
    """Write combined prompts (origin=combined, category=multi) with provenance."""
    from .items import PromptRecord, Provenance, add_prompts

    records = []
    for c in combos:
        files = sorted({p.file for p in c.parts})
        digest = hashlib.sha256("".join(library.file_hashes.get(f, "") for f in files).encode()).hexdigest()
        records.append(PromptRecord(
            c.text, "combined",
            Provenance(dataset="templates", role="combined", file=",".join(f.name for f in files),
                       sha256=digest, row=c.index, context=f"seed={seed} " + "+".join(p.id for p in c.parts)),
            source="templates", category="multi",
            meta={"parts": [{"id": p.id, "category": p.category, "tags": t}
                            for p, t in zip(c.parts, c.tags)],
                  "categories": c.categories, "values": c.values}))
    return add_prompts(corpus.store.conn, records)
