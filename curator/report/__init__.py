"""The self-contained HTML coverage report: one file, plotly.js inlined, every string escaped.

Why inline plotly.js (≈4.8 MB): the report must open offline and on machines that block CDNs.
Escaping: the page is rendered by jinja2 with autoescape on; the figure JSON is embedded in a
``<script type="application/json">`` element with ``<``, ``>`` and ``&`` written as ``\\u003c``
etc., so no scraped prompt can close the element; hover texts are HTML-escaped before plotly
sees them, because plotly renders a subset of HTML in hover labels.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..queries import canonical_prompts
from ..store import utcnow

if TYPE_CHECKING:
    from ..coverage import Coverage
    from ..context import Context

MAP_SAMPLE = 5000


def _json_for_script(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=_jsonable)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(type(v))


def map_points(corpus: "Context", model: str | None = None, limit: int = MAP_SAMPLE) -> dict:
    """2-D PCA projection of canonical prompts with their cluster and (escaped) text."""
    from sklearn.decomposition import PCA

    from ..cluster import assignments
    from ..embed import embed_texts

    cluster_of = assignments(corpus)
    rows = [r for r in canonical_prompts(corpus)
            if r["id"] in cluster_of]
    if len(rows) > limit:
        rng = np.random.default_rng(0)
        rows = [rows[i] for i in sorted(rng.choice(len(rows), size=limit, replace=False))]
    if len(rows) < 3:
        return {"x": [], "y": [], "cluster": [], "text": []}
    x = embed_texts(corpus, [r["text"] for r in rows], model=model, progress=False)
    xy = PCA(n_components=2, random_state=0).fit_transform(x)
    return {"x": np.round(xy[:, 0], 4).tolist(), "y": np.round(xy[:, 1], 4).tolist(),
            "cluster": [int(cluster_of[r["id"]]) for r in rows],
            "text": [html.escape(r["text"][:200]) for r in rows]}


def render_report(corpus: "Context", coverage: "Coverage", out: Path, model: str | None = None) -> Path:
    """Write the report to ``out`` (atomically) and return its path."""
    import jinja2
    import plotly.offline

    env = jinja2.Environment(loader=jinja2.PackageLoader("curator", "report"),
                             autoescape=jinja2.select_autoescape(["html"]))
    frame = coverage.clusters
    points = map_points(corpus, model)
    traces = []
    for c in sorted(set(points["cluster"])):
        idx = [i for i, v in enumerate(points["cluster"]) if v == c]
        traces.append({"type": "scattergl" if len(points["x"]) > 2000 else "scatter", "mode": "markers",
                       "name": f"{c}", "x": [points["x"][i] for i in idx], "y": [points["y"][i] for i in idx],
                       "text": [points["text"][i] for i in idx], "hoverinfo": "text+name",
                       "marker": {"size": 6, "opacity": 0.75}})
    labels = [f"{int(c)}: {html.escape(str(lab))[:30]}" for c, lab in zip(frame["cluster"], frame["label"])]
    bars = [
        {"type": "bar", "name": "training share", "x": labels, "y": frame["train_share"].tolist()},
        {"type": "bar", "name": "target share", "x": labels, "y": frame["target_share"].tolist()},
    ]
    figures = {
        "map": {"data": traces, "layout": {"title": {"text": "Prompts (PCA of embeddings), coloured by cluster"},
                                           "height": 600, "hovermode": "closest", "legend": {"title": {"text": "cluster"}}}},
        "bars": {"data": bars, "layout": {"title": {"text": "Training vs target share per cluster"},
                                          "barmode": "group", "height": 450, "xaxis": {"tickangle": -45}}},
    }
    gap_rows = []
    for rec in frame.sort_values("gap", ascending=False).to_dict(orient="records"):
        c = int(rec["cluster"])
        gap_rows.append({**rec, "examples_training": coverage.examples.get(c, {}).get("training", []),
                         "examples_target": coverage.examples.get(c, {}).get("target", [])})
    page = env.get_template("report.html").render(
        corpus=str(corpus.root), created=utcnow(), figures_json=_json_for_script(figures),
        plotly_js=plotly.offline.get_plotlyjs(), rows=gap_rows, overall=coverage.figures,
        gaps=coverage.gaps, target=coverage.target or "all target datasets", clustering=coverage.clustering_id)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
