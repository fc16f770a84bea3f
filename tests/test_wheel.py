"""The built wheel is what a `pip install curator-prompts` user gets: name, package data, and a corpus
made by `curator init` outside the repository where ingest, expand and combine work.

Fast version of the CI step (scripts/wheel_check.sh builds a fresh virtualenv, installs torch and
the wheel with all its dependencies, and runs the same commands plus the notebook): here the wheel
is installed with --no-deps into a directory of its own and run with this environment's
dependencies, from a directory outside the repository, with the source tree off sys.path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = tmp_path_factory.mktemp("build")
    # --no-build-isolation: setuptools is already here, so no download; a copy of the tree keeps
    # the build's scratch files (build/, *.egg-info) out of the repository
    src = build / "src"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard"], check=True,
                           capture_output=True, text=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes((REPO / name).read_bytes())
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    [whl] = out.glob("*.whl")
    return whl


def test_wheel_is_named_and_carries_the_seed(wheel):
    assert wheel.name.startswith("curator_prompts-")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(meta).decode()
    assert "Name: curator-prompts" in metadata
    seed = REPO / "curator" / "seed"
    shipped = {f"curator/seed/{p.relative_to(seed).as_posix()}" for p in seed.rglob("*") if p.is_file()}
    assert len(shipped) > 25 and shipped <= names  # every seed file: templates, vocab, examples
    for data in ("curator/migrations/001_core.sql", "curator/report/report.html", "curator/llm_templates/generate.txt",
                 "curator/templates/__init__.py", "curator/ingest/read.py"):
        assert data in names


def test_installed_wheel_init_ingest_expand_combine_outside_the_repo(wheel, tmp_path):
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                        str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "CURATOR_CORPUS": "c", "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONSAFEPATH", None)

    def curator(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "import sys; from curator.cli import main; sys.exit(main())",
                               *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)

    where = subprocess.run([sys.executable, "-c", "import curator, curator.templates as t; "
                            "print(curator.__file__); print(t.seed_dir())"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(target) for p in where), where  # not the source tree
    seed = Path(where[1])
    assert curator("init", "c").returncode == 0
    assert not (work / "c" / "templates").exists()  # the seed is referenced, not copied
    r = curator("ingest", str(seed / "examples" / "examples.jsonl"), "--predictor", "handmade", "--json")
    assert r.returncode == 0, r.stderr
    r = curator("ingest", str(seed / "examples" / "target.csv"), "--as", "target", "--json")
    assert r.returncode == 0, r.stderr
    r = curator("expand", "--max-per-template", "2", "--json")
    assert r.returncode == 0, r.stderr
    expanded = json.loads(r.stdout)
    assert expanded["templates"] >= 150 and expanded["new"] > 250
    r = curator("combine", "--k", "3", "--n", "30", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["new"] == 30
    stats = json.loads(curator("stats", "--json").stdout)
    assert stats["prompts"]["by_origin"]["combined"] == 30 and stats["prompts"]["by_origin"]["template"] > 250
