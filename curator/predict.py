"""`curator predict`: an LLM guesses the prompt of each sample, as an :class:`~curator.llm.LLMTask`.

The recovery template (``llm_templates/predict.txt``) asks the model to analyse the differences
first, then answer the most likely prompt as JSON ``{"analysis": …, "prompt": …}``. Samples that
already have a prediction from this predictor are not asked again; an answer without a prompt is
asked again with a new seed (``retries``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .items import add_prediction
from .llm import (Budget, ChatRequest, Invalid, LLMConfig, LLMTask, RunSummary, call_sync, check, load_template,
                  parse_json_object, render, run_task)

if TYPE_CHECKING:
    from .context import Context

RETRY_SEED_STEP = 1_000_003


class PredictTask(LLMTask):
    purpose = "predict"

    def __init__(self, ctx: "Context", rows: list, cfg: LLMConfig, predictor: str, seed: int, retries: int):
        self.rows, self.cfg, self.predictor, self.seed, self.retries = rows, cfg, predictor, seed, retries
        self.label = f"predict ({cfg.model})"
        self.template = load_template(ctx, "predict")

    def items(self):
        return self.rows

    def key(self, row) -> str:
        return row["id"]

    def request(self, row, index: int, attempt: int) -> ChatRequest:
        content = render(self.template, original_text=row["original_text"], rewritten_text=row["rewritten_text"])
        return ChatRequest([{"role": "user", "content": content}], 0.0, self.seed + attempt * RETRY_SEED_STEP, 400,
                           json=True)

    def parse(self, row, content: str) -> str:
        data = parse_json_object(content)
        prompt = data.get("prompt") if data else None
        if not isinstance(prompt, str) or not prompt.strip():
            raise Invalid("malformed: no prompt in the answer")
        return prompt

    def store(self, conn, row, prompt: str, req: ChatRequest, request_hash: str) -> int:
        return int(add_prediction(conn, row["id"], self.predictor, prompt,
                                  {"model": self.cfg.model, "request_hash": request_hash}))


@dataclass
class PredictSummary:
    predictor: str
    llm: RunSummary = field(default_factory=RunSummary)

    def as_dict(self) -> dict[str, Any]:
        return {"predictor": self.predictor, "predictions_added": self.llm.stored, **self.llm.as_dict()}

    def check(self) -> None:
        check(self.llm)


def predict(ctx: "Context", *, predictor: str | None = None, dataset: str | None = None, status: str | None = None,
            limit: int | None = None, seed: int = 0, retries: int | None = None, max_cost: float | None = None,
            **llm: Any) -> PredictSummary:
    """Predict the prompt of every sample (of ``dataset``/``status``) that has no prediction from
    ``predictor`` yet (default ``llm:MODEL``). ``llm`` overrides [llm] settings."""
    from .generate import _retries

    cfg = LLMConfig.from_settings(ctx, **llm)
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
    rows = [dict(r) for r in ctx.store.query(sql, params)]
    task = PredictTask(ctx, rows, cfg, predictor, seed, _retries(ctx, retries))
    summary = PredictSummary(predictor)
    if rows:
        cfg.check_ready(max_cost)
        summary.llm = call_sync(ctx, lambda c: run_task(c, task, cfg, Budget(max_cost)))
    with ctx.store.transaction():
        ctx.store.log_event("predict", {"model": cfg.model, "predictor": predictor, "dataset": dataset,
                                        "status": status, "limit": limit}, summary.as_dict())
    return summary
