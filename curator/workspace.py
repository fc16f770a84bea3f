"""A corpus directory: ``curator.toml`` + ``curator.db`` (+ the user's templates, vocabularies).

:class:`Corpus` is the object a notebook user holds; every CLI command is a thin wrapper over
one of its methods or over a function that takes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .context import DB_NAME, DEFAULT_DIR, Context, resolve_dir  # noqa: F401  (re-exported)
from .queries import predictions_frame, prompts_frame, samples_frame
from .settings import CONFIG_NAME, DEFAULT_CONFIG_TEXT  # noqa: F401  (re-exported)


class Corpus(Context):
    """An opened corpus directory, with a method for every command (the notebook facade).

    >>> corpus = Corpus.open("corpus")          # doctest: +SKIP
    >>> corpus.samples(status="train").head()   # doctest: +SKIP
    """

    # -- reading ----------------------------------------------------------------------------
    def prompts(self, origin: str | None = None, dataset: str | None = None,
                canonical: bool | None = None, contains: str | None = None,
                limit: int | None = None) -> pd.DataFrame:
        """Prompts as a DataFrame. ``canonical=True`` keeps only those not marked duplicates."""
        return prompts_frame(self, origin, dataset, canonical, contains, limit)

    def samples(self, status: str | None = None, dataset: str | None = None,
                origin: str | None = None, contains: str | None = None,
                limit: int | None = None) -> pd.DataFrame:
        """Samples as a DataFrame, in the order they were added."""
        return samples_frame(self, status, dataset, origin, contains, limit)

    def predictions(self, predictor: str | None = None) -> pd.DataFrame:
        return predictions_frame(self, predictor)

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

    def dedup(self, threshold: float | None = None, model: str | None = None, dry_run: bool = False):
        """Near-duplicate groups; applied (undoable) unless ``dry_run``. Returns the plan.
        ``threshold`` defaults to ``[dedup].threshold`` in curator.toml, like ``curator dedup``."""
        from .dedup import apply_dedup, plan_dedup

        s = self.settings.override("dedup", threshold=threshold)
        plan = plan_dedup(self, s.dedup.threshold, model or self.setting("embed", "model", None))
        if not dry_run:
            apply_dedup(self, plan)
        return plan

    def dedup_explain(self, text: str, threshold: float | None = None, model: str | None = None) -> dict:
        """Why ``text`` is or is not a near-duplicate (nearest prompts, cosines, differing slot values)."""
        from .dedup import explain_dedup

        s = self.settings.override("dedup", threshold=threshold)
        return explain_dedup(self, text, s.dedup.threshold, model or self.setting("embed", "model", None))

    def dedup_undo(self) -> dict | None:
        """Restore the state before the latest dedup run (None when there is nothing to undo)."""
        from .dedup import undo_dedup

        return undo_dedup(self)

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

