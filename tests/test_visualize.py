"Plots and pyLDAvis views of ctm_nb.visualize on models the chapter does not show: ProdLDA, the LDA decoder, loaded models."
import json, re
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from ctm_nb.ctm import CombinedTM, ProdLDA
from ctm_nb.visualize import (pyldavis_view, save_figures, doc_map, plot_doc_map,
                              topic_similarity, relevant_words, FIGURES)

pytestmark = pytest.mark.usefixtures("one_thread")

@pytest.fixture(scope="module")
def lda(bbc, bbc_embeddings):
    "A CombinedTM with the LDA decoder on every 10th BBC article."
    texts, labels = bbc
    return CombinedTM(n_topics=4, model_type="LDA", epochs=10, vocab_size=800, seed=0, progress=False,
                      device="cpu").fit(texts[::10], embeddings=bbc_embeddings[::10])

def test_lda_decoder_topic_word_distribution(lda):
    # the LDA decoder's p(w|k) is the mixture component softmax(BN(β_k)) that the decoder multiplies θ with
    net = lda.net
    expected = torch.softmax(torch.nn.functional.batch_norm(net.beta, net.beta_bn.running_mean, net.beta_bn.running_var,
                                                            training=False, eps=net.beta_bn.eps), 1)
    np.testing.assert_allclose(lda.topic_word_distribution, expected.detach().numpy(), atol=1e-6)
    S = topic_similarity(lda)
    assert S.shape == (4, 4) and np.allclose(np.diag(S), 1)

def test_report_figures_for_prodlda_with_labels(bbc, tmp_path):
    texts, labels = bbc
    tm = ProdLDA(n_topics=3, epochs=5, vocab_size=600, seed=0, progress=False, device="cpu").fit(texts[::12])
    paths = save_figures(tm, tmp_path, labels[::12], dpi=40)
    assert set(paths) == {*FIGURES, "pyldavis", "index"}
    for p in paths.values(): assert p.exists() and p.stat().st_size > 500
    page = paths["pyldavis"].read_text()
    assert re.findall(r'(?:src|href)="https?:', page) == [] and page.count("<script>") == 3
    index = paths["index"].read_text()
    assert all(f'src="{n}.png"' in index for n in FIGURES) and 'src="pyldavis.html"' in index

def test_tsne_map_and_embeddings(lda, bbc_embeddings):
    xy = doc_map(lda, method="tsne")
    assert xy.shape == (len(lda.corpus), 2) and np.isfinite(xy).all()
    fig = plot_doc_map(lda, embeddings=bbc_embeddings[::10])    # one row per document: the kept ones are selected
    assert isinstance(fig, Figure) and "embeddings" in fig.axes[0].get_title()

def test_relevance_edges(lda):
    with pytest.raises(IndexError): relevant_words(lda, 4)
    words = relevant_words(lda, 0, lam=0.6, n_words=5)
    assert len(words) == 5 and all(0 < p <= 1 and 0 < q <= 1 for _, _, p, q in words)

def test_loaded_model_has_no_corpus(lda, bbc, bbc_embeddings, tmp_path):
    lda.save(tmp_path / "m")
    loaded = CombinedTM.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(loaded.topic_word_distribution, lda.topic_word_distribution, atol=1e-6)
    with pytest.raises(RuntimeError, match="without its training documents, which pyldavis_view needs"): pyldavis_view(loaded)
    from ctm_nb.visualize import plot_doc_topics
    for what, call in [("relevant_words", lambda: relevant_words(loaded, 0)), ("doc_map", lambda: doc_map(loaded)),
                       ("this plot", lambda: plot_doc_topics(loaded)), ("save_figures", lambda: save_figures(loaded, tmp_path / "figs"))]:
        with pytest.raises(RuntimeError, match=f"without its training documents, which {what} needs"): call()
    assert not (tmp_path / "figs").exists()        # save_figures refused before writing anything
    loaded.attach_documents(bbc[0][::10], embeddings=bbc_embeddings[::10])   # the fix the errors name
    np.testing.assert_allclose(loaded.doc_topic, lda.doc_topic, atol=1e-5)
    assert set(save_figures(loaded, tmp_path / "figs", dpi=40)) == {*FIGURES, "pyldavis", "index"} - {"training"}

def test_training_curves_with_validation(bbc):
    from ctm_nb.visualize import plot_training
    tm = ProdLDA(n_topics=3, epochs=4, batch_size=32, vocab_size=500, validation_split=0.2, seed=0, progress=False,
                 device="cpu").fit(bbc[0][::15])
    ax = plot_training(tm).axes[0]
    labels = [l.get_label() for l in ax.lines]
    assert labels[:2] == ["training", "validation"] and len(ax.lines[1].get_xdata()) == len(tm.history)
    if tm.history.best_epoch is not None: assert len(ax.lines) == 3        # the best epoch is marked

def test_the_lda_baseline_gets_the_same_views(bbc, tmp_path):
    from ctm_nb.baselines import LDA
    from ctm_nb.widgets import TopicExplorer
    texts, labels = bbc
    lda = LDA(n_topics=4, max_iter=5, seed=0, progress=False).fit(texts[::10])
    paths = save_figures(lda, tmp_path, labels[::10], dpi=40)
    assert set(paths) == ({*FIGURES, "pyldavis", "index"} - {"training"})   # no epochs to plot
    for p in paths.values(): assert p.exists() and p.stat().st_size > 500
    assert topic_similarity(lda).shape == (4, 4)
    from ctm_nb.visualize import plot_training
    with pytest.raises(ValueError, match="no per-epoch losses"): plot_training(lda)   # EM has no epochs to draw
    with pytest.raises(RuntimeError, match="not fitted"): save_figures(LDA(n_topics=4), tmp_path / "unfitted")
    ex = TopicExplorer(lda, topic=1, n_docs=3)
    assert len(ex.documents) == 3 and ex.documents[0][1] == pytest.approx(lda.doc_topic[:, 1].max())

def test_loss_title_names_what_the_loss_adds_up():
    from ctm_nb.training import EpochLog
    from ctm_nb.visualize import plot_training
    logs = [EpochLog(e, loss=0.5 * kl + rec + 1.2, kl=kl, rec=rec) for e, kl, rec in [(1, 8.0, 700.0), (2, 9.0, 690.0)]]
    assert plot_training(logs, kl_weight=0.5, label_term=True).axes[0].get_title() == "loss = 0.5·KL + reconstruction + label CE"
    for kw in [{}, dict(kl_weight=1.0, label_term=False), dict(kl_weight=2, label_term=True), dict(kl_weight=0.5)]:
        assert plot_training(logs, **kw).axes[0].get_title() == "loss (per document)"   # unknown or not adding up: no error
    elbo = [EpochLog(1, loss=708.0, kl=8.0, rec=700.0)]
    assert plot_training(elbo, kl_weight=1.0, label_term=False).axes[0].get_title() == "loss (−ELBO) = KL + reconstruction"
    assert plot_training(elbo, kl_weight=1.0, label_term=False, figsize=(5, 2)).get_size_inches().tolist() == [5, 2]
    with pytest.raises(TypeError): plot_training(elbo, labels=True)   # renamed: `labels` means gold labels in this module

def test_history_of_a_model_fit_with_labels_and_kl_weight_plots(bbc, bbc_embeddings):
    from ctm_nb.visualize import plot_training
    texts, labels = bbc
    tm = CombinedTM(n_topics=3, epochs=2, vocab_size=300, kl_weight=0.5, seed=0, progress=False, device="cpu")
    tm.fit(texts[:120:2], labels[:120:2], embeddings=bbc_embeddings[:120:2])
    assert plot_training(tm).axes[0].get_title() == "loss = 0.5·KL + reconstruction + label CE"
    assert plot_training(tm.history).axes[0].get_title() == "loss (per document)"   # raised ValueError before

def test_top_words_takes_any_iterable_of_topics(lda):
    from ctm_nb.visualize import plot_top_words
    for ids in [(k for k in [2, 0]), {2: 0, 0: 0}.keys(), [2, 0], np.array([2, 0])]:   # generators and dict_keys worked before
        assert [ax.get_title() for ax in plot_top_words(lda, topic_ids=ids).axes] == ["topic 2", "topic 0"]
    assert [ax.get_title() for ax in plot_top_words(lda, topic_ids=np.int64(2)).axes] == ["topic 2"]
    assert [ax.get_title() for ax in plot_top_words(lda, topic_ids={1}).axes] == ["topic 1"]

def test_index_names_only_the_files_written(lda, tmp_path):
    page = save_figures(lda, tmp_path / "a", dpi=30)["index"].read_text()
    assert "This list and top_words.png rank" in page and "pyLDAvis view at λ = 1" in page and "topics.txt" not in page
    page = save_figures(lda, tmp_path / "b", dpi=30, pyldavis=False)["index"].read_text()
    assert "pyLDAvis" not in page and "topics.txt" not in page

def test_training_plot_of_unfitted_and_loaded_models(lda, tmp_path):
    from ctm_nb.visualize import plot_training
    with pytest.raises(RuntimeError, match="not fitted yet"): plot_training(CombinedTM())
    lda.save(tmp_path / "m")
    with pytest.raises(ValueError, match="loaded from disk"): plot_training(CombinedTM.load(tmp_path / "m", device="cpu"))
    assert plot_training(lda).axes[0].get_title() == "loss (−ELBO) = KL + reconstruction"

def test_none_instead_of_a_model_is_named():
    from ctm_nb.visualize import plot_training, plot_top_words, plot_doc_topics, plot_topic_similarity
    for f in (plot_training, plot_top_words, plot_doc_topics, plot_topic_similarity, plot_doc_map, doc_map, pyldavis_view,
              topic_similarity, lambda tm: relevant_words(tm, 0), lambda tm: save_figures(tm, "unused")):
        with pytest.raises(TypeError, match=r"needs a fitted model, got None.*dash.wait\(\)"): f(None)

def test_pyldavis_page_numbers_topics_from_0(lda, tmp_path, monkeypatch):
    from ctm_nb.visualize import LDAvisView, ldavis_html, _FROM_0, _from_0
    view = pyldavis_view(lda, height=600)
    assert view.height == 600 and "height:600px" in view._repr_html_()
    assert all(view.html.count(new) == 1 for _, new in _FROM_0)          # labels, title, box and address shown from 0
    assert json.loads(view.prepared.to_json())["mdsDat"]["topics"] == [1, 2, 3, 4]   # (pyLDAvis's data keeps its numbers)
    zero = view.prepared.to_dict(); zero["mdsDat"]["topics"] = [0, 1, 2, 3]
    with pytest.raises(ValueError, match="start_index=0"): ldavis_html(zero)
    with pytest.warns(UserWarning, match="numbers the topics from 1"): assert _from_0("var x;") == "var x;"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert view.save("~/v/a.html") == tmp_path / "v" / "a.html" and (tmp_path / "v" / "a.html").exists()

def test_save_pyldavis_expands_home(lda, tmp_path, monkeypatch):
    from ctm_nb.visualize import save_pyldavis
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert save_pyldavis(lda, "~/x.html") == tmp_path / "x.html" and not (tmp_path / "~").exists()

def test_top_words_options(lda):
    from ctm_nb.visualize import plot_top_words, plot_doc_topics, plot_topic_similarity
    assert [ax.get_title() for ax in plot_top_words(lda, topic_ids=np.int64(2)).axes] == ["topic 2"]
    with pytest.raises(TypeError, match="a topic must be an int"): plot_top_words(lda, topic_ids="2")
    with pytest.raises(IndexError, match=r"topic must be in 0..3"): plot_top_words(lda, topic_ids=4)
    for f in (plot_top_words, plot_doc_topics, plot_topic_similarity, plot_doc_map):
        assert f(lda, figsize=(4, 3)).get_size_inches().tolist() == [4, 3]

def test_doc_map_checks_labels_before_mapping(lda, monkeypatch):
    import ctm_nb.visualize as V
    monkeypatch.setattr(V, "doc_map", lambda *a, **k: pytest.fail("the map was computed before the labels were checked"))
    with pytest.raises(ValueError, match="labels has 10 rows"): V.plot_doc_map(lda, ["x"] * 10, method="tsne")
