#!/usr/bin/env bash
# The main job on the embedded default corpus (corpus/): every stage that exists, in order.
# Idempotent: a second run only does what is new.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
C="curator --corpus corpus"
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "init"
$C init
step "ingest the handmade example samples (with a predicted prompt each)"
$C ingest corpus/examples/examples.jsonl --dataset examples --origin seed --predictor handmade
step "stats"
$C stats
step "export all samples (Kaggle columns)"
$C export --status all --out corpus/out/all_samples.csv
