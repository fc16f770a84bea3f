"""Reading template, part and vocabulary files into a :class:`Library`, and validating it.

Where the files come from: the seed set shipped inside the package (``curator/seed/templates``
and ``curator/seed/vocab``, see :func:`seed_dir`), then the corpus's own ``templates/`` and
``vocab/`` directories (user additions: a template id replaces the seed template of that id, a
vocabulary of the same name adds its values), then ``--templates`` / ``--vocab`` files.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import CuratorError
from .conflicts import Conflicts
from .parse import NAME, Segment, TemplateSyntaxError, clean_values, parse, scraped_template, slot_names


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
class Library:
    """Everything ``expand`` and ``combine`` read: templates, parts, conflicts, vocabularies."""

    templates: dict[str, Template] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    conflicts: Conflicts = field(default_factory=Conflicts)
    vocab: dict[str, Vocabulary] = field(default_factory=dict)
    file_hashes: dict[Path, str] = field(default_factory=dict)
    # ids read from the seed: a corpus file may replace each of them once (later ids must be unique)
    replaceable: set[str] = field(default_factory=set)

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
            values = clean_values(spec, f"{where} ({name})")
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
                library.conflicts.load(path, body, lines)
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
    if old is not None and not override and t.id not in library.replaceable:
        raise CuratorError(f"{t.where}: template id {t.id!r} is already used at {old.where}; ids must be unique")
    library.replaceable.discard(t.id)
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
            part_id = f"{category}.{pid}"
            if part_id in library.replaceable:  # a corpus part replaces the seed part of that id
                library.parts = [p for p in library.parts if p.id != part_id]
                library.replaceable.discard(part_id)
            library.parts.append(Part(
                part_id, _vocab_name(category, where, True),
                _parse_at(first, where, f"part {pid!r} (first)"), _parse_at(then, where, f"part {pid!r} (then)"),
                frozenset(str(t) for t in spec.get("tags", [])), int(spec.get("order", 50)), path, line))


def seed_dir() -> Path:
    """The seed set shipped inside the package: ``templates/``, ``vocab/`` and ``examples/``.

    One copy only: the repository's demo corpus and every ``curator init`` corpus read it from
    here (``[templates].seed = true``), so upgrading curator upgrades the seed.
    """
    return Path(str(resources.files("curator") / "seed"))


def load_library(root: Path | None, templates: Sequence[Path] = (), vocab: Sequence[Path] = (),
                 validate_all: bool = True, seed: bool = True) -> Library:
    """The seed set, a corpus directory's own files, plus extra files (which override).

    Reads the packaged seed (:func:`seed_dir`, unless ``seed`` is false), then ``root/vocab``
    and ``root/templates`` when they exist (user additions: a template or part id replaces the
    seed one of that id; a vocabulary of the same name gains values), then ``templates`` /
    ``vocab`` (files or directories). Every template and part is validated before anything is
    expanded: an unknown placeholder or an empty vocabulary stops with the file and line.
    """
    library = Library()
    dirs = ([seed_dir()] if seed else []) + ([Path(root)] if root is not None else [])
    for d in dirs:
        if (d / "vocab").is_dir():
            load_vocabularies([d / "vocab"], library.vocab, library.file_hashes)
    if vocab:
        load_vocabularies(vocab, library.vocab, library.file_hashes)
    for d in dirs:
        if (d / "templates").is_dir():
            load_template_files([d / "templates"], library)
            if seed and d == dirs[0]:
                library.replaceable = set(library.templates) | {p.id for p in library.parts}
    library.replaceable = set()
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


