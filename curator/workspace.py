"""A corpus directory: ``curator.toml`` + ``curator.db`` (+ the user's templates, vocabularies).

:class:`Corpus` is the object a notebook user holds; every CLI command is a thin wrapper over
one of its methods or over a function that takes it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .errors import CuratorError
from .store import Store

DB_NAME = "curator.db"
CONFIG_NAME = "curator.toml"
DEFAULT_DIR = "corpus"

DEFAULT_CONFIG_TEXT = """\
# curator corpus configuration. Command-line flags override these values.
# Secrets (API keys) are never read from here: only from the environment.

[embed]
# "default" is the packaged all-MiniLM-L6-v2 (offline); any sentence-transformers name or path works.
model = "default"
batch_size = 64

[dedup]
threshold = 0.9

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


def resolve_dir(path: str | os.PathLike | None) -> Path:
    """--corpus flag, else $CURATOR_CORPUS, else ./corpus."""
    return Path(path or os.environ.get("CURATOR_CORPUS") or DEFAULT_DIR)


class Corpus:
    """An opened corpus directory.

    >>> corpus = Corpus.open("corpus")          # doctest: +SKIP
    >>> corpus.samples(status="train").head()   # doctest: +SKIP
    """

    def __init__(self, root: Path, store: Store):
        self.root = root
        self.store = store
        self._config: dict[str, Any] | None = None

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | os.PathLike | None = None) -> "Corpus":
        """Create (or re-open) a corpus directory: config file if absent, store migrated."""
        root = resolve_dir(path)
        root.mkdir(parents=True, exist_ok=True)
        config = root / CONFIG_NAME
        if not config.exists():
            config.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
        return cls(root, Store(root / DB_NAME))

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> "Corpus":
        """Open an existing corpus; a directory that is not one is an error saying what to run."""
        root = resolve_dir(path)
        if not (root / DB_NAME).exists() and not (root / CONFIG_NAME).exists():
            raise CuratorError(f"{root}: not a curator corpus (no {CONFIG_NAME}); run `curator init {root}`")
        return cls(root, Store(root / DB_NAME))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Corpus":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- configuration ----------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """The parsed ``curator.toml`` (empty when absent). Sections: embed, dedup, score, llm, scrape."""
        if self._config is None:
            path = self.root / CONFIG_NAME
            if path.exists():
                try:
                    self._config = tomllib.loads(path.read_text(encoding="utf-8"))
                except tomllib.TOMLDecodeError as exc:
                    raise CuratorError(f"{path}: invalid TOML ({exc}); fix or delete the file") from exc
            else:
                self._config = {}
        return self._config

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        return self.config.get(section, {}).get(key, default)

    # -- reading ----------------------------------------------------------------------------
    def prompts(self, origin: str | None = None, dataset: str | None = None,
                canonical: bool | None = None, contains: str | None = None,
                limit: int | None = None) -> pd.DataFrame:
        """Prompts as a DataFrame. ``canonical=True`` keeps only those not marked duplicates."""
        where, params = [], []
        if origin:
            where.append("p.origin = ?")
            params.append(origin)
        if dataset:
            where.append("p.id IN (SELECT item_id FROM provenance WHERE item_kind='prompt' AND dataset = ?)")
            params.append(dataset)
        if canonical is True:
            where.append("p.duplicate_of IS NULL")
        elif canonical is False:
            where.append("p.duplicate_of IS NOT NULL")
        if contains:
            where.append("p.text LIKE ?")
            params.append(f"%{contains}%")
        sql = "SELECT p.* FROM prompts p"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY p.created_at, p.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return pd.read_sql_query(sql, self.store.conn, params=params)

    def samples(self, status: str | None = None, dataset: str | None = None,
                origin: str | None = None, contains: str | None = None,
                limit: int | None = None) -> pd.DataFrame:
        """Samples as a DataFrame, in the order they were added."""
        where, params = [], []
        for col, value in (("status", status), ("dataset", dataset), ("origin", origin)):
            if value:
                where.append(f"s.{col} = ?")
                params.append(value)
        if contains:
            where.append("(s.rewrite_prompt LIKE ? OR s.original_text LIKE ?)")
            params += [f"%{contains}%"] * 2
        sql = "SELECT s.* FROM samples s"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.created_at, s.rowid"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return pd.read_sql_query(sql, self.store.conn, params=params)

    def predictions(self, predictor: str | None = None) -> pd.DataFrame:
        sql = "SELECT * FROM predictions"
        params: list[Any] = []
        if predictor:
            sql += " WHERE predictor = ?"
            params.append(predictor)
        return pd.read_sql_query(sql + " ORDER BY sample_id, predictor", self.store.conn, params=params)

    # -- writing ----------------------------------------------------------------------------
    def ingest(self, paths: str | os.PathLike | Iterable[str | os.PathLike], **options: Any):
        """Ingest files; see :func:`curator.ingest.ingest_file` for the options. Returns summaries."""
        from .ingest import ingest_file

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return [ingest_file(self, Path(p), **options) for p in paths]

    def stats(self) -> dict[str, Any]:
        from .stats import corpus_stats

        return corpus_stats(self)

    def export(self, out: str | os.PathLike, **options: Any):
        from .export import export_samples

        return export_samples(self, Path(out), **options)

    # -- the later stages, for notebook users (each is a thin call into its module) ------------
    def expand(self, max_per_template: int = 25, seed: int = 0):
        """Expand this corpus's templates × vocabularies into prompts (origin=template)."""
        from .templates import expand, load_library, store_expansions

        library = load_library(self.root)
        return store_expansions(self, library, expand(library, max_per_template, seed))

    def embed(self, model: str | None = None, batch_size: int = 64) -> dict[str, int]:
        from .embed import embed_corpus

        return embed_corpus(self, model or self.setting("embed", "model", None), batch_size)

    def dedup(self, threshold: float = 0.9, model: str | None = None, dry_run: bool = False):
        """Near-duplicate groups; applied (undoable) unless ``dry_run``. Returns the plan."""
        from .dedup import apply_dedup, plan_dedup

        plan = plan_dedup(self, threshold, model or self.setting("embed", "model", None))
        if not dry_run:
            apply_dedup(self, plan)
        return plan

    def cluster(self, k: int | str = "auto", seed: int = 0, model: str | None = None):
        from .cluster import cluster_prompts

        return cluster_prompts(self, k, seed, model or self.setting("embed", "model", None))

    def coverage(self, target: str | None = None, model: str | None = None):
        """Per-cluster coverage (``.clusters`` DataFrame, ``.gaps``, ``.figures``)."""
        from .coverage import compute_coverage

        return compute_coverage(self, target, model or self.setting("embed", "model", None))

    def score(self, metric_model: str | None = None, **options: Any):
        from .score import score_predictions

        return score_predictions(self, metric_model=metric_model, **options)

    def promote(self, **options: Any) -> dict:
        from .review import promote

        return promote(self, **options)

