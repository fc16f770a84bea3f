"""The self-contained HTML coverage report: a cluster explorer in one offline file.

What is in the page (docs/coverage.md shows it): overall figures; a 2-D map with cluster labels
drawn on it, target prompts with their own marker, gap clusters highlighted; the cluster list
(sortable by gap, size, id); a detail panel with every member of the clicked cluster (searchable),
its target prompts and training samples; a search box over all prompts; the far list.

Why no plotting library: the map is ~150 lines of canvas-2D JavaScript in report.html. Plotly
(≈4.8 MB inlined) needs WebGL for large scatters, which headless and GPU-less browsers lack, and
could not draw the cluster labels / click-to-open we need without as much glue code.

Why this map: t-SNE/UMAP on every prompt costs minutes at 100k+ prompts (umap-learn also brings
numba, whose JIT start-up alone is seconds), and PCA of the raw embeddings is one overlapping
cloud. Instead the *centroids* (k ≤ 1,000) are laid out with t-SNE (principal axes for k < 6;
:mod:`.layout`, numpy only) so neighbouring clusters sit near each other, and each prompt is drawn
around its centroid at its PCA-projected offset, scaled to the room around that centroid: clusters
are readable, label positions are exact, and a prompt far from its centroid is drawn far out.

Scale: the map holds at most MAP_SAMPLE prompts (every target prompt first); the full member
lists, the samples and the far list are gzip-compressed JSON in base64 inside the page, decoded by
the browser's DecompressionStream, and lists render a page at a time.

Escaping: jinja2 autoescape for server-rendered text; JSON is embedded in
``<script type="application/json">`` with ``<``, ``>``, ``&`` written as ``\\u003c`` etc.; the
page's JavaScript only ever inserts text with ``textContent``.

Extension points (for other stages' additions): ``sections`` (:class:`ReportSection`, a trusted
HTML fragment the caller escaped) are inserted after the explorer; ``columns`` (name → {cluster id →
value}) become extra columns of the cluster list.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..store import utcnow
from .layout import centroid_layout, map_points

if TYPE_CHECKING:
    from ..context import Context
    from ..coverage import Coverage

MAP_SAMPLE = 20_000
SAMPLE_TEXT = 300


@dataclass
class ReportSection:
    """An extra part of the report: ``html`` is inserted as is, so the caller escapes its data."""

    title: str
    html: str
    id: str = "extra"


def _json_for_script(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=_jsonable, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(type(v))


def _blob(value) -> str:
    """gzip + base64 of compact JSON: only [A-Za-z0-9+/=] reaches the page. Level 1: on the
    22 MB of a 250k-prompt report about a third of level 6's time (1.05 s) for a page ~20 % larger."""
    raw = json.dumps(value, ensure_ascii=False, default=_jsonable, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=1, mtime=0)).decode("ascii")


def _payload(ctx: "Context", cov: "Coverage", model: str | None, columns: Mapping[str, Mapping[int, Any]]):
    from ..cluster import centroids_of
    from ..embed import load_vectors
    from ..queries import prompt_texts

    frame = cov.clusters
    cids, centroids = centroids_of(ctx, cov.clustering_id)
    pos = {c: i for i, c in enumerate(cids)}
    texts, _ = prompt_texts(ctx)  # coverage read them in this command: shared
    far_ids = {f["id"] for f in cov.far}
    # every training/target prompt: [text, cluster, kind (0 training, 1 target, 2 both), far]
    # built a column at a time and zipped (tuples are JSON arrays): one list per prompt with four
    # lookups in it took 1 s at 250k prompts
    ids = sorted(p for p in cov.members if p in texts)
    targets, both = cov.target_ids, cov.target_ids & cov.training_ids
    kinds = [(p in targets) + (p in both) for p in ids]
    clusters = np.fromiter((cov.members[p] for p in ids), dtype=np.int64, count=len(ids)).tolist()
    far_flags = [int(p in far_ids) for p in ids] if far_ids else [0] * len(ids)
    prompts = list(zip([texts[p] for p in ids], clusters, kinds, far_flags))
    # the map: every target prompt, then a seeded sample of the rest
    rng = np.random.default_rng(0)
    tgt = [i for i, k in enumerate(kinds) if k]
    rest = [i for i, k in enumerate(kinds) if not k]
    room = max(MAP_SAMPLE - len(tgt), 0)
    if len(rest) > room:
        rest = sorted(rng.choice(rest, size=room, replace=False).tolist())
    chosen = (tgt + rest)[:MAP_SAMPLE]
    chosen = [i for i in chosen if prompts[i][1] in pos]
    points: dict[str, list] = {"x": [], "y": [], "i": []}
    layout = np.zeros((0, 2))
    if len(cids):
        # by prompt id (= content id of its text): no re-hashing of the sampled texts
        vec = load_vectors(ctx, [ids[i] for i in chosen], model, texts=[prompts[i][0] for i in chosen],
                           progress=False) if chosen else np.zeros((0, centroids.shape[1]), dtype=np.float32)
        cpos = np.array([pos[prompts[i][1]] for i in chosen], dtype=np.int64)
        if len(chosen) and vec.shape[1] == centroids.shape[1]:
            xy, layout = map_points(vec, cpos, centroids)
        else:
            layout, xy = centroid_layout(centroids), np.zeros((0, 2))
        points = {"x": np.round(xy[:, 0], 4).tolist(), "y": np.round(xy[:, 1], 4).tolist(), "i": chosen}
    clusters = []
    for rec in frame.to_dict(orient="records"):
        c = int(rec["cluster"])
        xy = layout[pos[c]].tolist() if c in pos and len(layout) else [0.5, 0.5]
        clusters.append({"id": c, "label": str(rec["label"]), "train": int(rec["train"]),
                         "prompts": int(rec["prompts"]), "target": int(rec["target_prompts"]),
                         "train_share": rec["train_share"], "target_share": rec["target_share"],
                         "gap": rec["gap"], "gap_low": rec["gap_low"], "far": int(rec["far_targets"]),
                         "under": bool(rec["under_covered"]), "x": round(xy[0], 4), "y": round(xy[1], 4),
                         "extra": {name: values.get(c) for name, values in columns.items()}})
    samples = [[int(cov.members[pid]), status, (rp or "")[:SAMPLE_TEXT], (ot or "")[:SAMPLE_TEXT]]
               for pid, status, rp, ot in ctx.store.query(
                   "SELECT prompt_id, status, rewrite_prompt, original_text FROM samples "
                   "WHERE prompt_id IS NOT NULL AND status != 'rejected' ORDER BY rowid")
               if pid in cov.members]
    summary = {"clusters": clusters, "columns": list(columns), "basis": cov.basis, "gaps": cov.gaps,
               "figures": cov.figures, "n_prompts": len(prompts), "n_samples": len(samples),
               "map_sampled": len(chosen) < len(prompts)}
    return summary, {"prompts": prompts, "points": points, "samples": samples, "far": cov.far}


def render_report(ctx: "Context", coverage: "Coverage", out: Path, model: str | None = None,
                  sections: Sequence[ReportSection] = (), columns: Mapping[str, Mapping[int, Any]] | None = None
                  ) -> Path:
    """Write the report to ``out`` (atomically) and return its path."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("curator", "report"),
                             autoescape=jinja2.select_autoescape(["html"]))
    summary, blobs = _payload(ctx, coverage, model, columns or {})
    page = env.get_template("report.html").render(
        corpus=str(ctx.root), created=utcnow(), summary_json=_json_for_script(summary),
        blobs={k: _blob(v) for k, v in blobs.items()}, overall=coverage.figures, basis=coverage.basis,
        gaps=coverage.gaps, target=coverage.target or "all target datasets", clustering=coverage.clustering_id,
        clustering_name=coverage.clustering_name, sections=list(sections))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def write_report(ctx: "Context", coverage: "Coverage", out: Path, model: str | None = None, *, card: bool = True,
                 sections: Sequence[ReportSection] = (), columns: Mapping[str, Mapping[int, Any]] | None = None
                 ) -> Path:
    """The report as ``curator coverage --html`` writes it: the explorer plus the dataset card's
    section (training vs target side; the difficulty figures, which need a metric model and the
    mean-prompt search, are left to ``curator card``). A card that cannot be built (no target
    set yet) becomes a one-line note in its place rather than no report."""
    import html as _html

    from ..errors import CuratorError

    extra = list(sections)
    if card:
        from ..card import build_card
        from ..cardhtml import render_card_section

        try:
            built = build_card(ctx, target=coverage.target, model=model, difficulty=False)
            extra.insert(0, ReportSection("Dataset card", render_card_section(built), "card"))
        except CuratorError as exc:
            extra.insert(0, ReportSection("Dataset card", f"<p>No card: {_html.escape(str(exc))}</p>", "card"))
    # nothing after this point reads the full vector matrices coverage and the card shared
    ctx.store.release_large()
    return render_report(ctx, coverage, out, model, sections=extra, columns=columns)
