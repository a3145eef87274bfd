"help() and Jupyter's `f?` list every public parameter with its type and its docment; the docs pages do not repeat them."
import importlib, inspect, re, subprocess, sys
import pytest
from fastcore.docments import ShowDocRenderer, docments
from ctm_nb.data import _type_name

MODULES = ["data", "embeddings", "fusion", "model", "training", "ctm", "metrics", "cli", "visualize", "widgets", "baselines"]

def public_callables():
    """(name, object) of every public function of the library, every public class (but NamedTuples and warnings) and every public method
    a public class has, its inherited ones included: found by walking the API, not by the walk `_add_param_docs` does."""
    seen = set()
    for m in MODULES:
        mod = importlib.import_module(f"ctm_nb.{m}")
        for name in mod.__all__:
            o = getattr(mod, name)
            if inspect.isfunction(o): found = [(f"{m}.{name}", o)]
            elif inspect.isclass(o):
                found = [] if issubclass(o, (tuple, Warning)) else [(f"{m}.{name}", o)]   # (a warning class takes a message)
                for k in sorted({k for c in o.__mro__ if c.__module__.startswith("ctm_nb.") for k in vars(c) if not k.startswith("_")}):
                    f = getattr(o, k)   # (the library's classes only: ipywidgets' own attributes warn when read)
                    f = getattr(f, "__func__", f)
                    if inspect.isfunction(f): found.append((f"{m}.{name}.{k}", f))
            else: found = []
            for n, f in found:
                if id(f) not in seen: seen.add(id(f)); yield n, f

CALLABLES = list(public_callables())

def test_there_are_many():
    assert len(CALLABLES) > 100, len(CALLABLES)   # the walk finds the library's API, not nothing

def _params(f):
    "The parameters a caller passes: the signature's, without self/cls (a class: its constructor's, or a dataclass's fields)."
    return {k: p for k, p in inspect.signature(f).parameters.items() if k not in ("self", "cls")}

@pytest.mark.parametrize("name,f", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_every_parameter_has_a_type_and_a_docment(name, f):
    dm = docments(f, full=True, args_kwargs=True)
    for k, p in _params(f).items():
        assert p.annotation is not inspect.Parameter.empty, f"{name}: parameter {k} has no type annotation"
        assert dm[k]["docment"], f"{name}: parameter {k} has no docment (a comment after it)"

@pytest.mark.parametrize("name,f", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_parameters_in_docstring(name, f):
    params, doc = _params(f), f.__doc__ or ""
    if not params: return
    assert "\nParameters\n----------\n" in doc, f"{name}: no Parameters section in its docstring"
    section = doc.split("\nParameters\n----------\n", 1)[1].split("\n\nReturns\n", 1)[0]
    listed = re.findall(r"(?m)^(\w+) : (.+)\n    (.+)$", section)
    assert [k for k, _, _ in listed] == list(params), f"{name}: the section lists {[k for k, _, _ in listed]}, the signature {list(params)}"
    dm = docments(f, full=True, args_kwargs=True)
    for k, t, text in listed:
        assert t == _type_name(params[k].annotation) and text == dm[k]["docment"], (name, k, t, text)
    if inspect.isclass(f): assert "\nReturns\n" not in doc, f"{name}: a class has no Returns section"

@pytest.mark.parametrize("name,f", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_docs_pages_do_not_repeat_them(name, f):
    # nbdev's show_doc renders the docments as a table; it must recognise the appended sections and leave them out
    shown = ShowDocRenderer(f).docs
    assert "Parameters\n---" not in shown and "Returns\n---" not in shown, f"{name}: the docs page would repeat:\n{shown}"

def test_help_shows_them():
    out = subprocess.run([sys.executable, "-c", "import ctm_nb; help(ctm_nb.CombinedTM.transform); help(ctm_nb.CombinedTM)"],
                         capture_output=True, text=True, check=True).stdout
    assert "n_samples : int\n" in out and "0: deterministic softmax(μ)" in out, out
    assert out.index("n_topics : int\n") < out.index("Method resolution order"), out   # the class's parameters come first

def test_not_under_python_OO():
    out = subprocess.run([sys.executable, "-OO", "-c", "import ctm_nb; print(ctm_nb.CombinedTM.transform.__doc__)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "None", out
