"""Models and devices (issue 15.4): the packaged MiniLM loads offline without touching the process
environment; an unknown hub name fails fast with one line; device resolution; --device flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curator import CuratorError
from curator import models
from curator.models import load_model, resolve_device

REPO = Path(__file__).resolve().parents[1]

ENV_CHILD = """
import json, os
import torch, sentence_transformers  # their own import-time settings (KMP_*, TORCHINDUCTOR_*) are not ours
before = dict(os.environ)
from curator.models import load_model
model = load_model("default", "cpu")
vec = model.encode(["Rewrite this as a limerick."], normalize_embeddings=True)
after = dict(os.environ)
print(json.dumps({"changed": sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)),
                  "dim": int(vec.shape[1])}))
"""


def test_packaged_model_loads_offline_without_touching_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["PYTHONPATH"] = str(REPO)
    env["HF_HOME"] = str(tmp_path / "empty-hf-home")  # no hub cache either: the package path is all it needs
    out = subprocess.run([sys.executable, "-c", ENV_CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"changed": [], "dim": 384}


def test_unknown_hub_name_fails_fast_with_one_line(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    probes = []
    monkeypatch.setattr(models, "hub_reachable", lambda timeout=3.0: probes.append(timeout) or False)
    import sentence_transformers  # noqa: F401  (its import is slow on a loaded machine: not what is timed)

    t = time.perf_counter()
    with pytest.raises(CuratorError) as err:
        load_model("no-such-org/no-such-model-7f3a", "cpu")
    assert time.perf_counter() - t < 10  # no hub retries, no network wait
    msg = str(err.value)
    assert "\n" not in msg and "no-such-org/no-such-model-7f3a" in msg
    assert "not reachable" in msg and "--model default" in msg
    assert probes  # the hub was probed (not waited on) because the user did not ask for offline mode
    assert "HF_HUB_OFFLINE" not in os.environ


def test_user_offline_mode_is_respected_without_probing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "hub_reachable", lambda timeout=3.0: pytest.fail("must not probe when offline"))
    with pytest.raises(CuratorError, match="no-such-org/other"):
        load_model("no-such-org/other", "cpu")


@pytest.mark.parametrize("asked, have, expected", [
    ("auto", {"cuda": True, "mps": False}, "cuda"),
    ("auto", {"cuda": False, "mps": True}, "mps"),
    ("auto", {"cuda": False, "mps": False}, "cpu"),
    (None, {"cuda": True, "mps": True}, "cuda"),
    ("cpu", {"cuda": True, "mps": False}, "cpu"),
    ("CUDA", {"cuda": True, "mps": False}, "cuda"),
    ("mps", {"cuda": False, "mps": True}, "mps"),
])
def test_device_resolution(asked, have, expected):
    assert resolve_device(asked, lambda: have) == expected


@pytest.mark.parametrize("asked", ["cuda", "mps", "tpu"])
def test_device_that_is_absent_or_unknown_is_one_line(asked):
    with pytest.raises(CuratorError) as err:
        resolve_device(asked, lambda: {"cuda": False, "mps": False})
    assert "\n" not in str(err.value) and asked in str(err.value) and "--device" in str(err.value)


def test_device_flags_on_the_cli(cli, tmp_path):
    (tmp_path / "p.csv").write_text("rewrite_prompt\nShorten this.\nMake it formal.\n")
    cli("ingest", tmp_path / "p.csv")
    for command in (["embed"], ["cluster", "--k", "2"], ["score"]):
        assert "--device" in cli(*command, "--help").output
    bad = cli("embed", "--device", "tpu")
    assert bad.exit_code == 2
    have = models._gpu_available()
    if not have["cuda"]:
        res = cli("embed", "--device", "cuda")
        assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1 and "cuda" in res.stderr
    ok = cli("embed", "--device", "cpu", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["embedded"] == 2
    again = cli("embed", "--device", "auto", "--json")  # another device: the cache still answers
    assert json.loads(again.stdout)["embedded"] == 0
