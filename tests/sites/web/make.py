"""Render the local test web: ``python tests/sites/web/make.py`` writes pages/*.html and truth.json.

A page is a chrome (chromes.py) around a body built from blocks; the blocks that hold prompts
declare them, so the ground truth is the exact list of prompts a reader would copy, in page
order, with placeholders in their normal form. Everything else on the page (intros, tips for the
reader, how-to steps, sample outputs, benefit lists, navigation, ads, comments) is a distractor.

The pages in ``spec_heldout.py`` were written together with the development pages and sealed
(their sha256 is in truth.json and docs/sources.md) before any extraction rule was tuned; they
are measured only for the final figures.
"""

from __future__ import annotations

import hashlib
import json
import sys
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
sys.path.insert(0, str(HERE))

from chromes import CHROMES  # noqa: E402

from curator.placeholders import normalise_placeholders  # noqa: E402


def e(text: str) -> str:
    return escape(text, quote=False)


def render(blocks: list[tuple]) -> tuple[str, list[str], list[str]]:
    """(body html, prompts in order, block kinds holding prompts)."""
    out: list[str] = []
    prompts: list[str] = []
    kinds: list[str] = []

    def add(prompt: str, kind: str) -> None:
        prompts.append(normalise_placeholders(" ".join(prompt.split())))
        kinds.append(kind)

    for block in blocks:
        kind, *args = block
        if kind in ("h2", "h3", "h4"):
            out.append(f"<{kind}>{e(args[0])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{args[0]}</p>")
        elif kind in ("ol", "ul"):
            out.append(f"<{kind}>" + "".join(f"<li>{e(p)}</li>" for p in args[0]) + f"</{kind}>")
            for p in args[0]:
                add(p, "list")
        elif kind == "lead_li":
            tag = "ol" if len(args) > 1 and args[1] else "ul"
            out.append(f"<{tag}>" + "".join(f"<li><strong>{e(lead)}:</strong> {e(p)}</li>" for lead, p in args[0])
                       + f"</{tag}>")
            for _, p in args[0]:
                add(p, "list")
        elif kind == "quoted_li":
            out.append("<ul>" + "".join(f"<li>“{e(p)}”</li>" for p in args[0]) + "</ul>")
            for p in args[0]:
                add(p, "list")
        elif kind == "framing":
            tag = args[1] if len(args) > 1 else "p"
            items = [f"<{tag}>{e(purpose)}: “{e(p)}”</{tag}>" for purpose, p in args[0]]
            out.append(("<ul>" + "".join(items) + "</ul>") if tag == "li" else "".join(items))
            for _, p in args[0]:
                add(p, "framing")
        elif kind == "table":
            header, rows, col = args
            head = "".join(f"<th>{e(h)}</th>" for h in header)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
            out.append(f"<figure class='wp-block-table'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></figure>")
            for row in rows:
                add(row[col], "table")
        elif kind == "dl":
            out.append("<dl>" + "".join(f"<dt>{e(t)}</dt><dd>{e(p)}</dd>" for t, p in args[0]) + "</dl>")
            for _, p in args[0]:
                add(p, "dl")
        elif kind == "quote":
            for p in args[0]:
                out.append(f"<blockquote><p>{e(p)}</p></blockquote>")
                add(p, "quote")
        elif kind == "code":
            for p in args[0]:
                out.append(f"<pre><code>{e(p)}</code></pre>")
                add(p, "code")
        elif kind == "numhead":
            items, label = args[0], (args[1] if len(args) > 1 else None)
            for i, (title, expl, p) in enumerate(items, start=1):
                out.append(f"<h3>{i}. {e(title)}</h3>")
                if expl:
                    out.append(f"<p>{e(expl)}</p>")
                out.append(f"<p><strong>{e(label)}</strong> {e(p)}</p>" if label else f"<p>{e(p)}</p>")
                add(p, "numhead")
        elif kind == "label":
            for label, p in args[0]:
                style = args[1] if len(args) > 1 else "strong"
                lead = {"strong": f"<strong>{e(label)}</strong>", "em": f"<em>{e(label)}</em>", "plain": e(label)}[style]
                out.append(f"<p>{lead} {e(p)}</p>")
                add(p, "label")
        elif kind == "br":
            out.append("<p>" + "<br>\n".join(e(p) for p in args[0]) + "</p>")
            for p in args[0]:
                add(p, "br")
        elif kind == "emoji":
            for emo, p in args[0]:
                out.append(f"<p>{emo} {e(p)}</p>")
                add(p, "emoji")
        elif kind == "nested":
            items = "".join(f"<li>{e(cat)}<ul>" + "".join(f"<li>{e(p)}</li>" for p in ps) + "</ul></li>"
                            for cat, ps in args[0])
            out.append(f"<ul>{items}</ul>")
            for _, ps in args[0]:
                for p in ps:
                    add(p, "nested")
        elif kind == "output":
            label, sample = args
            out.append(f"<p><strong>{e(label)}</strong></p><blockquote><p>{e(sample)}</p></blockquote>")
        elif kind == "output_inline":
            label, sample = args
            out.append(f"<p><em>{e(label)}</em> “{e(sample)}”</p>")
        elif kind == "tip":
            out.append(f"<p><strong>{e(args[0])}</strong> {e(args[1])}</p>")
        elif kind == "callout":
            out.append(f"<div class='admonition note'><p class='admonition-title'>{e(args[0])}</p><p>{e(args[1])}</p></div>")
        elif kind == "heading_prompt":
            for i, (p, expl) in enumerate(args[0], start=1):
                out.append(f"<h3>{i}. “{e(p)}”</h3><p>{e(expl)}</p>")
                add(p, "heading")
        elif kind == "quoted_comment_li":
            out.append("<ul>" + "".join(f"<li>“{e(p)}” – {e(c)}</li>" for p, c in args[0]) + "</ul>")
            for p, _ in args[0]:
                add(p, "list")
        elif kind == "promptbox":
            for p in args[0]:
                out.append(f"<div class='prompt-box'><p class='prompt-text'>{e(p)}</p><button class='copy-btn'>Copy</button></div>")
                add(p, "box")
        elif kind == "label_then_block":
            for label, p, tag in args[0]:
                inner = f"<pre><code>{e(p)}</code></pre>" if tag == "pre" else f"<{tag}>{e(p)}</{tag}>"
                out.append(f"<p><strong>{e(label)}</strong></p>{inner}")
                add(p, "label")
        elif kind == "em_p":
            for p in args[0]:
                out.append(f"<p><em>{e(p)}</em></p>")
                add(p, "em")
        elif kind == "li_expl":
            out.append("<ol>" + "".join(f"<li>{e(p)}<br><small>{e(x)}</small></li>" for p, x in args[0]) + "</ol>")
            for p, _ in args[0]:
                add(p, "list")
        elif kind == "caption":
            out.append(f"<figure><img src='/img/x.png' alt=''><figcaption>{e(args[0])}</figcaption></figure>")
        elif kind in ("howto", "bullets"):
            tag = "ol" if kind == "howto" else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{e(t)}</li>" for t in args[0]) + f"</{tag}>")
        else:
            raise ValueError(kind)
    return "\n".join(out), prompts, kinds


def build() -> dict:
    from spec_dev import PAGES as DEV
    from spec_dev2 import PAGES as DEV2
    from spec_heldout import PAGES as HELDOUT
    from spec_heldout2 import PAGES as HELDOUT2
    from spec_heldout3 import PAGES as HELDOUT3

    pages_dir = HERE / "pages"
    pages_dir.mkdir(exist_ok=True)
    truth = {}
    for heldout, specs, offset in ((False, DEV, 0), (True, HELDOUT, 50), (False, DEV2, 100), (True, HELDOUT2, 150),
                                    (True, HELDOUT3, 200)):
        for n, spec in enumerate(specs):
            body, prompts, kinds = render(spec["blocks"])
            html = CHROMES[spec["chrome"]](spec["title"], body, seed=n + offset)
            path = pages_dir / f"{spec['name']}.html"
            path.write_text(html, encoding="utf-8")
            truth[spec["name"]] = {"chrome": spec["chrome"], "heldout": heldout, "prompts": prompts,
                                   "kinds": kinds, "sha256": hashlib.sha256(html.encode()).hexdigest()}
    (HERE / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return truth


if __name__ == "__main__":
    t = build()
    print(f"{len(t)} pages, {sum(len(v['prompts']) for v in t.values())} prompts "
          f"({sum(len(v['prompts']) for v in t.values() if v['heldout'])} held out)")
