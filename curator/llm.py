"""An async client for any OpenAI-compatible chat-completions endpoint, with a journal.

Works with OpenAI, Gemini's OpenAI-compatible endpoint, vLLM, Ollama and llama.cpp servers:
only ``POST {base_url}/chat/completions`` is used, through httpx directly. (The ``openai`` SDK
was the first version; its request/response model transforms cost ~1.3 ms of CPU per call,
which capped throughput at 1.25× the latency bound at concurrency 32; plain httpx reaches the
bound. Our retries honour ``Retry-After`` and are recorded.)

What :func:`run_journaled` guarantees:

- **Journal**: each request is keyed by a hash of (model, messages, parameters, seed) in
  ``llm_calls``. An answered request is never sent again: a re-run after a crash or Ctrl-C sends
  only what is not answered yet. The handler that turns an answer into rows runs in the *same*
  transaction as the journal update, so a sample is stored exactly once.
- **Limits**: at most ``concurrency`` requests in flight, ``rpm`` requests and ``tpm`` tokens per
  rolling minute, a per-request ``timeout``.
- **Retries**: 429, 5xx, timeouts and connection errors are retried up to ``max_retries`` times
  with exponential backoff (1 s · 2^attempt, capped at 60 s) plus full jitter; a ``Retry-After``
  header wins when present. Other 4xx are final.
- **JSON mode**: ``response_format={"type": "json_object"}`` when asked; a server that rejects the
  parameter (400) is asked again without it, and remembered.
- **Cost**: prices per million tokens from ``curator.toml`` ``[llm.prices]``; ``max_cost`` stops
  sending before the next call could cross the cap (its worst case: estimated input tokens plus
  ``max_tokens`` of output), and spending is summed from the reported usage.

API keys come only from the environment variable named by ``api_key_env`` and are never stored
in the journal or printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import CuratorError
from .net import RETRYABLE_STATUSES, RetryPolicy, describe_network_error, parse_retry_after
from .store import dumps, utcnow
from .tokens import count_message_tokens

if TYPE_CHECKING:
    import sqlite3

    from .context import Context

RATE_WINDOW = 60.0  # seconds of the rolling RPM/TPM window (tests shorten it)


@dataclass
class LLMConfig:
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    rpm: int | None = None
    tpm: int | None = None
    timeout: float = 60.0
    max_retries: int = 4
    json_mode: bool = True
    prices: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_corpus(cls, corpus: "Context", **overrides: Any) -> "LLMConfig":
        """The corpus settings' [llm] values (file < environment), then the non-None overrides."""
        values = corpus.settings.section("llm")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def price(self) -> tuple[float, float] | None:
        p = self.prices.get(self.model)
        return (float(p["input"]), float(p["output"])) if p else None

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        p = self.price()
        return 0.0 if p is None else (tokens_in * p[0] + tokens_out * p[1]) / 1e6

    def api_key(self) -> str:
        # local servers (vLLM, Ollama, llama.cpp) accept any key; hosted ones say so when it is wrong
        return os.environ.get(self.api_key_env) or "not-needed"


@dataclass
class ChatRequest:
    messages: list[dict]
    temperature: float = 0.7
    seed: int | None = None
    max_tokens: int = 600
    json: bool = True
    meta: dict = field(default_factory=dict)  # carried to the handler; not part of the hash

    def payload(self, model: str) -> dict:
        return {"model": model, "messages": self.messages, "temperature": self.temperature,
                "seed": self.seed, "max_tokens": self.max_tokens, "json": self.json}

    def hash(self, model: str) -> str:
        return hashlib.sha256(dumps(self.payload(model)).encode()).hexdigest()[:32]

    def estimated_tokens_in(self) -> int:
        if "_tokens_in" not in self.__dict__:  # tokenising costs ~0.1 ms: once per request
            self.__dict__["_tokens_in"] = count_message_tokens(self.messages)
        return self.__dict__["_tokens_in"]


# handler(conn, request, content) -> None if the answer was used, else the reason it is invalid
Handler = Callable[["sqlite3.Connection", ChatRequest, str], "str | None"]


@dataclass
class RunSummary:
    planned: int = 0
    cached: int = 0
    sent: int = 0
    ok: int = 0
    invalid: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    not_sent_cost_cap: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    retries: int = 0
    invalid_requests: list[ChatRequest] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "invalid_requests"}
        d["invalid"] = dict(self.invalid)
        d["failed"] = dict(self.failed)
        d["cost"] = round(self.cost, 6)
        return d


class RateLimiter:
    """Requests-per-minute and tokens-per-minute over a rolling 60 s window."""

    def __init__(self, rpm: int | None, tpm: int | None, window: float = 60.0):
        self.rpm, self.tpm, self.window = rpm, tpm, window
        self.events: deque[tuple[float, int]] = deque()
        self.lock = asyncio.Lock()

    async def acquire(self, tokens: int) -> None:
        if not self.rpm and not self.tpm:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.events and now - self.events[0][0] >= self.window:
                    self.events.popleft()
                used = sum(t for _, t in self.events)
                if (not self.rpm or len(self.events) < self.rpm) and (not self.tpm or used + tokens <= self.tpm
                                                                      or not self.events):
                    self.events.append((now, tokens))
                    return
                await asyncio.sleep(max(0.01, self.window - (now - self.events[0][0])))


class CallFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _retry_after(headers) -> float | None:
    return parse_retry_after(headers.get("retry-after")) if headers is not None else None


async def _call(client, cfg: LLMConfig, req: ChatRequest, state: dict, summary: RunSummary,
                sleep=asyncio.sleep) -> tuple[str, int, int]:
    """One request with retries; returns (content, tokens_in, tokens_out)."""
    import httpx

    attempt = 0
    while True:
        body: dict[str, Any] = {"model": cfg.model, "messages": req.messages, "temperature": req.temperature,
                                "max_tokens": req.max_tokens}
        if req.seed is not None:
            body["seed"] = req.seed
        if req.json and cfg.json_mode and state.get("json_ok", True):
            body["response_format"] = {"type": "json_object"}
        headers = None
        try:
            resp = await client.post("chat/completions", json=body)
            status, headers = resp.status_code, resp.headers
            if status == 200:
                data = resp.json()
                choices = data.get("choices") or []
                if not choices:
                    raise CallFailed("empty response (no choices)")
                content = (choices[0].get("message") or {}).get("content") or ""
                usage = data.get("usage") or {}
                tin = usage.get("prompt_tokens") or req.estimated_tokens_in()
                tout = usage.get("completion_tokens") or 0
                return content, int(tin), int(tout)
            if status == 400 and "response_format" in body and "response_format" in resp.text.lower():
                state["json_ok"] = False  # this server has no JSON mode: ask without it from now on
                continue
            if status not in RETRYABLE_STATUSES:
                raise CallFailed(f"http {status}: {resp.text[:120]}" if status in (400, 404, 422) else f"http {status}")
            reason = f"http {status}"
        except httpx.TimeoutException:
            reason = "timeout"
        except httpx.TransportError as exc:
            reason = describe_network_error(exc)
        except ValueError as exc:  # a 200 whose body is not JSON
            raise CallFailed("invalid response body (not JSON)") from exc
        if attempt >= cfg.max_retries:
            raise CallFailed(reason)
        wait = RetryPolicy(retries=cfg.max_retries, jitter="full").wait(attempt, _retry_after(headers))
        attempt += 1
        summary.retries += 1
        await sleep(min(wait, 120.0))


async def run_journaled(corpus: "Context", requests: list[ChatRequest], cfg: LLMConfig, purpose: str,
                        handler: Handler, max_cost: float | None = None,
                        progress_label: str | None = None) -> RunSummary:
    """Send every request not yet answered, at most ``cfg.concurrency`` at a time; see module doc."""
    import httpx

    from .console import progress

    summary = RunSummary(planned=len(requests))
    journal = {h: s for h, s in corpus.store.query("SELECT request_hash, status FROM llm_calls")}
    spent = corpus.store.scalar("SELECT COALESCE(SUM(cost), 0) FROM llm_calls WHERE purpose = ?", (purpose,)) \
        if max_cost is not None else 0.0
    todo = []
    seen = set()
    for req in requests:
        h = req.hash(cfg.model)
        if h in seen:
            continue
        seen.add(h)
        if journal.get(h) in ("ok", "invalid"):
            summary.cached += 1
        else:
            todo.append((h, req))
    if not todo:
        return summary
    client = httpx.AsyncClient(
        base_url=cfg.base_url.rstrip("/") + "/", timeout=cfg.timeout,
        headers={"Authorization": f"Bearer {cfg.api_key()}", "User-Agent": "curator"},
        limits=httpx.Limits(max_connections=cfg.concurrency, max_keepalive_connections=cfg.concurrency))
    limiter = RateLimiter(cfg.rpm, cfg.tpm, RATE_WINDOW)
    sem = asyncio.Semaphore(cfg.concurrency)
    state: dict = {}
    budget = {"spent": float(spent or 0.0), "reserved": 0.0}

    async def one(h: str, req: ChatRequest, bar, task) -> None:
        async with sem:
            worst = cfg.cost(req.estimated_tokens_in(), req.max_tokens) if max_cost is not None else 0.0
            if max_cost is not None and budget["spent"] + budget["reserved"] + worst > max_cost:
                summary.not_sent_cost_cap += 1
                bar.advance(task)
                return
            budget["reserved"] += worst
            if cfg.rpm or cfg.tpm:
                await limiter.acquire(req.estimated_tokens_in() + req.max_tokens)
            started = utcnow()
            request_json = dumps({**req.payload(cfg.model), "base_url": cfg.base_url, "purpose": purpose})
            summary.sent += 1
            try:
                content, tin, tout = await _call(client, cfg, req, state, summary)
            except CallFailed as exc:
                budget["reserved"] -= worst
                summary.failed[exc.reason] += 1
                with corpus.store.transaction() as conn:
                    conn.execute("INSERT OR REPLACE INTO llm_calls (request_hash, purpose, model, request, status,"
                                 " error, started_at, finished_at) VALUES (?, ?, ?, ?, 'failed', ?, ?, ?)",
                                 (h, purpose, cfg.model, request_json, exc.reason, started, utcnow()))
                bar.advance(task)
                return
            cost = cfg.cost(tin, tout)
            budget["reserved"] -= worst
            budget["spent"] += cost
            summary.tokens_in += tin
            summary.tokens_out += tout
            summary.cost += cost
            with corpus.store.transaction() as conn:
                reason = handler(conn, req, content)
                conn.execute("INSERT OR REPLACE INTO llm_calls (request_hash, purpose, model, request, response,"
                             " status, error, tokens_in, tokens_out, cost, started_at, finished_at)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (h, purpose, cfg.model, request_json, content, "invalid" if reason else "ok", reason,
                              tin, tout, cost, started, utcnow()))
            if reason:
                summary.invalid[reason.split(":")[0]] += 1
                summary.invalid_requests.append(req)
            else:
                summary.ok += 1
            bar.advance(task)

    try:
        with progress() as bar:
            task = bar.add_task(progress_label or f"{purpose} ({cfg.model})", total=len(todo))
            await asyncio.gather(*(one(h, r, bar, task) for h, r in todo))
    finally:
        await client.aclose()
    return summary


def run_sync(coro):
    """Run a coroutine from synchronous code (the CLI)."""
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        raise CuratorError("interrupted: answered calls are journaled; run the same command again to resume") from None


def parse_json_object(text: str) -> dict | None:
    """The JSON object in a model answer: the whole text, or the first {...} span (code fences and
    preambles are common). Parsed with ``json`` only — model output is never evaluated."""
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[text.find("\n") + 1:] if "\n" in text else text
    for candidate in (text, text[text.find("{"): text.rfind("}") + 1] if "{" in text else ""):
        if not candidate:
            continue
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None
