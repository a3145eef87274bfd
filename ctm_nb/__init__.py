"""Contextualized topic models (CombinedTM, ZeroShotTM), built and explained in nbdev notebooks.

`import ctm_nb` is quick: a public name is imported from its chapter the first time it is read, e.g. `ctm_nb.CombinedTM`
(the `ctm` chapter, and torch) or `from ctm_nb import load_bbc` (the `data` chapter). These are the names of `ctm_nb.all`.

Docs: https://ctm-nb.github.io/ctm_nb/all.html.md"""
__version__ = "0.1.0"
from importlib import import_module as _import_module

_MODULES = ("data", "embeddings", "fusion", "model", "training", "ctm", "metrics", "visualize", "widgets", "baselines",
            "all", "cli")

def __getattr__(name:str):
    "A submodule, or a public name of `ctm_nb.all` from its own chapter (PEP 562: Python asks only for names the package lacks)."
    if name in _MODULES: return _import_module(f"ctm_nb.{name}")   # `from ctm_nb import data` asks here first
    if name == "__all__": return list(_import_module("ctm_nb.all").__all__)
    if not name.startswith("_"):
        from ._modidx import d   # where nbdev found each function and class: import only that chapter
        home = next((m for m, syms in d["syms"].items() if f"{m}.{name}" in syms and m != "ctm_nb.cli"), None)
        mod = _import_module(home) if home else _import_module("ctm_nb.all")   # (constants are not in the index)
        if name in getattr(mod, "__all__", ()): return getattr(mod, name)
    raise AttributeError(f"module 'ctm_nb' has no attribute {name!r}; its public names are those of `ctm_nb.all` "
                         "(`dir(ctm_nb)` lists them), the command line's functions are in `ctm_nb.cli`.")

def __dir__() -> list: return sorted(set(globals()) | set(_import_module("ctm_nb.all").__all__))
