"""Contextualized topic models (CombinedTM, ZeroShotTM), built and explained in nbdev notebooks.

`import ctm_nb` is quick: the library's chapters (and torch) load the first time one of their public names is read,
e.g. `ctm_nb.CombinedTM` or `from ctm_nb import load_bbc`. These are the names of `ctm_nb.all`.

Docs: https://ctm-nb.github.io/ctm_nb/all.html.md"""
__version__ = "0.1.0"
from importlib import import_module as _import_module

def __getattr__(name:str):
    "The public names of `ctm_nb.all`, imported on first use (PEP 562: Python asks only for names the package lacks)."
    if name == "__all__" or not name.startswith("_"):
        everything = _import_module("ctm_nb.all").__all__
        if name == "__all__": return list(everything)
        if name in everything: return getattr(_import_module("ctm_nb.all"), name)
    raise AttributeError(f"module 'ctm_nb' has no attribute {name!r}; its public names are those of `ctm_nb.all` "
                         "(`dir(ctm_nb)` lists them), the command line's functions are in `ctm_nb.cli`.")

def __dir__() -> list: return sorted(set(globals()) | set(_import_module("ctm_nb.all").__all__))
