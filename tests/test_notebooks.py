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
    ok, secs = run_notebook(nb, skip_flags=list(skip))
    assert ok, f"{nb.name} failed (traceback above)"

def test_every_chapter_is_tested():
    assert len(NOTEBOOKS) >= 9, [p.name for p in NOTEBOOKS]
