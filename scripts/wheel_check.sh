#!/usr/bin/env bash
# What a new user does: build the wheel, install it into a fresh virtualenv (CPU torch first), then
# from a directory outside the repository run init → ingest → expand → combine and the quickstart
# notebook. Used by CI (.ci/run) and `make wheel-check`. About 5 minutes, most of it pip.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/curator-wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
step() { printf '\n== %s\n' "$*" >&2; }

step "build the wheel"
"$PYTHON" -m venv "$WORK/build-env"
"$WORK/build-env/bin/pip" install -q --upgrade pip setuptools
mkdir "$WORK/src" && tar -C "$REPO" --exclude=./.venv --exclude=./.git --exclude=./build --exclude='*.egg-info' \
  --exclude='./corpus/curator.db*' -cf - . | tar -C "$WORK/src" -xf -
"$WORK/build-env/bin/pip" wheel -q --no-deps -w "$WORK/dist" "$WORK/src"
WHEEL="$(ls "$WORK"/dist/curator_prompts-*.whl)"
echo "$WHEEL" >&2

step "fresh virtualenv: torch==2.13.0 (CPU) first, then the wheel and a Jupyter kernel"
"$PYTHON" -m venv "$WORK/venv"
V="$WORK/venv/bin"
"$V/pip" install -q torch==2.13.0
"$V/pip" install -q "$WHEEL" nbclient nbformat ipykernel

step "init → ingest → expand → combine, outside the repository"
mkdir "$WORK/user" && cd "$WORK/user"
export HF_HUB_OFFLINE=1 CURATOR_CORPUS="$WORK/user/my-corpus"
SEED="$("$V/python" -c 'from curator.templates import seed_dir; print(seed_dir())')"
case "$SEED" in "$WORK/venv/"*) ;; *) echo "seed read from $SEED, not the installed wheel" >&2; exit 1;; esac
"$V/curator" init my-corpus
"$V/curator" ingest "$SEED/examples/examples.jsonl" --predictor handmade
"$V/curator" ingest "$SEED/examples/target.csv" --as target --dataset target
"$V/curator" expand --max-per-template 3
"$V/curator" combine --k 2 --n 100
"$V/curator" stats

step "the quickstart notebook in that environment"
cp "$REPO/docs/quickstart.ipynb" "$WORK/user/"
"$V/python" - <<'PY'
import nbformat, time
from nbclient import NotebookClient
nb = nbformat.read("quickstart.ipynb", as_version=4)
t = time.time()
NotebookClient(nb, timeout=600, kernel_name="python3").execute()
html = "".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
assert 'class="curator-progress"' in html, "no progress display in the notebook"
print(f"quickstart.ipynb executed in {time.time() - t:.0f} s")
PY
echo "wheel check: ok" >&2
