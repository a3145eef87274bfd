"""Run every notebook in nbs/ as a test, skipping cells flagged `notest`, `slow` (unless --runslow) and `gpu` (without CUDA).

The tutorials (nbs/tutorials/) read one switch, the environment variable `CTM_NB_QUICK`: "1" runs them on reduced
settings (fewer documents, fewer epochs) so the test suite stays fast. These tests set it to "1" unless it is already
set, so `CTM_NB_QUICK=0 python -m pytest tests/test_notebooks.py -k tutorials` runs the tutorials' full settings."""
import os
from pathlib import Path
import pytest, torch
from nbdev.test import test_nb as run_notebook   # renamed: pytest must not collect it as a test

NBS = Path(__file__).resolve().parents[1] / "nbs"
NOTEBOOKS = sorted(p for p in NBS.rglob("*.ipynb") if not any(part.startswith((".", "_")) for part in p.relative_to(NBS).parts))

SHARED = NBS.parents[1] / "shared" / "data"
NEEDS = {"03_zero_shot_crosslingual.ipynb": [SHARED / "parlspeech"]}   # tutorials whose data is not on PyPI

@pytest.fixture(autouse=True)
def quick_tutorials(monkeypatch):
    "Reduced tutorial settings (CTM_NB_QUICK=1) unless the caller chose otherwise."
    monkeypatch.setenv("CTM_NB_QUICK", os.environ.get("CTM_NB_QUICK", "1"))

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_notebook(nb, request):
    for data in NEEDS.get(nb.name, []):
        if not data.exists(): pytest.skip(f"{nb.name} needs {data}, which is not on this machine")
    skip = {"notest", "slow", "gpu"}
    if request.config.getoption("--runslow"): skip.discard("slow")
    if torch.cuda.is_available(): skip.discard("gpu")
    env = _settings()
    try: ok, secs = run_notebook(nb, skip_flags=list(skip))
    finally: changed = _restore_settings(env)
    assert ok, f"{nb.name} failed (traceback above)"
    # The notebooks share this process: one that leaves, say, CTM_NB_CACHE pointing elsewhere makes every later test
    # recompute its embeddings (05_ctm took 135 s instead of 30 when 01_embeddings did that).
    assert not changed, f"{nb.name} left environment variables changed: {changed}; restore them in a hidden last cell"

# The environment variables ctm_nb and its notebooks read. (Libraries set others of their own when first imported,
# e.g. KMP_INIT_AT_FORK or TORCHINDUCTOR_CACHE_DIR; those are theirs to keep.)
SETTINGS = ("CTM_NB_", "HF_", "TRANSFORMERS_", "XDG_", "PARLSPEECH_")

def _settings() -> dict: return {k: v for k, v in os.environ.items() if k.startswith(SETTINGS)}

def _restore_settings(env:dict) -> list[str]:
    "Put the SETTINGS variables back to `env`; return the names that had been added, removed or changed."
    now = _settings()
    changed = sorted(k for k in env.keys() | now.keys() if env.get(k) != now.get(k))
    for k in changed:
        if k in env: os.environ[k] = env[k]
        else: del os.environ[k]
    return changed

def test_every_chapter_is_tested():
    assert len(NOTEBOOKS) >= 9, [p.name for p in NOTEBOOKS]
