"""The widgets of ctm_nb.widgets, driven without a browser: set values, click buttons, assert on traits and models.

Outside a kernel `with out: print()` captures nothing, so every check reads widget traits or the objects the widgets
produce (`dash.model`, `explorer.words`, `inspector.theta`)."""
import warnings
import time
import numpy as np
import pytest
import torch
import ctm_nb.widgets as W
from ctm_nb.widgets import TrainingDashboard, TopicExplorer, DocumentInspector, check_gpu, device_summary, available_devices
from ctm_nb.ctm import CombinedTM, ProdLDA

pytestmark = pytest.mark.usefixtures("one_thread")

@pytest.fixture(scope="module")
def small(bbc, bbc_embeddings):
    "Every 8th BBC article (279, all five sections) with its embedding."
    texts, labels = bbc
    return texts[::8], labels[::8], bbc_embeddings[::8]

@pytest.fixture(scope="module")
def trained(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts, embeddings=emb, n_topics=5, epochs=15, vocab_size=1000, device="cpu",
                             embedding_model="all-MiniLM-L6-v2")   # the encoder of `emb`, for embedding new documents
    dash.start.click()
    assert dash.wait(300)
    return dash

def test_dashboard_trains_with_live_updates(small, trained):
    dash = trained
    assert dash.error is None, dash.error
    tm = dash.model
    assert isinstance(tm, CombinedTM) and tm.fitted and tm.n_topics == 5
    assert (dash.progress.value, dash.progress.max, dash.progress.bar_style) == (15, 15, "success")
    assert len(dash.logs) == 15 and [l.epoch for l in dash.logs] == list(range(1, 16))
    assert dash.topics.value.count("<tr>") == 5 and tm.topics(3)[0][0] in dash.topics.value
    assert dash.plot.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Done: 15 epochs (completed)" in dash.status.value
    assert not dash.start.disabled and dash.stop.disabled and not any(c.disabled for c in dash._controls)
    assert tm.transform(small[0][:4], embeddings=small[2][:4]).shape == (4, 5)

def test_controls_reach_the_model(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts, embeddings=emb, n_topics=10, epochs=50, vocab_size=800)
    dash.model_class.value, dash.n_topics.value, dash.epochs.value = "ZeroShotTM", 4, 3
    dash.batch_size.value, dash.lr.value, dash.device.value = 32, 1e-3, "cpu"
    assert dash.progress.max == 3                       # the bar follows the epochs control
    dash.start.click(); assert dash.wait(300)
    tm = dash.model
    assert type(tm).__name__ == "ZeroShotTM" and tm.n_topics == 4 and len(tm.history) == 3
    assert tm.batch_size == 32 and tm.lr == pytest.approx(1e-3) and tm.device == "cpu" and len(tm.vocab) == 800

def test_start_returns_at_once_and_stop_ends_cleanly(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts, embeddings=emb, n_topics=5, epochs=10_000, vocab_size=1000, device="cpu")
    t0 = time.perf_counter(); dash.start.click()
    assert time.perf_counter() - t0 < 2 and dash.running          # training runs in the background
    assert dash.start.disabled and not dash.stop.disabled and dash.n_topics.disabled
    dash.start.click()                                               # a second Start while running is ignored
    deadline = time.monotonic() + 120
    while dash.progress.value < 2 and time.monotonic() < deadline: time.sleep(0.02)
    assert dash.progress.value >= 2
    dash.stop.click()
    assert dash.stop.disabled and "Stopping" in dash.status.value
    assert dash.wait(120) and not dash.running
    h = dash.model.history
    assert h.stopped == "callback" and 2 <= len(h) < 10_000 and dash.progress.value == len(h)
    assert "stopped by you" in dash.status.value and not dash.start.disabled
    assert len(dash.model.topics(5)) == 5 and np.isfinite(dash.model.doc_topic).all()

def test_closing_the_dashboard_stops_its_run(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts[:80], embeddings=emb[:80], n_topics=3, epochs=10_000, batch_size=16, vocab_size=300, device="cpu")
    dash.start.click()
    deadline = time.monotonic() + 120
    while dash.progress.value < 1 and time.monotonic() < deadline: time.sleep(0.02)
    dash.close()
    assert dash.wait(120) and not dash.running
    assert dash.model.history.stopped == "callback" and len(dash.model.history) < 10_000

def test_prodlda_needs_no_embeddings_and_others_compute_them_once(small, monkeypatch, tmp_path):
    texts, _, _ = small
    monkeypatch.setenv("CTM_NB_CACHE", str(tmp_path))
    dash = TrainingDashboard(texts[:40], model_class="ProdLDA", n_topics=3, epochs=2, batch_size=16, vocab_size=300, device="cpu")
    dash.start.click(); assert dash.wait(300)
    assert isinstance(dash.model, ProdLDA) and dash.embeddings is None
    dash.model_class.value = "CombinedTM"
    dash.start.click(); assert dash.wait(300)
    assert dash.error is None, dash.error
    assert isinstance(dash.model, CombinedTM) and dash.embeddings.shape == (40, 384)
    first = dash.embeddings
    dash.start.click(); assert dash.wait(300)
    assert dash.embeddings is first                                  # computed once, reused

def test_errors_are_shown_not_raised(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts[:12], embeddings=emb[:12], n_topics=20, epochs=2, device="cpu")
    dash.start.click(); assert dash.wait(60)
    assert isinstance(dash.error, ValueError) and dash.model is None
    assert "ValueError" in dash.status.value and dash.progress.bar_style == "danger" and not dash.start.disabled
    with pytest.raises(ValueError, match="model_class must be one of"): TrainingDashboard(texts, model_class="BERTopic")
    for kw, msg in [(dict(device="cuda:7"), "device must be one of"), (dict(n_topics=1000), "n_topics must be between 2 and 500"),
                    (dict(lr=0.5), "lr must be between 1e-05 and 0.1"), (dict(epochs=0), "epochs must be between 1")]:
        with pytest.raises(ValueError, match=msg): TrainingDashboard(texts, **kw)

def test_inspector_of_a_model_given_unnamed_embeddings_says_what_to_do(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts[:60], embeddings=emb[:60], n_topics=3, epochs=2, batch_size=16, vocab_size=300, device="cpu")
    dash.start.click(); assert dash.wait(120) and dash.error is None, dash.error
    assert dash.model.encoder is None
    ins = DocumentInspector(dash.model)
    assert ins.analyse("Shares fell as the bank reported losses.") is None
    assert isinstance(ins.error, ValueError) and "does not know the encoder" in ins.result.value

def test_topic_explorer(trained):
    tm = trained.model
    ex = TopicExplorer(tm, topic=2, n_words=12, n_docs=4)
    assert len(ex.words) == 12 and len(ex.documents) == 4 and ex.words_html.value.count("<tr>") == 12
    rel = [r for _, r, _, _ in ex.words]
    assert rel == sorted(rel, reverse=True)
    ex.lam.value = 1.0
    probs = [p for _, _, p, _ in ex.words]
    assert probs == sorted(probs, reverse=True)                     # λ = 1 ranks by p(w|k)
    ex.lam.value = 0.0
    lifts = [p / q for _, _, p, q in ex.words]
    assert lifts == pytest.approx(sorted(lifts, reverse=True))       # λ = 0 ranks by lift
    ex.topic.value = 4
    shares = [s for _, s, _ in ex.documents]
    assert shares == sorted(shares, reverse=True) and shares[0] == pytest.approx(tm.doc_topic[:, 4].max())
    assert "topic 4" in ex.words_html.value and ex.docs_html.value.count("<li") == 4
    ex.n_words.value, ex.n_docs.value = 20, 2
    assert len(ex.words) == 20 and len(ex.documents) == 2

def test_document_inspector(trained):
    tm = trained.model
    ins = DocumentInspector(tm)
    ins.text.value = "Shares fell sharply as the bank reported weaker profits and rising debt."
    ins.button.click()
    assert ins.error is None, ins.error
    assert ins.theta.shape == (5,) and abs(ins.theta.sum() - 1) < 1e-5
    assert {"shares", "bank", "profits"} <= set(ins.known_words)
    assert ins.result.value.count("<tr>") == 5
    np.testing.assert_allclose(ins.theta, tm.transform([ins.text.value])[0], atol=1e-5)
    assert ins.analyse("") is None and ins.theta is None and "Type or paste" in ins.result.value
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ins.analyse("zzzz qqqq")                                     # no vocabulary word: embedding only
    assert ins.theta is not None and ins.known_words == [] and "no vocabulary words" in ins.result.value
    assert not caught, [str(w.message) for w in caught]              # the view says so; transform's warning is not repeated

def test_document_inspector_prodlda(small):
    texts, _, _ = small
    tm = ProdLDA(n_topics=3, epochs=3, vocab_size=500, seed=0, progress=False, device="cpu").fit(texts)
    ins = DocumentInspector(tm)
    theta = ins.analyse("The film won the best actress award.")
    assert theta.shape == (3,) and "film" in ins.known_words

def test_check_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    s = check_gpu(colab=True)
    assert not s.ok and s.device == "cpu" and "Runtime → Change runtime type" in s.advice and "T4 GPU" in s.advice
    assert "Change runtime type" in s._repr_html_() and "No GPU" in str(s)
    monkeypatch.setattr(W.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(torch.version, "cuda", None)
    assert "CPU-only build" in check_gpu(colab=False).advice
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    s = check_gpu(colab=True)
    assert s.ok and s.device == "cuda" and s.name == "Tesla T4" and s.advice == "" and "Tesla T4" in s._repr_html_()

def test_devices():
    devs = available_devices()
    assert devs[:2] == ["auto", "cpu"] and ("cuda" in devs) == torch.cuda.is_available()
    assert device_summary("cpu").startswith("cpu · ")
    dash = TrainingDashboard(["a b c"] * 5, model_class="ProdLDA", device="cpu")
    assert "cpu" in dash.device_info.value

@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_dashboard_on_gpu(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts, embeddings=emb, n_topics=5, epochs=3, device="cuda")
    assert torch.cuda.get_device_name(0) in dash.device_info.value
    dash.start.click(); assert dash.wait(300)
    assert dash.error is None and next(dash.model.net.parameters()).is_cuda

def test_run_warnings_are_shown_in_the_dashboard_only(small):
    texts, _, emb = small
    docs = list(texts[:50]) + [""] * 8                               # 8 empty documents are dropped
    dash = TrainingDashboard(docs, embeddings=np.concatenate([emb[:50], emb[:8]]), n_topics=3, epochs=3, batch_size=100,
                             vocab_size=300, device="cpu", plot_every=0)
    with warnings.catch_warnings(record=True) as main:
        warnings.simplefilter("always")
        dash.start.click()
        warnings.warn("a warning of the notebook's own")            # while the run goes on: not the dashboard's
        assert dash.wait(120) and dash.error is None, dash.error
    assert [str(w.message) for w in main] == ["a warning of the notebook's own"]   # the run's did not leak here
    assert any(w.startswith("DroppedDocumentsWarning: 8 of 58 documents") for w in dash.warned), dash.warned
    assert any("batch_size=100 is larger than the 50 training documents" in w for w in dash.warned), dash.warned
    assert f"{len(dash.warned)} warnings below" in dash.status.value and "DroppedDocumentsWarning" in dash.warning_box.value
    first = list(dash.warned)
    dash.start.click(); assert dash.wait(120)
    assert dash.warned == first                                       # shown again for the second run, not remembered as seen

def test_one_run_at_a_time(small):
    texts, _, emb = small
    kw = dict(embeddings=emb[:100], n_topics=3, batch_size=16, vocab_size=300, device="cpu")
    a = TrainingDashboard(texts[:100], epochs=10_000, **kw)
    b = TrainingDashboard(texts[:100], epochs=10_000, **kw)
    a.start.click()
    deadline = time.monotonic() + 120
    while a.progress.value < 1 and time.monotonic() < deadline: time.sleep(0.02)
    b.start.click()                                                   # Start in another dashboard stops a's run
    assert a.wait(60) and a.model.history.stopped == "callback" and "stopped because another dashboard started" in a.status.value
    while b.progress.value < 1 and time.monotonic() < deadline: time.sleep(0.02)
    TrainingDashboard(texts[:100], **kw)                              # so does a new dashboard (its cell run again)
    assert b.wait(60) and "stopped because a new dashboard was made" in b.status.value
    assert not W._RUNS                                                # no run is left registered

def test_bad_settings_are_refused_by_the_constructor(small):
    texts, _, emb = small
    for kw, err, msg in [(dict(embeddings=emb[:90]), ValueError, "Embeddings have 90 rows but there are 100 documents"),
                         (dict(embeddings="foo"), ValueError, "Embeddings must be real numbers"),
                         (dict(embeddings=emb[:100, 0]), ValueError, "Embeddings must be 2-D"),
                         (dict(plot_every="x"), TypeError, "plot_every must be a number"),
                         (dict(plot_every=-1), ValueError, "plot_every must be between 0")]:
        with pytest.raises(err, match=msg): TrainingDashboard(texts[:100], **kw)

def test_final_plot_marks_the_kept_epoch_and_names_the_loss(small):
    texts, _, emb = small
    dash = TrainingDashboard(texts[:120], embeddings=emb[:120], n_topics=3, epochs=6, batch_size=16, vocab_size=300,
                             device="cpu", validation_split=0.25, patience=2, kl_weight=0.5)
    dash.start.click(); assert dash.wait(120) and dash.error is None, dash.error
    best = dash.model.history.best_epoch
    assert best is not None
    for ax in dash.figure.axes: assert [best, best] in [list(l.get_xdata()) for l in ax.lines]   # as plot_training draws it
    assert dash.figure.axes[0].get_title() == "loss = 0.5·KL + reconstruction"

def test_status_grammar_and_explorer_checks(trained, small):
    texts, _, emb = small
    dash = TrainingDashboard(texts[:60], embeddings=emb[:60], n_topics=3, epochs=1, batch_size=16, vocab_size=300, device="cpu")
    dash.start.click(); assert dash.wait(120)
    assert "Done: 1 epoch (completed)" in dash.status.value
    for kw, err, msg in [(dict(chars=-1), ValueError, "chars must be at least 1"), (dict(chars=2.5), TypeError, "chars must be an int")]:
        with pytest.raises(err, match=msg): TopicExplorer(trained.model, **kw)
    for widget in (TopicExplorer, DocumentInspector):
        with pytest.raises(TypeError, match="needs a fitted model, got None"): widget(None)

def test_a_failing_plot_leaves_the_dashboard_usable(small, monkeypatch):
    texts, _, emb = small
    dash = TrainingDashboard(texts[:60], embeddings=emb[:60], n_topics=3, epochs=2, batch_size=16, vocab_size=300,
                             device="cpu", plot_every=0)
    def broken(*a, **k): raise RuntimeError("no canvas")
    monkeypatch.setattr(W, "draw_training", broken)
    dash.start.click(); assert dash.wait(120)
    assert not dash.start.disabled and dash.stop.disabled and not any(c.disabled for c in dash._controls)
    assert not W._RUNS and "no canvas" in dash.status.value                   # the final plot's error is shown

def test_a_thread_that_cannot_start_is_not_registered(small, monkeypatch):
    import threading
    texts, _, emb = small
    dash = TrainingDashboard(texts[:60], embeddings=emb[:60], n_topics=3, epochs=2, vocab_size=300, device="cpu")
    class NoStart(threading.Thread):
        def start(self): raise RuntimeError("no threads left")
    with monkeypatch.context() as m:
        m.setattr(W.threading, "Thread", NoStart)
        with pytest.raises(RuntimeError, match="no threads left"): dash._on_start()
    assert not W._RUNS and not dash.start.disabled and not any(c.disabled for c in dash._controls)
    assert "no threads left" in dash.status.value

def test_warning_router_is_installed_once_on_the_first_start():
    import subprocess, sys
    code = """
import importlib, threading, warnings
orig = warnings._showwarnmsg
import ctm_nb.widgets as W
assert warnings._showwarnmsg is orig                 # importing the module patches nothing
W._install_router(); router = warnings._showwarnmsg
assert router is not orig and router._ctm_nb_router
for _ in range(2): importlib.reload(W); W._install_router()
assert warnings._showwarnmsg is router               # once per process: a reload does not wrap it again
class D:
    got = []
    def _warned(self, m): self.got.append(str(m.message))
W._RUNS[threading.current_thread()] = D()
warnings.warn("routed")                               # the reloaded module's _RUNS is the one looked up
assert D.got == ["routed"], D.got
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
