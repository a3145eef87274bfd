"""The offline docs site: build it from a copy of nbs/ with `tools/build_docs.py`, then open every page in headless
Chromium with the network cut off.

The copy gets two extra pages so that every kind of content is checked even while no chapter stores outputs: a
tutorial notebook with stored outputs (text, a matplotlib PNG, a real `LDAvisView` from ctm_nb, a widget, math and
links) and a Markdown page. Needs Debian's `chromium` (/usr/bin/chromium, or $CTM_NB_CHROMIUM), the Python package
`playwright` and pandoc (`pypandoc-binary`); all but Chromium come with the `dev` extra. Set CTM_NB_SCREENSHOTS=folder
to keep a screenshot of every page."""
import functools, importlib.util, json, os, re, shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CTM_NB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-dev-shm-usage"]
LOCAL = ("file:", "data:", "about:", "blob:")
MATH = re.compile(r"\$[^$\n]*?(\\[a-zA-Z]+|[_^])[^$\n]*?\$|\$[a-zA-Z]\$")   # TeX between dollars, not "$5"
ERRORS = re.compile(r"Traceback \(most recent call last\)|\"ename\"|\"evalue\"")   # anywhere in a page's text
OUTPUT_ERRORS = re.compile(r"^\w*(Error|Exception): ", re.M)                          # in a cell's output

playwright = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed (pip install -e '.[dev]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CTM_NB_CHROMIUM)", allow_module_level=True)
spec = importlib.util.spec_from_file_location("build_docs", ROOT / "tools" / "build_docs.py")
build_docs = importlib.util.module_from_spec(spec); spec.loader.exec_module(build_docs)
try: build_docs.pandoc_path()
except RuntimeError as e: pytest.skip(str(e), allow_module_level=True)

def _ldavis_html() -> str:
    "The inline HTML of a real pyLDAvis view (ctm_nb's `LDAvisView`) of a small random 3-topic model."
    import pyLDAvis, warnings
    from ctm_nb.visualize import LDAvisView
    rng = np.random.default_rng(0)
    K, V, D = 3, 40, 30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prep = pyLDAvis.prepare(topic_term_dists=rng.dirichlet(np.ones(V) * 0.3, K), doc_topic_dists=rng.dirichlet(np.ones(K), D),
                                doc_lengths=rng.integers(20, 60, D), vocab=[f"word{i}" for i in range(V)],
                                term_frequency=rng.integers(1, 50, V), mds="pcoa", n_jobs=1, sort_topics=False)
    return LDAvisView(prep, height=700)._repr_html_()

def _png() -> str:
    import base64
    from matplotlib.figure import Figure
    from ctm_nb.visualize import figure_png
    fig = Figure(figsize=(3, 2)); fig.subplots().plot([0, 1, 4, 9])
    return base64.b64encode(figure_png(fig)).decode()

def _fixture_notebook() -> dict:
    "A tutorial notebook with stored outputs of every kind the site must show."
    md = lambda s: dict(cell_type="markdown", id=f"m{abs(hash(s)) % 10**8}", metadata={}, source=s)
    code = lambda s, outs: dict(cell_type="code", id=f"c{abs(hash(s)) % 10**8}", metadata={}, execution_count=1, source=s, outputs=outs)
    prose = ("This page is added by tests/test_docs.py to a copy of the notebooks, so that the offline site is checked "
             "with stored outputs of every kind: text, a plot, a pyLDAvis view and a widget. ") * 2
    cells = [md("# Docs build check\n\n> Stored outputs of every kind, rendered offline."),
             md(f"{prose}\n\nThe topic mixture is $\\theta = \\mathrm{{softmax}}(\\mu)$, see [the model](../03_model.ipynb), "
                f"[the data chapter](../data.html) and `CombinedTM`.\n\n$$\\sum_k \\theta_k = 1$$"),
             code("print('hello')", [dict(output_type="stream", name="stdout", text="hello\n")]),
             code("fig", [dict(output_type="display_data", metadata={}, data={"image/png": _png(), "text/plain": "<Figure>"})]),
             code("view", [dict(output_type="execute_result", execution_count=1, metadata={},
                                data={"text/html": _ldavis_html(), "text/plain": "LDAvisView(3 topics)"})]),
             code("w", [dict(output_type="display_data", metadata={}, data={
                 "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
                 "text/plain": "IntSlider(value=0)"})])]
    return dict(nbformat=4, nbformat_minor=5, cells=cells,
                metadata=dict(kernelspec=dict(name="python3", display_name="Python 3", language="python")))

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "The site built from a copy of nbs/ plus the two check pages: (output folder, {page: source})."
    tmp = tmp_path_factory.mktemp("docs")
    nbs = tmp / "nbs"
    shutil.copytree(ROOT / "nbs", nbs, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_proc", "sidebar.yml"))
    (nbs / "tutorials").mkdir(exist_ok=True)
    (nbs / "tutorials" / "zz_docs_check.ipynb").write_text(json.dumps(_fixture_notebook()))
    (nbs / "zz_page_check.md").write_text("---\ntitle: Markdown page check\n---\n\n" + "A Markdown page, rendered like a "
                                         "notebook. It links to [the visualize chapter](10_visualize.ipynb) and to "
                                         "[a tutorial](tutorials/zz_docs_check.ipynb); math: $p(w \\mid k)$.\n\n" * 3)
    pages = build_docs.build(nbs, tmp / "site", force=True, quiet=True)
    return tmp / "site", pages, nbs

def test_every_source_is_built(site):
    "One page per notebook and .md/.qmd file, the two check pages included, each with content."
    out, pages, nbs = site
    def pages_in(folder, pattern):   # what Quarto renders: no `_`/`.` files or folders
        return [p for p in folder.rglob(pattern) if not any(part[0] in "_." for part in p.relative_to(folder).parts)]
    sources = [p for p in pages_in(nbs, "*") if p.suffix in (".ipynb", ".md", ".qmd")]
    notebooks = pages_in(ROOT / "nbs", "*.ipynb")
    assert len(pages) == len(sources) >= len(notebooks) + 2, (sorted(pages), sorted(sources))
    assert sorted(pages.values()) == sorted(sources)
    assert {"index.html", "model.html", "tutorials/zz_docs_check.html", "zz_page_check.html"} <= set(pages)
    assert all((out / p).stat().st_size > 2000 for p in pages)

def _source_text(src:Path) -> str:
    "The prose of a page's source (markdown cells of a notebook, or the .md file)."
    if src.suffix != ".ipynb": return src.read_text()
    return "\n".join("".join(c["source"]) for c in json.loads(src.read_text())["cells"] if c["cell_type"] == "markdown")

@functools.cache
def _ids(path:Path) -> set:
    "The element ids of a built page (link anchors)."
    return set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))

def _check_links(page, out:Path) -> list:
    "Every link, image, frame and stylesheet inside the site exists, and so does every anchor (nbdev's symbol links too)."
    bad = []
    for u in page.eval_on_selector_all("a[href], img[src], iframe[src], link[href]", "es => es.map(e => e.href || e.src)"):
        s = urlsplit(u)
        if s.scheme != "file": continue
        target, frag = Path(unquote(s.path)), unquote(s.fragment)
        if not target.exists(): bad.append(f"broken link {u}")
        elif frag and target.suffix == ".html" and frag not in _ids(target): bad.append(f"missing anchor {u}")
    return bad

def _check_math(page) -> list:
    "MathML is there and laid out, and no TeX is left in the prose."
    widths = page.eval_on_selector_all("main math", "ms => ms.map(m => m.getBoundingClientRect().width)")
    bad = [] if widths and min(widths) > 0 else [f"math not rendered ({len(widths)} MathML elements)"]
    prose = page.evaluate("() => [...document.querySelectorAll('main p, main li, main td')].map(e => e.innerText).join('\\n')")
    return bad + (["raw TeX left in the text"] if re.search(r"\$[^$\n]*\\[a-zA-Z]+", prose) else [])

def _check_ldavis(page) -> tuple[int, list]:
    "The pyLDAvis views (iframe srcdoc) of a page draw their topic circles: (number of views, problems)."
    n, bad = 0, []
    for i, frame in enumerate(page.locator("iframe[srcdoc]").all()):
        if "LDAvis" not in (frame.get_attribute("srcdoc") or ""): continue
        n += 1
        frame.scroll_into_view_if_needed()
        f = frame.element_handle().content_frame()
        try: f.wait_for_selector("svg circle", state="attached")
        except Exception: bad.append(f"pyLDAvis view {i} draws nothing"); continue
        svg, circles = f.evaluate("""() => [Math.max(...[...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().width)),
                                            [...document.querySelectorAll('svg circle')].filter(c => c.getBoundingClientRect().width > 0).length]""")
        if circles < 3 or svg < 500: bad.append(f"pyLDAvis view {i}: {circles} topic circles, widest svg {svg}px")
    return n, bad

def test_pages_in_chromium_offline(site):
    "Open every page offline: text, no errors, internal links and anchors resolve, math, images and pyLDAvis render."
    from playwright.sync_api import sync_playwright
    out, pages, _ = site
    outside, problems, js_errors, n_ldavis, n_img, n_math = [], [], [], 0, 0, 0
    shots = os.environ.get("CTM_NB_SCREENSHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        ctx.set_default_timeout(60_000)   # a busy machine can be slow; a page that never loads still fails
        ctx.set_offline(True)
        def route(r):
            if r.request.url.startswith(LOCAL): r.continue_()
            else: outside.append(r.request.url); r.abort()
        ctx.route("**/*", route)
        page = ctx.new_page()
        page.on("pageerror", lambda e: js_errors.append(str(e)))
        for name, src in sorted(pages.items()):
            js_errors.clear()
            page.goto((out / name).as_uri(), wait_until="load")
            bad = []
            text = page.inner_text("main")
            if len(text) < 300: bad.append(f"only {len(text)} characters of text")
            outputs = page.eval_on_selector_all("main .cell-output", "os => os.map(o => o.innerText).join('\\n')")
            if page.locator(".cell-output-error").count() or ERRORS.search(text) or OUTPUT_ERRORS.search(outputs):
                bad.append("shows an error output")
            nav = page.eval_on_selector_all("#sidebar a", "as => as.map(a => a.href)")
            if {unquote(urlsplit(u).path) for u in nav} != {str(out / p) for p in pages}: bad.append("the sidebar does not list every page")
            bad += _check_links(page, out)
            if MATH.search(_source_text(src)): n_math += 1; bad += _check_math(page)
            for img in page.eval_on_selector_all("main img", "is => is.map(i => [i.complete, i.naturalWidth, i.getBoundingClientRect().width, i.src.slice(0, 60)])"):
                n_img += 1
                if not (img[0] and img[1] > 0 and img[2] > 0): bad.append(f"image not shown: {img}")
            n, b = _check_ldavis(page); n_ldavis += n; bad += b
            if js_errors: bad.append(f"JavaScript errors: {js_errors}")
            if name == "tutorials/zz_docs_check.html":
                if page.locator(".widget-placeholder").count() != 1: bad.append("the widget output is not replaced by a note")
                if page.locator("#sidebar .section", has_text="Tutorials").count() != 1: bad.append("no Tutorials section in the sidebar")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=Path(shots) / f"docs_{name.replace('/', '_')}.png", full_page=True)
            problems += [f"{name}: {m}" for m in bad]
        browser.close()
    assert not problems, "\n".join(problems)
    assert not outside, f"pages tried to reach the network: {sorted(set(outside))[:5]}"
    assert n_ldavis >= 1 and n_img >= 1 and n_math >= 3, (n_ldavis, n_img, n_math)

def test_api_reference_and_links(site):
    "Every exported function and class has its show_doc heading on its chapter's page; nbdev's links point into the site."
    import importlib
    from ctm_nb._modidx import d
    out, pages, _ = site
    checked, missing = 0, []
    for mod, syms in d["syms"].items():
        for name in importlib.import_module(mod).__all__:
            if f"{mod}.{name}" not in syms: continue   # constants have no docs entry
            page, _, anchor = syms[f"{mod}.{name}"][0].partition("#")
            checked += 1
            if not re.search(rf'<h[2-4][^>]*\bid="{re.escape(anchor)}"', (out / page).read_text(encoding="utf-8")):
                missing.append(f"{mod}.{name} -> {page}#{anchor}")
    assert checked >= 60 and not missing, f"{len(missing)} of {checked} exported names without a show_doc entry: {missing[:10]}"
    html = (out / "visualize.html").read_text()
    assert 'href="ctm.html#combinedtm"' in html and "ctm-nb.github.io" not in html
    main = (out / "zz_page_check.html").read_text().split('<main id="content">')[1]
    assert main.count('href="visualize.html"') == 3 and main.count('href="tutorials/zz_docs_check.html"') == 3

def test_stored_outputs_are_settled():
    "Progress bars in stored outputs show their last state only (tools/save_outputs.py), so pages show no redraw debris."
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from save_outputs import settle
    assert settle("a  0%|\rtraining 100%|##| 2/2\nnext\r\n") == "training 100%|##| 2/2\nnext\n"
    for p in sorted((ROOT / "nbs").rglob("*.ipynb")):
        for cell in json.loads(p.read_text())["cells"]:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    assert "\r" not in "".join(out["text"]), f"{p.name}: run python tools/save_outputs.py {p}"
