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
                limit: int | None = None, cluster: int | None = None,
                clustering: str | int | None = None) -> pd.DataFrame:
        """Prompts as a DataFrame. ``canonical=True`` keeps only those not marked duplicates;
        ``cluster=N`` only those of cluster N (of ``clustering``, default the latest), with a role column."""
        if cluster is not None:
            from .explore import prompts_in_cluster

            return prompts_in_cluster(self, cluster, clustering, limit, origin=origin, dataset=dataset,
                                      canonical=canonical, contains=contains)
        return prompts_frame(self, origin, dataset, canonical, contains, limit)

    def similar(self, text: str, limit: int = 10, model: str | None = None) -> pd.DataFrame:
        """Canonical prompts nearest to ``text`` (cosine column), the text itself first when stored."""
        from .explore import similar_prompts

        return similar_prompts(self, text, limit, model or self.setting("embed", "model", None))

    def samples(self, status: str | None = None, dataset: str | None = None,
                origin: str | None = None, contains: str | None = None,
                limit: int | None = None, cluster: int | None = None,
                clustering: str | int | None = None) -> pd.DataFrame:
        """Samples as a DataFrame, in the order they were added (``cluster=N``: prompt in cluster N)."""
        if cluster is not None:
            from .explore import samples_in_cluster

            return samples_in_cluster(self, cluster, clustering, limit, status=status, dataset=dataset,
                                      origin=origin, contains=contains)
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

    def cluster(self, k: int | str | None = None, seed: int | None = None, model: str | None = None,
                name: str | None = None):
        """Cluster canonical prompts; ``name`` keeps the clustering (ids never change) for
        ``coverage(clustering=name)``. k and seed default to ``[cluster]`` in curator.toml."""
        from .cluster import cluster_prompts

        return cluster_prompts(self, k, seed, model or self.setting("embed", "model", None), name=name)

    def coverage(self, target: str | None = None, model: str | None = None,
                 clustering: str | int | None = None, **options: Any):
        """Per-cluster coverage (``.clusters`` DataFrame, ``.table(sort)``, ``.gaps``, ``.far``,
        ``.figures``); ``options``: min_target, confidence, far_threshold."""
        from .coverage import compute_coverage

        return compute_coverage(self, target, model or self.setting("embed", "model", None),
                                clustering=clustering, **options)

    def report(self, out: str | os.PathLike, target: str | None = None, clustering: str | int | None = None,
               **options: Any) -> Path:
        """Write the self-contained HTML coverage report (cluster explorer) and return its path."""
        from .report import render_report

        cov = self.coverage(target, clustering=clustering)
        return render_report(self, cov, Path(out), self.setting("embed", "model", None), **options)

    def score(self, metric_model: str | None = None, **options: Any):
        from .score import score_predictions

        return score_predictions(self, metric_model=metric_model, **options)

    def promote(self, **options: Any) -> dict:
        from .review import promote

        return promote(self, **options)

