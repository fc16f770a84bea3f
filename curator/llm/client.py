"""One OpenAI-compatible chat-completions endpoint: configuration, requests, and the HTTP call.

Works with OpenAI, Gemini's OpenAI-compatible endpoint, vLLM, Ollama and llama.cpp servers: only
``POST {base_url}/chat/completions`` is used.

Why aiohttp and not httpx (which the scraper uses): at 32 requests in flight, httpx/httpcore
spends most of its CPU in connection-pool bookkeeping (every request walks every pooled
connection's ``has_expired`` → anyio ``extra_info`` lookups, and sets up an event that probes for
trio by trying to import it). Measured here on 2 cores, 2,000 calls at 100 ms latency: httpx
8.5 s of client CPU and 3.6× the latency bound; aiohttp 0.6 s of CPU and 1.07×. The openai SDK
sits on httpx and adds ~1.3 ms per call of model transforms, so it is not used either.

Retries follow :class:`curator.net.RetryPolicy` (the scraper's policy): 429, 5xx, timeouts and
connection errors are retried up to ``max_retries`` times with exponential backoff and full
jitter; a ``Retry-After`` header wins. 401/403 are never retried (:class:`AuthRefused`): a wrong
key stays wrong. A server without JSON mode (400 naming ``response_format``) is asked again
without it, and remembered.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import ssl
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from ..errors import CuratorError, RemoteError
from ..net import AUTH_STATUSES, RETRYABLE_STATUSES, RetryPolicy, describe_network_error, parse_retry_after
from ..store import dumps
from ..tokens import count_message_tokens

if TYPE_CHECKING:
    from ..context import Context

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


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
    def from_settings(cls, ctx: "Context", price_in: float | None = None, price_out: float | None = None,
                      **overrides: Any) -> "LLMConfig":
        """The corpus's [llm] settings (defaults < curator.toml < environment) with the non-None
        ``overrides`` applied and validated like the file (``concurrency=0`` is refused).
        ``price_in``/``price_out`` (USD per million tokens) price the chosen model."""
        names = {f.name for f in fields(cls)}
        settings = ctx.settings.override("llm", **{k: v for k, v in overrides.items() if v is not None})
        values = {k: v for k, v in settings.section("llm").items() if k in names}
        cfg = cls(**values)
        if (price_in is None) != (price_out is None):
            raise CuratorError("--price-in and --price-out go together (USD per million input/output tokens)")
        if price_in is not None:
            if price_in < 0 or price_out < 0:
                raise CuratorError("--price-in/--price-out must be >= 0 (USD per million tokens)")
            cfg.prices = {**cfg.prices, cfg.model: {"input": float(price_in), "output": float(price_out)}}
        return cfg

    from_corpus = from_settings  # the earlier name

    def price(self) -> tuple[float, float] | None:
        p = self.prices.get(self.model)
        return (float(p["input"]), float(p["output"])) if p else None

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        p = self.price()
        return 0.0 if p is None else (tokens_in * p[0] + tokens_out * p[1]) / 1e6

    def api_key(self) -> str:
        # local servers (vLLM, Ollama, llama.cpp) accept any key; hosted ones need the real one
        return os.environ.get(self.api_key_env) or "not-needed"

    def is_remote(self) -> bool:
        parts = urlsplit(self.base_url)
        return parts.scheme == "https" and (parts.hostname or "") not in LOCAL_HOSTS

    def check_ready(self, max_cost: float | None) -> None:
        """Refuse up front what could only fail later: no key for a hosted endpoint (instead of
        one 401 per call), a cost cap that cannot be enforced because the price is unknown."""
        if self.is_remote() and not os.environ.get(self.api_key_env):
            raise CuratorError(f"${self.api_key_env} is not set and {self.base_url} needs an API key: "
                               f"export {self.api_key_env}=… (or name another variable with --api-key-env)")
        if max_cost is not None and self.price() is None:
            raise CuratorError(f"--max-cost {max_cost:g}: the price of model {self.model!r} is unknown, so the cap "
                               "cannot be enforced; give it with --price-in/--price-out (USD per million tokens) "
                               "or in curator.toml [llm.prices]")


@dataclass
class ChatRequest:
    messages: list[dict]
    temperature: float = 0.7
    seed: int | None = None
    max_tokens: int = 600
    json: bool = True
    meta: dict = field(default_factory=dict)  # carried to the task; not part of the hash

    def payload(self, model: str) -> dict:
        return {"model": model, "messages": self.messages, "temperature": self.temperature,
                "seed": self.seed, "max_tokens": self.max_tokens, "json": self.json}

    def hash(self, model: str) -> str:
        return hashlib.sha256(dumps(self.payload(model)).encode()).hexdigest()[:32]

    def estimated_tokens_in(self) -> int:
        if "_tokens_in" not in self.__dict__:  # tokenising costs ~0.1 ms: once per request, only when needed
            self.__dict__["_tokens_in"] = count_message_tokens(self.messages)
        return self.__dict__["_tokens_in"]


class CallFailed(Exception):
    """One call failed for good (after its retries). ``connect`` says no connection was made."""

    def __init__(self, reason: str, connect: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.connect = connect


class AuthRefused(RemoteError):
    """401/403: the key is wrong or missing. Ends the run at once; the message names the
    environment variable, never the key."""


def network_cause(exc: BaseException) -> tuple[str, bool]:
    """(cause, no connection was made) for an aiohttp/asyncio exception, in net.py's words."""
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError)):
        return "TLS error", True
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "DNS lookup failed", True
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "timeout", True
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused", True
        return describe_network_error(exc.os_error), True
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "timeout", False
    return describe_network_error(exc), False


class Client:
    """An aiohttp session for one endpoint; :meth:`call` sends one request with retries."""

    def __init__(self, cfg: LLMConfig, sleep=asyncio.sleep):
        self.cfg = cfg
        self.url = cfg.base_url.rstrip("/") + "/chat/completions"
        self.json_ok = cfg.json_mode
        self.connected = False  # any HTTP answer at all, of any status
        self.retries = 0
        self.sleep = sleep
        self.policy = RetryPolicy(retries=cfg.max_retries, jitter="full")
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=cfg.concurrency, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=cfg.timeout),
            headers={"Authorization": f"Bearer {cfg.api_key()}", "User-Agent": "curator",
                     "Content-Type": "application/json"},
            # proxies from the environment, as httpx does; only when set, since aiohttp then looks
            # them up (and ~/.netrc) in a thread for every request: 0.2 ms of CPU per call here
            trust_env=any(os.environ.get(v) for v in PROXY_VARS))

    async def close(self) -> None:
        await self.session.close()

    async def call(self, req: ChatRequest) -> tuple[str, int | None, int]:
        """(content, prompt tokens or None when not reported, completion tokens)."""
        attempt = 0
        while True:
            body: dict[str, Any] = {"model": self.cfg.model, "messages": req.messages,
                                    "temperature": req.temperature, "max_tokens": req.max_tokens}
            if req.seed is not None:
                body["seed"] = req.seed
            with_json_mode = req.json and self.json_ok
            if with_json_mode:
                body["response_format"] = {"type": "json_object"}
            headers, connect = None, False
            try:
                async with self.session.post(self.url, data=json.dumps(body)) as resp:
                    status, headers = resp.status, resp.headers
                    raw = await resp.read()
                self.connected = True
                if status == 200:
                    return self._content(raw)
                if status in AUTH_STATUSES:
                    raise AuthRefused(f"the server refused the key in ${self.cfg.api_key_env} "
                                      f"(http {status} from {self.url})")
                text = raw[:2000].decode("utf-8", "replace")
                if status == 400 and with_json_mode and "response_format" in text.lower():
                    self.json_ok = False  # this server has no JSON mode: ask without it from now on
                    continue
                if status not in RETRYABLE_STATUSES:
                    raise CallFailed(f"http {status}: {' '.join(text.split())[:120]}"
                                     if status in (400, 404, 422) else f"http {status}")
                reason = f"http {status}"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                reason, connect = network_cause(exc)
            if attempt >= self.cfg.max_retries:
                raise CallFailed(reason, connect)
            wait = self.policy.wait(attempt, parse_retry_after(headers.get("Retry-After")) if headers else None)
            attempt += 1
            self.retries += 1
            await self.sleep(min(wait, self.policy.max_retry_after))

    @staticmethod
    def _content(raw: bytes) -> tuple[str, int | None, int]:
        try:
            data = json.loads(raw)
        except ValueError:
            raise CallFailed("invalid response body (not JSON)") from None
        if not isinstance(data, dict):
            raise CallFailed("invalid response body (not a JSON object)")
        choices = data.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            raise CallFailed("empty response (no choices)")
        content = (choices[0].get("message") or {}).get("content") or ""
        usage = data.get("usage") or {}
        tin = usage.get("prompt_tokens")
        return str(content), (int(tin) if tin else None), int(usage.get("completion_tokens") or 0)
