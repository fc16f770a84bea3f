"""LLM calls for every stage that needs them: any OpenAI-compatible endpoint, journaled.

- :mod:`.client` — endpoint configuration (:class:`LLMConfig`), requests, the HTTP call with retries.
- :mod:`.task` — the one task shape (:class:`LLMTask`: items → request → parse → store) and its summary.
- :mod:`.runner` — the one journaled runner (:func:`run_task`) and :func:`call_sync` for synchronous
  callers, including notebooks with a running event loop.

API keys come only from the environment variable named by ``api_key_env``; they are never stored
in the journal or printed.
"""

from .client import AuthRefused, CallFailed, ChatRequest, Client, LLMConfig
from .runner import BATCH, FLUSH_EVERY, Budget, RateLimiter, call_sync, run_sync, run_task
from .instructions import load_template, render
from .task import Invalid, LLMTask, RunSummary, check, parse_json_object

__all__ = ["AuthRefused", "BATCH", "Budget", "CallFailed", "ChatRequest", "Client", "FLUSH_EVERY", "Invalid",
           "LLMConfig", "LLMTask", "RateLimiter", "RunSummary", "call_sync", "check", "parse_json_object",
           "load_template", "render", "run_sync", "run_task"]
