"""`curator predict`: an LLM guesses the prompt of each sample, through the journaled client.

The recovery template (``llm_templates/predict.txt``) asks the model to analyse the differences
first, then answer the most likely prompt as JSON ``{"analysis": …, "prompt": …}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .generate import load_template, render
from .items import add_prediction
from .llm import ChatRequest, LLMConfig, RunSummary, parse_json_object, run_journaled

if TYPE_CHECKING:
    from .context import Context


async def predict(corpus: "Context", cfg: LLMConfig, predictor: str | None = None, dataset: str | None = None,
                  status: str | None = None, limit: int | None = None, max_cost: float | None = None,
                  seed: int = 0) -> tuple[str, RunSummary]:
    predictor = predictor or f"llm:{cfg.model}"
    where, params = ["s.id NOT IN (SELECT sample_id FROM predictions WHERE predictor = ?)"], [predictor]
    if dataset:
        where.append("s.dataset = ?")
        params.append(dataset)
    if status:
        where.append("s.status = ?")
        params.append(status)
    sql = f"SELECT s.id, s.original_text, s.rewritten_text FROM samples s WHERE {' AND '.join(where)} ORDER BY s.id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    tpl = load_template(corpus, "predict")
    requests = [ChatRequest([{"role": "user", "content": render(tpl, original_text=r["original_text"],
                                                                 rewritten_text=r["rewritten_text"])}],
                            0.0, seed, 400, json=True, meta={"sample_id": r["id"]})
                for r in corpus.store.query(sql, params)]

    def handle(conn, req, content):
        data = parse_json_object(content)
        prompt = data.get("prompt") if data else None
        if not isinstance(prompt, str) or not prompt.strip():
            return "malformed: no prompt in the answer"
        add_prediction(conn, req.meta["sample_id"], predictor, prompt, {"model": cfg.model})
        return None

    return predictor, await run_journaled(corpus, requests, cfg, "predict", handle, max_cost)
