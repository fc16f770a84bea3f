"""A corpus directory: ``curator.toml`` + ``curator.db`` (+ the user's templates, vocabularies).

:class:`Corpus` is the object a notebook user holds; every CLI command is a thin wrapper over
one of its methods or over a function that takes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .context import DB_NAME, DEFAULT_DIR, Context, resolve_dir  # noqa: F401  (re-exported)
from .queries import iter_prompts_frames, predictions_frame, prompts_frame, samples_frame
from .settings import CONFIG_NAME, DEFAULT_CONFIG_TEXT  # noqa: F401  (re-exported)

if TYPE_CHECKING:  # pandas is imported where it is used: 0.45 s that every command paid at
    import pandas as pd  # start-up (dedup and cluster never need it)


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

    def iter_prompts(self, origin: str | None = None, dataset: str | None = None,
                     canonical: bool | None = None, contains: str | None = None,
                     limit: int | None = None, chunk: int = 2000) -> Iterator[pd.DataFrame]:
        """:meth:`prompts` in DataFrames of ``chunk`` rows, for corpora too big to hold twice."""
        return iter_prompts_frames(self, origin, dataset, canonical, contains, limit, chunk)

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

    def config(self) -> list[dict[str, Any]]:
        """The effective settings with where each came from (``curator config``)."""
        return self.settings.rows()

    # -- writing ----------------------------------------------------------------------------
    def ingest(self, source: Any, **options: Any):
        """Ingest files or an in-memory table; returns a list of summaries (one per file/table).

        ``source``: a path, a list of paths, a pandas DataFrame, a list of dicts (rows), or a
        Hugging Face ``datasets.Dataset``; tables go through the same column mapping and checks
        as files (:func:`curator.ingest.ingest_table`, ``name=`` labels them in provenance).
        Options: see :func:`curator.ingest.ingest_file`.
        """
        from .ingest import ingest_file, ingest_table

        if isinstance(source, (str, os.PathLike)):
            return [ingest_file(self, Path(source), **options)]
        if isinstance(source, (list, tuple)) and source and all(isinstance(p, (str, os.PathLike)) for p in source) \
                and not isinstance(source[0], dict):
            return [ingest_file(self, Path(p), **options) for p in source]
        return [ingest_table(self, source, **options)]

    def stats(self) -> dict[str, Any]:
        from .stats import corpus_stats

        return corpus_stats(self)

    def export(self, out: str | os.PathLike, **options: Any):
        from .export import export_samples

        return export_samples(self, Path(out), **options)

    # -- the later stages, for notebook users (each is a thin call into its module) ------------
    def expand(self, *, seed: int = 0, max_per_template: int = 25, templates=(), vocab=(), categories=None,
               scraped: bool = False, dry_run: bool = False, show: int = 0):
        """Expand this corpus's templates × vocabularies into prompts (origin=template), like ``curator expand``."""
        from .compose import expand

        return expand(self, seed=seed, max_per_template=max_per_template, templates=templates, vocab=vocab,
                      categories=categories, scraped=scraped, dry_run=dry_run, show=show)

    def combine(self, *, k: int = 2, n: int = 100, seed: int = 0, categories=None, templates=(), vocab=(),
                dry_run: bool = False, show: int = 0):
        """Multi-instruction prompts (origin=combined), like ``curator combine``."""
        from .compose import combine

        return combine(self, k=k, n=n, seed=seed, categories=categories, templates=templates, vocab=vocab,
                       dry_run=dry_run, show=show)

    def templates(self, *, categories=None, templates=(), vocab=(), max_per_template: int = 25) -> dict:
        """Every template with its cross-product size, like ``curator templates list``."""
        from .compose import templates as listing

        return listing(self, categories=categories, templates=templates, vocab=vocab,
                       max_per_template=max_per_template)

    def vocab(self, *, vocab=()) -> list[dict]:
        """Every vocabulary with its size and examples, like ``curator templates vocab``."""
        from .compose import vocab as listing

        return listing(self, vocab=vocab)

    def sources(self, directory: str | os.PathLike | None = None) -> list[dict]:
        """Every prompt source with what the store holds from it, like ``curator sources list``."""
        from .scrape.listing import list_sources

        return list_sources(self, directory)

    def check_source(self, name: str, *, directory: str | os.PathLike | None = None, url: str | None = None) -> dict:
        """One page of source ``name``: the prompts it would yield, storing nothing (``curator sources check``)."""
        from .scrape.listing import check_source_named

        return check_source_named(self, name, directory=directory, url=url)

    def add_predictions(self, path: str | os.PathLike, model_name: str, column: str | None = None) -> dict:
        """Import predictions from a file, like ``curator predictions add``."""
        from .predictions import add_predictions_file

        return add_predictions_file(self, Path(path), model_name, column)

    def embed(self, model: str | None = None, batch_size: int = 64, device: str | None = None) -> dict[str, int]:
        """``device``: auto | cpu | cuda | mps (default ``[embed].device``); the cache ignores it."""
        from .embed import embed_corpus

        return embed_corpus(self, model or self.setting("embed", "model", None), batch_size, device=device)

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

    def cluster(self, k: int | str | None = None, seed: int | None = None, model: str | None = None,
                name: str | None = None):
        """Cluster canonical prompts; ``name`` keeps the clustering (ids never change) for
        ``coverage(clustering=name)``. k and seed default to ``[cluster]`` in curator.toml."""
        from .cluster import cluster_prompts

        return cluster_prompts(self, k, seed, model or self.setting("embed", "model", None), name=name)

    def coverage(self, target: str | None = None, model: str | None = None,
                 clustering: str | int | None = None, html: str | os.PathLike | None = None, **options: Any):
        """Per-cluster coverage (``.clusters`` DataFrame, ``.table(sort)``, ``.gaps``, ``.far``,
        ``.figures``); ``options``: min_target, confidence, far_threshold. ``html``: also write the
        report there (its card reuses the vectors coverage read, within this one call)."""
        from .coverage import compute_coverage

        model = model or self.setting("embed", "model", None)
        with self.store.sharing():
            cov = compute_coverage(self, target, model, clustering=clustering, **options)
            if html is not None:
                from .report import write_report

                write_report(self, cov, Path(html), model)
        return cov

    def report(self, out: str | os.PathLike, target: str | None = None, clustering: str | int | None = None,
               **options: Any) -> Path:
        """Write the self-contained HTML coverage report (cluster explorer) and return its path."""
        from .report import write_report

        with self.store.sharing():
            cov = self.coverage(target, clustering=clustering)
            return write_report(self, cov, Path(out), self.setting("embed", "model", None), **options)

    def scrape(self, *targets: str, all_sources: bool = False, sources: str | os.PathLike | None = None,
               max_pages: int | None = None, refresh: bool = False, dry_run: bool = False,
               save_source: str | None = None):
        """Scrape source names and/or URLs, like ``curator scrape``; works inside a running event
        loop (Jupyter). Returns a summary: ``.pages`` (each with ``.extracted``), ``.totals()``."""
        from .scrape.run import scrape_targets

        if len(targets) == 1 and not isinstance(targets[0], str):
            targets = tuple(targets[0])  # a list of targets
        return scrape_targets(self, targets, all_sources=all_sources, sources=sources, max_pages=max_pages,
                              refresh=refresh, dry_run=dry_run, save_source=save_source)

    def score(self, metric_model: str | None = None, **options: Any):
        from .score import score_predictions

        return score_predictions(self, metric_model=metric_model, **options)

    # -- review from a notebook: the review screen's queue, and its decisions ---------------
    def candidates(self, min_score: float | None = None, dataset: str | None = None,
                   predictor: str | None = None, metric_model: str | None = None, limit: int | None = None,
                   include_skipped: bool = False) -> pd.DataFrame:
        """The review queue as a ranked DataFrame (best first), like ``curator review`` shows it."""
        from .review import candidates

        return candidates(self, min_score, dataset, predictor, metric_model, limit, include_skipped)

    def promote(self, ids: Any = None, *, reason: str = "", **options: Any) -> dict:
        """Promote samples to training data: explicit ``ids`` (a list, a Series, or rows of
        :meth:`candidates`), or the best by ``min_score=`` / ``top=`` like ``curator promote``.
        Each change is one ``decision`` event with its reason, as on the review screen."""
        from .review import promote

        if ids is not None:
            options["ids"] = sample_ids(ids)
            reason = reason or "notebook: chosen from candidates()"
        return promote(self, reason=reason, **options)

    def reject(self, ids: Any, reason: str = "") -> dict:
        """Reject samples (status rejected, never deleted), recorded like ``curator reject``."""
        from .review import decide

        chosen = sample_ids(ids)
        n = decide(self, chosen, "reject", reason or "notebook: rejected from candidates()", command="reject")
        return {"selected": len(chosen), "rejected": n}

    def undo(self, n: int = 1) -> list[str]:
        """Revert the last ``n`` decisions (promote, reject, review); returns the sample ids."""
        from .review import undo

        return undo(self, n)

    # -- the LLM stages (any OpenAI-compatible endpoint; safe inside a running event loop) -----
    def generate(self, **options: Any):
        """Samples for prompts of clusters/gaps/a file; see :func:`curator.generate.generate`.
        ``summary.check()`` raises when some prompts got no valid sample, like the CLI's exit 1."""
        from .generate import generate

        return generate(self, **options)

    def brainstorm(self, **options: Any):
        """New, novel prompts for clusters; see :func:`curator.brainstorm.brainstorm`."""
        from .brainstorm import brainstorm

        return brainstorm(self, **options)

    def predict(self, **options: Any):
        """LLM-predicted prompts for samples; see :func:`curator.predict.predict`."""
        from .predict import predict

        return predict(self, **options)

    def card(self, target: str | None = None, **options: Any):
        """The dataset card: training vs target side (``.as_dict()`` is ``curator card --json``)."""
        from .card import build_card

        return build_card(self, target=target, **options)

    def mean_prompt(self, dataset: str | None = None, target: str | None = None, **options: Any):
        """The prompt with the highest mean SCS over a set (``.prompt``, ``.score``, ``.medoid_score``)."""
        from .meanprompt import mean_prompt

        return mean_prompt(self, dataset=dataset, target=target, **options)


def sample_ids(ids: Any) -> list[str]:
    """Sample ids from one id, a list/Series of ids, or a DataFrame with an ``id`` column."""
    import pandas as pd
    if isinstance(ids, str):
        return [ids]
    if isinstance(ids, pd.DataFrame):
        if "id" not in ids.columns:
            from .errors import CuratorError

            raise CuratorError(f"a DataFrame of samples needs an 'id' column; it has {', '.join(map(str, ids.columns))}")
        ids = ids["id"]
    return [str(i) for i in ids]
