#!/usr/bin/env bash
# The main job on the embedded default corpus (corpus/): every stage, in order.
# Idempotent: a second run only does what is new.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
C="curator --corpus corpus"
# The seed set (templates, vocabularies, example samples) ships inside the package: one copy.
SEED=$(python -c 'from curator.templates import seed_dir; print(seed_dir())')
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "init"
$C init
step "ingest the handmade example samples (each with a predicted prompt) and the target set"
$C ingest "$SEED/examples/examples.jsonl" --dataset examples --origin seed --predictor handmade
$C ingest "$SEED/examples/target.csv" --as target --dataset target
step "sources: the local prompt list (web sources need internet: see docs/sources.md)"
$C sources list
$C scrape local-rewrite-prompts
step "expand the seed templates (packaged curator/seed/templates × seed/vocab, plus any in corpus/)"
$C expand --seed 0 --max-per-template 25
step "combine two and three changes per prompt (never contradictory ones)"
$C combine --k 2 --n 300 --seed 0
$C combine --k 3 --n 200 --seed 0
step "embed every prompt (cached: a re-run does no model work)"
$C embed
step "near-duplicates (cosine >= 0.9): what would be grouped, then mark them"
$C dedup --dry-run --show 3
$C dedup --show 0
step "cluster the canonical prompts (k=auto, ids stable across runs)"
$C cluster
step "coverage against the target set, and the HTML report"
$C coverage --target target --html corpus/out/coverage.html
step "the dataset card: training side vs target (distance, precision/recall, coverage, lengths, diversity, difficulty)"
$C card --target target --metric-model default --html corpus/out/card.html
step "generation for the coverage gaps: the plan (calls, tokens, cost); real calls when CURATOR_BASE_URL is set"
if [ -n "${CURATOR_BASE_URL:-}" ]; then
  $C generate --gaps --target target --per-cluster 2 --max-cost "${CURATOR_MAX_COST:-1.00}"
else
  $C generate --gaps --target target --per-cluster 2 --dry-run
fi
step "score the examples' predictions (packaged MiniLM: a proxy for the competition's sentence-t5-base)"
$C score --metric-model default
step "promote the 12 best-scoring candidates into the training set"
$C promote --top 12 --metric-model default --reason "demo: best proxy SCS"   # prints "N held back" (target overlap, templates)
step "the card again: after generation (a real endpoint) recall and coverage rise and the distance falls; a dry run changes nothing"
$C card --target target --metric-model default
step "stats"
$C stats
step "export the training set (Kaggle columns) with a 20% validation split by prompt"
$C export --out corpus/out/train.csv --split 0.2 --seed 0
