"""The card as HTML: a fragment for the coverage report and a standalone page for ``--html``.

Everything is escaped (``html.escape``): prompt texts and labels come from scraped pages and
LLM output. No scripts, no external resources: the page opens offline and from any mail client.
"""

from __future__ import annotations

import html
from typing import Any

from .store import utcnow

STYLE = """
.card{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#222;max-width:1100px}
.card h2{font-size:20px;margin:.6em 0 .2em}.card h3{font-size:16px;margin:1.2em 0 .3em}
.card table{border-collapse:collapse;margin:.3em 0}.card td,.card th{border-bottom:1px solid #ddd;padding:3px 10px;
text-align:right;vertical-align:top}.card td:first-child,.card th:first-child{text-align:left}
.card .how{color:#666;font-size:12px;margin:.1em 0 .6em;max-width:900px}.card .big{font-size:18px;font-weight:600}
.card .err{color:#a00}.card .prompt{font-family:ui-monospace,monospace;background:#f4f4f4;padding:2px 6px}
"""


def _e(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _how(section: dict) -> str:
    return f'<p class="how">How: {_e(section.get("method", ""))}</p>'


def render_card_section(card: Any) -> str:
    """An HTML fragment (a ``<section class="card">``) of a card or its ``as_dict()``."""
    d = card.as_dict() if hasattr(card, "as_dict") else card
    out = [f"<section class=\"card\"><h2>Dataset card</h2><p>training side: <b>{_e(d['basis'])}</b>; target: "
           f"<b>{_e(d['target'] or 'all target sets')}</b>; embeddings: {_e(d['embed_model'])}</p>"]
    c = d["counts"]
    out.append("<h3>Counts</h3>" + _table(["", "training", "target"], [
        ["prompts", c["training"]["prompts"], c["target"]["prompts"]],
        ["samples", c["training"]["samples"], c["target"]["samples"]],
        ["multi-instruction share", c["training"]["multi_instruction_share"], c["target"]["multi_instruction_share"]],
    ] + [[f"samples {s}", n, ""] for s, n in c["training"]["samples_by_status"].items()]
      + [[f"samples from {o}", n, ""] for o, n in c["training"]["samples_by_origin"].items()]) + _how(c))
    rows = []
    for name in ("prompt", "original_text", "rewritten_text"):
        p = d["lengths"][name]
        for side in ("training", "target"):
            q = p[side]
            rows.append([f"{name} ({side})", q["n"], q["p10"], q["p50"], q["p90"], q["max"], q["over_limit"],
                         p["ks"]["statistic"] if side == "training" else ""])
    out.append("<h3>Lengths in words</h3>" + _table(["", "n", "p10", "median", "p90", "max", "over limit", "KS"], rows)
               + _how(d["lengths"]))
    dist, pr, rc = d["distance"], d["precision"], d["recall"]
    out.append("<h3>Distribution</h3>" + _table(["figure", "value", "detail"], [
        ["Fréchet distance", dist["value"], f"95% CI {dist['ci95'][0]}–{dist['ci95'][1]}, "
                                            f"{dist['n_training']} vs {dist['n_target']} prompts"],
        ["precision", pr["value"], f"k={pr['k']}"], ["recall", rc["value"], f"k={rc['k']}"],
    ]) + "".join(_how(s) for s in (dist, pr, rc)))
    cov = d["coverage"]
    out.append("<h3>Target coverage</h3>" + _table(
        ["cosine ≥", *cov["thresholds"].keys(), "mean best"],
        [["share of target prompts", *cov["thresholds"].values(), cov["mean_best_cosine"]]]) + _how(cov))
    div = d["diversity"]
    out.append("<h3>Diversity</h3>" + _table(["", "training", "target"], [
        ["Vendi score", div["training"]["vendi"], div["target"]["vendi"]],
        ["effective clusters", div["training"]["effective_clusters"], div["target"]["effective_clusters"]],
        ["clusters present", div["training"]["clusters_present"], div["target"]["clusters_present"]],
    ]) + _how(div))
    diff = d.get("difficulty")
    if diff is not None:
        out.append("<h3>Difficulty</h3>")
        if "error" in diff:
            out.append(f'<p class="err">not computed: {_e(diff["error"])}</p>')
        else:
            out.append(f'<p>mean prompt ({_e(diff["metric_model"])}, of {_e(diff["mean_prompt_set"])}): '
                       f'<span class="prompt">{_e(diff["mean_prompt"])}</span></p>')
            out.append(_table(["mean SCS", "training", "target"], [
                ["mean prompt", diff["mean_prompt_score"]["training"], diff["mean_prompt_score"]["target"]]]
                + [[f"predictor {p}", v["mean"], ""] for p, v in diff["predictors"].items()]))
            preds = list(diff["predictors"])
            out.append(_table(["cluster", "label", "training", "target", "hardness training", "hardness target",
                               *preds], [[r["cluster"], r["label"], r["training_prompts"], r["target_prompts"],
                                          r["hardness_training"], r["hardness_target"],
                                          *(r["predictors"].get(p) for p in preds)] for r in diff["clusters"]]))
        out.append(_how(diff))
    out.append("</section>")
    return "\n".join(out)


def render_card_page(card: Any) -> str:
    """A standalone, self-contained HTML page holding the card section."""
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>curator dataset card</title>"
            f"<style>{STYLE}</style></head><body>{render_card_section(card)}"
            f"<p class=\"how\">written by curator card at {_e(utcnow())}</p></body></html>\n")
