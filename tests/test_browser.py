"""Real-browser tests: headless Chromium drives the training dashboard served by Voila, and opens a saved pyLDAvis page
with the network cut off.

Needs Debian's `chromium` (/usr/bin/chromium, or $CTM_NB_CHROMIUM) and the Python packages `playwright` and `voila`
(the `dev` extra); `.ci/run` installs them. Playwright only drives the system browser: never `playwright install`.
Set CTM_NB_SCREENSHOTS=folder to keep the screenshots."""
import json, os, shutil, socket, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest

CHROMIUM = os.environ.get("CTM_NB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-dev-shm-usage"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "file:", "data:", "blob:", "about:")

playwright = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed (pip install -e '.[dev]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CTM_NB_CHROMIUM)", allow_module_level=True)

def _keep(page, tmp_path, name):
    "Screenshot `page`; copy it to $CTM_NB_SCREENSHOTS when set. Returns the PNG's path."
    path = tmp_path / name
    page.screenshot(path=path, full_page=True)
    if os.environ.get("CTM_NB_SCREENSHOTS"):
        Path(os.environ["CTM_NB_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["CTM_NB_SCREENSHOTS"]) / name)
    return path

def _not_blank(png:Path):
    "A screenshot with some ink: many colours and a fair share of non-white pixels."
    from PIL import Image
    im = np.asarray(Image.open(png).convert("RGB"))
    ink = (im < 235).any(-1).mean()
    colours = len(np.unique(im.reshape(-1, 3)[::7], axis=0))
    assert ink > 0.03 and colours > 50, f"{png.name} looks blank: {ink:.1%} ink, {colours} colours"

@pytest.fixture()
def browser(tmp_path):
    "Headless system Chromium with a fresh profile; every request that leaves the machine is aborted and recorded."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS,
                                                   headless=True, viewport={"width": 1300, "height": 950})
        ctx.set_default_timeout(60_000)
        ctx.outside = []
        def route(r):
            if r.request.url.startswith(LOCAL): r.continue_()
            else: ctx.outside.append(r.request.url); r.abort()
        ctx.route("**/*", route)
        try: yield ctx
        finally: ctx.close()

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

@pytest.fixture()
def voila(tmp_path, bbc, bbc_embeddings):
    "Voila on 127.0.0.1 serving a notebook that builds a training dashboard on 200 BBC articles; stopped afterwards."
    pytest.importorskip("voila", reason="the Python package voila is not installed (pip install -e '.[dev]')")
    texts = bbc[0][::11][:200]
    (tmp_path / "docs.json").write_text(json.dumps(texts))
    np.save(tmp_path / "emb.npy", bbc_embeddings[::11][:200])
    code = ["import json, numpy as np, torch\n",
            "from ctm_nb.widgets import TrainingDashboard\n",
            "torch.set_num_threads(1)\n",
            "docs, emb = json.load(open('docs.json')), np.load('emb.npy')\n",
            "dash = TrainingDashboard(docs, embeddings=emb, n_topics=4, epochs=10, vocab_size=800, device='cpu', plot_every=0.2)\n",
            "dash"]
    nb = dict(nbformat=4, nbformat_minor=5, cells=[dict(cell_type="code", execution_count=None, id="c1", metadata={},
              outputs=[], source=code)], metadata=dict(kernelspec=dict(name="python3", display_name="Python 3", language="python")))
    (tmp_path / "dash.ipynb").write_text(json.dumps(nb))
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "CTM_NB_CACHE": str(tmp_path / "cache"),
           "MPLBACKEND": "Agg"}
    log = open(tmp_path / "voila.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "voila", "dash.ipynb", "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1", "--show_tracebacks=True"], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:                                           # listening? (a TCP connection; a GET of / would run the notebook)
                socket.create_connection(("127.0.0.1", port), timeout=2).close(); break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"voila did not start:\n{(tmp_path / 'voila.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait(5)
        log.close()

def test_dashboard_in_voila(browser, voila, tmp_path):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(voila, timeout=90_000)
    start = page.locator("button", has_text="Start")
    start.wait_for(state="visible", timeout=120_000)          # the kernel ran the notebook and the widgets rendered
    assert page.locator(".widget-dropdown select").first.input_value() == "CombinedTM"
    assert "device: cpu" in page.locator("body").inner_text()
    _keep(page, tmp_path, "dashboard_ready.png")
    start.click()
    label = page.locator(".ctm-progress .widget-label").first
    seen, deadline = set(), time.monotonic() + 120
    while time.monotonic() < deadline:                         # the progress bar advances, epoch by epoch
        text = label.inner_text()
        if text.startswith("epoch "): seen.add(int(text.split()[1]))
        if "Done:" in page.locator("body").inner_text(): break
        page.wait_for_timeout(100)
    body = page.locator("body").inner_text()
    assert "Done: 10 epochs (completed)" in body, body[-2000:]
    assert len(seen - {0}) >= 2 and max(seen) == 10, seen     # several intermediate epochs were shown
    width = page.locator(".ctm-progress .progress-bar").first.evaluate("e => e.style.width")
    assert width in ("100%", "100.0%"), width
    rows = page.locator("table.ctm-topics tr")
    assert rows.count() == 4 and all(len(rows.nth(i).inner_text().split()) >= 5 for i in range(4))
    img = page.locator("img.ctm-plot").first
    assert img.evaluate("e => e.naturalWidth") > 100           # the live loss plot is a real image
    assert not start.is_disabled()                             # the controls were unlocked before "Done" was shown
    shot = _keep(page, tmp_path, "dashboard_done.png")
    _not_blank(shot)
    assert errors == [], errors
    # Offline, only the icon font that Voila's page links from a CDN is missing; the widgets need nothing else.
    assert all("fontawesome" in u for u in browser.outside), browser.outside

def test_pyldavis_page_offline(browser, tmp_path, bbc, bbc_embeddings):
    import torch
    from ctm_nb.ctm import CombinedTM
    from ctm_nb.visualize import save_pyldavis
    n = torch.get_num_threads(); torch.set_num_threads(1)
    try:
        tm = CombinedTM(n_topics=5, epochs=6, vocab_size=1000, seed=0, progress=False, device="cpu").fit(
            bbc[0][::10], embeddings=bbc_embeddings[::10])
    finally: torch.set_num_threads(n)
    path = save_pyldavis(tm, tmp_path / "topics.html")
    browser.set_offline(True)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("svg circle.dot", timeout=30_000)
    assert page.locator("svg circle.dot").count() == 5           # one circle per topic
    page.wait_for_function("document.querySelectorAll('svg rect').length >= 30")   # the term bars
    terms = page.locator("svg text.terms").all_text_contents()
    assert len(terms) == 30 and set(terms) <= set(tm.vocab)
    page.locator("svg circle.dot").nth(2).dispatch_event("click")  # select topic 2 (numbered from 0, as tm.topics()): red bars
    page.wait_for_function("document.querySelectorAll('svg rect.overlay').length >= 30")
    page.wait_for_timeout(1000)                                    # let the transition finish
    assert "Relevant Terms for Topic 2" in page.locator("body").text_content() and "#topic=2" in page.url
    shot = _keep(page, tmp_path, "pyldavis.png")
    _not_blank(shot)
    assert errors == [], errors
    assert browser.outside == [], browser.outside                   # nothing was fetched from the network
