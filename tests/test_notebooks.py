"Run every notebook in nbs/ as a test, skipping cells flagged `notest`, `slow` (unless --runslow) and `gpu` (without CUDA)."
from pathlib import Path
import pytest, torch
from nbdev.test import test_nb as run_notebook   # renamed: pytest must not collect it as a test

NBS = Path(__file__).resolve().parents[1] / "nbs"
NOTEBOOKS = sorted(p for p in NBS.rglob("*.ipynb") if not any(part.startswith((".", "_")) for part in p.relative_to(NBS).parts))

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_notebook(nb, request):
    skip = {"notest", "slow", "gpu"}
    if request.config.getoption("--runslow"): skip.discard("slow")
    if torch.cuda.is_available(): skip.discard("gpu")
    ok, secs = run_notebook(nb, skip_flags=list(skip))
    assert ok, f"{nb.name} failed (traceback above)"

def test_every_chapter_is_tested():
    assert len(NOTEBOOKS) >= 9, [p.name for p in NOTEBOOKS]
