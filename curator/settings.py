"""One typed, strict settings object: defaults < ``curator.toml`` < environment < flags.

Why strict: a typo in ``curator.toml`` (``treshold = 0.8``) that is silently ignored gives a
corpus that behaves differently from what its owner reads in the file. Every key is declared
here with its type, default and allowed range; an unknown key or a wrong type is one error line
naming the file, the table and the key (with the nearest valid key).

Every value remembers where it came from (``default``, ``curator.toml``, ``env NAME`` or
``flag``) so ``curator config`` can show the effective settings and their origin.

Environment variables: ``CURATOR_<SECTION>_<KEY>`` (e.g. ``CURATOR_EMBED_MODEL``,
``CURATOR_LLM_BASE_URL``); ``CURATOR_BASE_URL`` and ``CURATOR_MODEL`` are kept as short names for
the LLM endpoint. Secrets never live here: an API key is read from the variable named by
``llm.api_key_env`` at the moment of a call.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import CuratorError

CONFIG_NAME = "curator.toml"


@dataclass(frozen=True)
class Key:
    """One declared setting: its type(s), default, an optional check, and what it is for."""

    types: tuple[type, ...]
    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None  # returns the problem, or None
    nullable: bool = False


def _range(lo: float | None = None, hi: float | None = None, lo_open: bool = False) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if lo is not None and (v <= lo if lo_open else v < lo):
            return f"must be {'>' if lo_open else '>='} {lo}"
        if hi is not None and v > hi:
            return f"must be <= {hi}"
        return None
    return check


def _choice(*choices: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


def _k_value(v: Any) -> str | None:
    if v == "auto" or (isinstance(v, int) and not isinstance(v, bool) and v >= 2):
        return None
    return "must be \"auto\" or an integer >= 2"


def _prices(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "must be a table of model = { input = USD, output = USD } per million tokens"
    for model, p in v.items():
        if not isinstance(p, dict) or set(p) != {"input", "output"} or not all(
                isinstance(p[x], (int, float)) and not isinstance(p[x], bool) and p[x] >= 0 for x in p):
            return f"entry {model!r} must be {{ input = USD, output = USD }} (non-negative numbers)"
    return None


STR, INT, FLOAT, BOOL = (str,), (int,), (float, int), (bool,)

#: section -> key -> declaration. Adding a setting is adding a line here.
SCHEMA: dict[str, dict[str, Key]] = {
    "embed": {
        "model": Key(STR, "default", "sentence-transformers name or path; \"default\" = packaged all-MiniLM-L6-v2"),
        "batch_size": Key(INT, 64, "texts per encoder batch", _range(1, 65536)),
        "device": Key(STR, "auto", "auto | cpu | cuda | mps (auto picks a GPU when present)",
                      _choice("auto", "cpu", "cuda", "mps")),
    },
    "dedup": {
        # 0.85: measured on labelled real prompts (docs/performance.md): precision 0.966, 7.2x the
        # true pairs of plain cosine >= 0.95; slot values keep variants apart
        "threshold": Key(FLOAT, 0.85, "cosine to a group's representative at or above which a prompt with the "
                         "same slot values is its near-duplicate",
                         _range(0.0, 1.0, lo_open=True)),
    },
    "cluster": {
        "k": Key((str, int), "auto", "number of clusters, or \"auto\"", _k_value),
        "seed": Key(INT, 0, "random seed of k-means", _range(0)),
        "auto_sample": Key(INT, 10_000, "k=auto: at most this many prompts the candidate k values are fitted on (a fifth of the corpus, at least 5,000, when that is fewer)", _range(100)),
        "max_k": Key(INT, 1000, "k=auto: largest k tried", _range(2)),
    },
    "coverage": {
        "min_target": Key(INT, 3, "target prompts a cluster needs before it can be a gap", _range(1)),
        "confidence": Key(FLOAT, 0.9, "two-sided level of the share intervals a gap must clear",
                          _range(0.5, 0.999)),
        "gap_ratio": Key(FLOAT, 1.5, "a gap's target share (lower end) must exceed this × its training share "
                         "(upper end)", _range(0.0, 100.0)),
        "far_threshold": Key(FLOAT, 0.45, "target prompts whose nearest training cosine is below this are 'far'",
                             _range(0.0, 1.0)),
        "neighbours": Key(INT, 20, "neighbourhood size of the per-prompt target-density test", _range(2, 200)),
        "near_threshold": Key(FLOAT, 0.8, "a target prompt with a training prompt at this cosine or above is never far",
                              _range(0.0, 1.0)),
        "neighbour_alpha": Key(FLOAT, 0.05, "p-value under which a target-dense neighbourhood counts as far",
                               _range(0.0, 0.5, lo_open=True)),
        "sort": Key(STR, "gap", "order of the coverage table: gap | size | id", _choice("gap", "size", "id")),
    },
    "score": {
        "metric_model": Key(STR, "sentence-transformers/sentence-t5-base",
                            "model of the SCS metric (the competition's); \"default\" = packaged MiniLM proxy"),
    },
    "templates": {
        "seed": Key(BOOL, True, "also read the seed templates and vocabularies shipped with curator"),
    },
    "meanprompt": {
        "rounds": Key(INT, 12, "improving word-edit rounds of the mean-prompt search at most", _range(0, 1000)),
        "vocabulary": Key(INT, 150, "most frequent words of the set the search may use", _range(1, 100000)),
        "words": Key(INT, 8, "words per round tried at every position (after an append screen)", _range(1, 10000)),
    },
    "card": {
        "k": Key(INT, 3, "neighbours of the k-NN precision/recall manifolds", _range(1, 100)),
        "bootstrap": Key(INT, 30, "bootstrap resamples of the Fréchet distance interval", _range(0, 10000)),
        "sample": Key(INT, 5000, "at most this many prompts per side in the embedding figures", _range(10)),
    },
    "limits": {
        "max_original_words": Key(INT, 200, "word limit of an original text in a training row", _range(1)),
        "max_rewritten_words": Key(INT, 400, "word limit of a rewritten text in a training row", _range(1)),
    },
    "llm": {
        "base_url": Key(STR, "https://api.openai.com/v1", "OpenAI-compatible endpoint"),
        "model": Key(STR, "gpt-4o-mini", "model name sent to the endpoint"),
        "api_key_env": Key(STR, "OPENAI_API_KEY", "environment variable holding the API key"),
        "concurrency": Key(INT, 8, "requests in flight", _range(1, 4096)),
        "rpm": Key(INT, None, "requests per minute (none = unlimited)", _range(1), nullable=True),
        "tpm": Key(INT, None, "tokens per minute (none = unlimited)", _range(1), nullable=True),
        "timeout": Key(FLOAT, 60.0, "seconds per request", _range(0, lo_open=True)),
        "max_retries": Key(INT, 4, "retries of a retryable failure", _range(0, 100)),
        "json_mode": Key(BOOL, True, "ask for response_format=json_object"),
        "prices": Key((dict,), {}, "USD per million tokens per model: { input = …, output = … }", _prices),
        "answer_retries": Key(INT, 2, "new-seed re-asks of an answer that fails validation", _range(0, 20)),
    },
    "generate": {
        "per_cluster": Key(INT, 5, "prompts picked per cluster", _range(1)),
        "temperature": Key(FLOAT, 0.7, "sampling temperature", _range(0, 2)),
        "min_words": Key(INT, 30, "shortest original text, in words", _range(1)),
        "max_words": Key(INT, 200, "longest original text, in words", _range(1)),
    },
    "scrape": {
        "sources": Key(STR, None, "directory of source files (default: ./sources)", nullable=True),
        "user_agent": Key(STR, None, "User-Agent sent (default: curator/VERSION …)", nullable=True),
        "delay": Key(FLOAT, 1.0, "minimum seconds between requests to one host", _range(0)),
        "per_host_concurrency": Key(INT, 1, "requests in flight per host", _range(1, 64)),
        "concurrency": Key(INT, 16, "requests in flight overall", _range(1, 1024)),
        "autothrottle": Key(BOOL, True, "raise the delay when a host slows down"),
        "target_concurrency": Key(FLOAT, 1.0, "AutoThrottle's target concurrency", _range(0, lo_open=True)),
        "max_delay": Key(FLOAT, 60.0, "upper bound of the per-host delay", _range(0)),
        "connect_timeout": Key(FLOAT, 10.0, "seconds", _range(0, lo_open=True)),
        "read_timeout": Key(FLOAT, 30.0, "seconds", _range(0, lo_open=True)),
        "total_timeout": Key(FLOAT, 60.0, "seconds for a whole page", _range(0, lo_open=True)),
        "max_bytes": Key(INT, 10 * 1024 * 1024, "body size cap (decompressed)", _range(1)),
        "max_redirects": Key(INT, 5, "redirects followed", _range(0, 50)),
        "retries": Key(INT, 3, "extra attempts after the first", _range(0, 100)),
        "backoff": Key(FLOAT, 1.0, "first retry wait in seconds, doubling", _range(0)),
        "max_backoff": Key(FLOAT, 60.0, "cap of one retry wait", _range(0)),
        "max_retry_after": Key(FLOAT, 300.0, "a longer Retry-After is reported, not waited for", _range(0)),
        "cache_ttl": Key(FLOAT, 86400.0, "seconds a cached page is not asked for again", _range(0)),
        "robots": Key(BOOL, True, "obey robots.txt"),
    },
}

#: short environment names kept for compatibility with earlier releases and the demo
ENV_ALIASES = {"CURATOR_BASE_URL": ("llm", "base_url"), "CURATOR_MODEL": ("llm", "model")}


def _nearest(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f"; did you mean {near[0]!r}?" if near else f"; valid keys: {', '.join(sorted(choices))}"


def _coerce(where: str, key: Key, value: Any, from_text: bool = False) -> Any:
    """Check ``value`` against ``key``; ``from_text`` parses environment strings first."""
    if value is None:
        if key.nullable:
            return None
        raise CuratorError(f"{where}: must not be empty")
    if from_text and isinstance(value, str):
        value = _parse_text(where, key, value)
    ok = isinstance(value, key.types) and not (isinstance(value, bool) and bool not in key.types)
    if not ok:
        names = " or ".join("number" if t is float else {str: "string", int: "integer", bool: "true/false",
                                                         dict: "table"}.get(t, t.__name__)
                            for t in key.types if not (t is int and float in key.types))
        raise CuratorError(f"{where}: expected {names}, got {type(value).__name__} {value!r}")
    if float in key.types and isinstance(value, int):
        value = float(value)
    if key.check and (problem := key.check(value)):
        raise CuratorError(f"{where}: {value!r} {problem}")
    return value


def _parse_text(where: str, key: Key, text: str) -> Any:
    if key.nullable and text.strip().lower() in ("", "none", "null"):
        return None
    if bool in key.types:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise CuratorError(f"{where}: expected true/false, got {text!r}")
    for t in (int, float):
        if t in key.types:
            try:
                return t(text)
            except ValueError:
                if str not in key.types:
                    raise CuratorError(f"{where}: expected {'integer' if t is int else 'number'}, got {text!r}")
    return text


class Settings:
    """The effective settings of one corpus: ``settings.get("dedup", "threshold")`` or
    ``settings.dedup.threshold``; ``settings.origin(section, key)`` says where a value came from."""

    def __init__(self, values: dict[str, dict[str, Any]], origins: dict[tuple[str, str], str],
                 path: Path | None = None):
        self._values = values
        self._origins = origins
        self.path = path

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def defaults(cls) -> "Settings":
        values = {s: {k: _copy(key.default) for k, key in keys.items()} for s, keys in SCHEMA.items()}
        return cls(values, {(s, k): "default" for s, keys in SCHEMA.items() for k in keys})

    @classmethod
    def load(cls, path: Path | None, environ: Mapping[str, str] | None = None) -> "Settings":
        """Defaults, then the TOML file (when it exists), then the environment."""
        settings = cls.defaults()
        settings.path = path
        if path is not None and path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise CuratorError(f"{path}: invalid TOML ({exc}); fix or delete the file") from exc
            settings._apply_file(path, data)
        settings._apply_env(os.environ if environ is None else environ)
        return settings

    def _apply_file(self, path: Path, data: dict[str, Any]) -> None:
        for section, table in data.items():
            if section not in SCHEMA:
                raise CuratorError(f"{path}: unknown table [{section}]{_nearest(section, list(SCHEMA))}")
            if not isinstance(table, dict):
                raise CuratorError(f"{path}: {section} must be a table ([{section}])")
            for key, value in table.items():
                if key not in SCHEMA[section]:
                    raise CuratorError(f"{path}: [{section}] unknown key {key!r}{_nearest(key, list(SCHEMA[section]))}")
                where = f"{path}: [{section}] {key}"
                self._values[section][key] = _coerce(where, SCHEMA[section][key], value)
                self._origins[(section, key)] = CONFIG_NAME

    def _apply_env(self, environ: Mapping[str, str]) -> None:
        for name, (section, key) in ENV_ALIASES.items():
            if environ.get(name):
                self._set(section, key, environ[name], f"env {name}", from_text=True)
        for section, keys in SCHEMA.items():
            for key in keys:
                name = f"CURATOR_{section}_{key}".upper()
                if name in environ and environ[name] != "":
                    self._set(section, key, environ[name], f"env {name}", from_text=True)

    def _set(self, section: str, key: str, value: Any, origin: str, from_text: bool = False) -> None:
        where = f"{origin}" if origin.startswith("env") else f"{section}.{key}"
        self._values[section][key] = _coerce(where, SCHEMA[section][key], value, from_text)
        self._origins[(section, key)] = origin

    def override(self, section: str, **values: Any) -> "Settings":
        """A copy with flag values applied (``None`` means "not given"), validated like the file."""
        new = Settings({s: dict(v) for s, v in self._values.items()}, dict(self._origins), self.path)
        for key, value in values.items():
            if value is None:
                continue
            if key not in SCHEMA[section]:
                raise CuratorError(f"unknown setting {section}.{key}{_nearest(key, list(SCHEMA[section]))}")
            new._set(section, key, value, "flag")
        return new

    # -- reading -------------------------------------------------------------------------------
    def get(self, section: str, key: str) -> Any:
        return self._values[section][key]

    def section(self, section: str) -> dict[str, Any]:
        return dict(self._values[section])

    def origin(self, section: str, key: str) -> str:
        return self._origins[(section, key)]

    def __getattr__(self, section: str) -> Any:
        if section.startswith("_") or section not in SCHEMA:
            raise AttributeError(section)
        return _Section(self._values[section])

    def rows(self) -> list[dict[str, Any]]:
        """Every effective setting with its origin, for ``curator config``."""
        return [{"key": f"{s}.{k}", "value": self._values[s][k], "origin": self._origins[(s, k)],
                 "doc": SCHEMA[s][k].doc} for s in SCHEMA for k in SCHEMA[s]]


class _Section:
    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


DEFAULT_CONFIG_TEXT = """\
# curator corpus configuration. Command-line flags override these values, and
# CURATOR_<SECTION>_<KEY> environment variables override this file (`curator config` shows all).
# Secrets (API keys) are never read from here: only from the environment.

[embed]
# "default" is the packaged all-MiniLM-L6-v2 (offline); any sentence-transformers name or path works.
model = "default"
batch_size = 64

[dedup]
# cosine to the group's representative; prompts with different slot values never merge
threshold = 0.85

[score]
# The competition metric model. Not downloadable here; curator says how to get it when missing.
metric_model = "sentence-transformers/sentence-t5-base"

[llm]
base_url = "https://api.openai.com/v1"
model = "gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"
concurrency = 8

# USD per million tokens, per model: used by --dry-run estimates and --max-cost.
[llm.prices]
"gpt-4o-mini" = { input = 0.15, output = 0.60 }
"gpt-4o" = { input = 2.50, output = 10.00 }
"gpt-4.1-mini" = { input = 0.40, output = 1.60 }
"gemini-2.0-flash" = { input = 0.10, output = 0.40 }
"gemini-1.5-flash" = { input = 0.075, output = 0.30 }
"""
