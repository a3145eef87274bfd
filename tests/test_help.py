"help() and Jupyter's `f?` list every public parameter with its type and its docment; the docs pages do not repeat them."
import importlib, inspect, re, subprocess, sys
import pytest
from fastcore.docments import ShowDocRenderer, docments

MODULES = ["data", "embeddings", "fusion", "model", "training", "ctm", "metrics", "cli", "visualize", "widgets", "baselines"]

def public_callables():
    "(qualified name, function or dataclass) of every public function, class and method of the library."
    for m in MODULES:
        mod = importlib.import_module(f"ctm_nb.{m}")
        for name in mod.__all__:
            o = getattr(mod, name)
            if inspect.isfunction(o): yield f"{m}.{name}", o
            elif inspect.isclass(o):
                dc = inspect.isclass(o) and hasattr(o, "__dataclass_fields__")
                if dc: yield f"{m}.{name}", o
                for k in vars(o):
                    if k.startswith("_") and (k != "__init__" or dc): continue
                    f = getattr(o, k)
                    f = getattr(f, "__func__", f)
                    if inspect.isfunction(f): yield f"{m}.{name}.{k}", f

CALLABLES = list(public_callables())

def test_there_are_many():
    assert len(CALLABLES) > 80, len(CALLABLES)   # the walk above finds the library's API, not nothing

@pytest.mark.parametrize("name,f", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_parameters_in_docstring(name, f):
    dm = {k: v for k, v in docments(f, full=True, args_kwargs=True).items() if k not in ("self", "cls", "return")}
    doc = f.__doc__ or ""
    if not dm: return
    assert "\nParameters\n----------\n" in doc, f"{name}: no Parameters section in its docstring"
    section = doc.split("\nParameters\n----------\n", 1)[1].split("\n\nReturns\n", 1)[0]
    listed = re.findall(r"(?m)^(\w+) : (.+)$", section)
    assert [k for k, _ in listed] == list(dm), f"{name}: the section lists {[k for k, _ in listed]}, the signature {list(dm)}"
    for k, t in listed:
        assert t not in ("inspect._empty", "NoneType"), f"{name}: parameter {k} has no type annotation ({t})"
        if dm[k]["docment"]: assert f"{k} : {t}\n    {dm[k]['docment']}" in section

@pytest.mark.parametrize("name,f", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_docs_pages_do_not_repeat_them(name, f):
    # nbdev's show_doc renders the docments as a table; it must recognise the appended sections and leave them out
    shown = ShowDocRenderer(f).docs
    assert "Parameters\n---" not in shown and "Returns\n---" not in shown, f"{name}: the docs page would repeat:\n{shown}"

def test_help_shows_them():
    out = subprocess.run([sys.executable, "-c", "import ctm_nb; help(ctm_nb.CombinedTM.transform)"],
                         capture_output=True, text=True, check=True).stdout
    assert "n_samples : int\n" in out and "0: deterministic softmax(μ)" in out, out
