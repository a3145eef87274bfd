"Plots and pyLDAvis views of ctm_nb.visualize on models the chapter does not show: ProdLDA, the LDA decoder, loaded models."
import re
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
