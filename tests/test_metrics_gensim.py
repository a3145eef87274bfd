"""ctm_nb.metrics against gensim's CoherenceModel and against plain-Python reference implementations.

gensim is a dev extra (`pip install -e .[dev]`); the comparisons skip without it. The 20 Newsgroups comparison reads
the scikit-learn cache at `<repo>/../shared/data/scikit_learn_data` and skips when it is absent.
"""
from itertools import chain, combinations
from pathlib import Path
import math
import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings, strategies as st

from ctm_nb.metrics import (c_v, cooccurrence, evaluate_topics, inverted_rbo, label_agreement, npmi, random_topics,
                            rbo, topic_diversity)

DATA_HOME = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scikit_learn_data"
TOL = 1e-6


# ---------------------------------------------------------------- corpora

def zipf_corpus(n_docs=300, n_words=60, max_len=150, seed=0):
    "Deterministic Zipfian texts with lengths from 0 (empty) to `max_len`, so some are shorter than any window."
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(n_words)]
    pz = 1 / np.arange(1, n_words + 1)
    pz /= pz.sum()
    texts = [list(rng.choice(vocab, size=int(rng.integers(0, max_len)), p=pz)) for _ in range(n_docs)]
    present = sorted(set(chain.from_iterable(texts)), key=lambda w: int(w[1:]))
    topics = [list(rng.choice(present, 10, replace=False)) for _ in range(8)]
    topics.append(present[:10])                  # the most frequent words: many repeats inside windows
    return texts, topics


@pytest.fixture(scope="module")
def newsgroups():
    "500 20 Newsgroups posts, tokenised simply, with 10 newsgroup-specific topics and 5 random ones."
    if not DATA_HOME.exists(): pytest.skip(f"20 Newsgroups cache not found at {DATA_HOME}")
    from sklearn.datasets import fetch_20newsgroups
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    ng = fetch_20newsgroups(subset="train", data_home=str(DATA_HOME), remove=("headers", "footers", "quotes"),
                            download_if_missing=False)
    tok = re.compile(r"\b[a-z]{3,}\b")
    texts = [[w for w in tok.findall(d.lower()) if w not in ENGLISH_STOP_WORDS] for d in ng.data[:500]]
    labels = np.asarray(ng.target[:500])
    counts = {}
    for t, y in zip(texts, labels):
        for w in t: counts.setdefault(w, np.zeros(20))[y] += 1
    common = [w for w, c in counts.items() if c.sum() >= 5]
    topics = []
    for y in np.unique(labels)[:10]:
        spec = sorted(common, key=lambda w: (-(counts[w][y] / (counts[w].sum() + 5)), w))
        topics.append(spec[:10])
    topics += random_topics(sorted(common), 5, seed=1)
    return texts, topics


def gensim_per_topic(topics, texts, coherence, window=None, topn=10):
    gensim = pytest.importorskip("gensim")
    from gensim.corpora import Dictionary
    from gensim.models import CoherenceModel
    cm = CoherenceModel(topics=topics, texts=texts, dictionary=Dictionary(texts), coherence=coherence,
                        window_size=window, topn=topn, processes=1)
    return np.array(cm.get_coherence_per_topic())


# ---------------------------------------------------------------- gensim compatibility

@pytest.mark.parametrize("window", [10, 4, 1])
def test_window_npmi_matches_gensim_c_npmi(window):
    texts, topics = zipf_corpus()
    ours = npmi(topics, texts, window=window)
    theirs = gensim_per_topic(topics, texts, "c_npmi", window)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


@pytest.mark.parametrize("window", [110, 20])
def test_c_v_matches_gensim(window):
    texts, topics = zipf_corpus()
    topics.append(["w0", "w1", "w0", "w3", "w4", "w5", "w6", "w7", "w8", "w9"])  # a repeated word
    ours = c_v(topics, texts, window=window)
    theirs = gensim_per_topic(topics, texts, "c_v", window)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_whitespace_strings_equal_token_lists():
    texts, topics = zipf_corpus(n_docs=80)
    joined = [" ".join(t) for t in texts]
    np.testing.assert_allclose(npmi(topics, joined, window=10), npmi(topics, texts, window=10), atol=0)
    np.testing.assert_allclose(c_v(topics, joined), c_v(topics, texts), atol=0)


def test_newsgroups_matches_gensim(newsgroups):
    texts, topics = newsgroups
    np.testing.assert_allclose(npmi(topics, texts, window=10), gensim_per_topic(topics, texts, "c_npmi"),
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(c_v(topics, texts), gensim_per_topic(topics, texts, "c_v"), rtol=0, atol=TOL)
    # real word groups beat chance by a wide margin
    scores = npmi(topics, texts, window=10)
    assert scores[:10].mean() > scores[10:].mean() + 0.1


def test_gensim_drops_unknown_words_we_raise():
    texts, topics = zipf_corpus(n_docs=50)
    with pytest.raises(ValueError, match="'unicorn'"):
        npmi([topics[0][:5] + ["unicorn"]], texts, window=10)
    with pytest.raises(ValueError, match="'unicorn'"):
        c_v([topics[0][:5] + ["unicorn"]], texts)


# ---------------------------------------------------------------- plain-Python references

def ref_npmi(topics, units, eps=1e-12):
    "NPMI from a list of units (documents or windows), each a set of words: loops, as in the textbook."
    n = len(units)
    p = lambda *ws: sum(all(w in u for w in ws) for u in units) / n
    out = []
    for t in topics:
        vals = []
        for a, b in combinations(t, 2):
            pab = p(a, b)
            vals.append(math.log((pab + eps) / (p(a) * p(b))) / -math.log(pab + eps))
        out.append(sum(vals) / len(vals))
    return np.array(out)


def windows_of(texts, w):
    "All boolean sliding windows as sets; a text shorter than the window is one window."
    return [set(t[i:i + w]) for t in texts for i in range(max(len(t) - w + 1, 1))]


def test_document_npmi_matches_reference():
    texts, topics = zipf_corpus(n_docs=120, max_len=40, seed=3)
    expected = ref_npmi(topics, [set(t) for t in texts])
    np.testing.assert_allclose(npmi(topics, texts), expected, rtol=0, atol=TOL)
    vocab = sorted(set(chain.from_iterable(texts)))
    col = {w: i for i, w in enumerate(vocab)}
    bow = sp.lil_matrix((len(texts), len(vocab)))
    for d, t in enumerate(texts):
        for w in t: bow[d, col[w]] += 1
    np.testing.assert_allclose(npmi(topics, bow=bow.tocsr(), vocab=vocab), expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("window", [1, 3, 10])
def test_exact_window_npmi_matches_reference(window):
    texts, topics = zipf_corpus(n_docs=60, max_len=30, seed=4)
    expected = ref_npmi(topics, windows_of(texts, window))
    np.testing.assert_allclose(npmi(topics, texts, window=window, exact=True), expected, rtol=0, atol=TOL)


def test_exact_window_counts_match_reference():
    texts, topics = zipf_corpus(n_docs=60, max_len=30, seed=5)
    words = sorted(set(chain.from_iterable(topics)))
    units = windows_of(texts, 5)
    C, n = cooccurrence(words, texts, window=5, exact=True)
    assert n == len(units)
    expected = np.array([[sum(a in u and b in u for u in units) for b in words] for a in words])
    np.testing.assert_array_equal(C, expected)


def ref_rbo_ctm(l1, l2, p):
    "The CTM authors' rbo_ext (dlukes/rbo, atomic items) ported line by line."
    S, L = sorted((list(l1), list(l2)), key=len)
    s, l = len(S), len(L)
    agree = lambda d: 2 * len(set(S[:d]) & set(L[:d])) / (len(set(S[:d])) + len(set(L[:d])))
    x_l = agree(l) * min(l, s, l)
    x_s = agree(s) * min(s, s, l)
    sum1 = sum(p ** d * agree(d) for d in range(1, l + 1))
    sum2 = sum(p ** d * x_s * (d - s) / s / d for d in range(s + 1, l + 1))
    return (1 - p) / p * (sum1 + sum2) + p ** l * ((x_l - x_s) / l + x_s / s)


def ref_rbo_paper(S, T, p):
    "Webber et al. 2010, Eq. 32, with agreement X_d / d."
    S, L = sorted((list(S), list(T)), key=len)
    s, l = len(S), len(L)
    X = lambda d: len(set(S[:d]) & set(L[:d]))
    sum1 = sum(X(d) / d * p ** d for d in range(1, l + 1))
    sum2 = sum(X(s) * (d - s) / (s * d) * p ** d for d in range(s + 1, l + 1))
    return (1 - p) / p * (sum1 + sum2) + ((X(l) - X(s)) / l + X(s) / s) * p ** l


def test_rbo_matches_references():
    rng = np.random.default_rng(0)
    vocab = [f"v{i}" for i in range(25)]
    for _ in range(200):
        a = list(rng.choice(vocab, 10, replace=False))
        b = list(rng.choice(vocab, 10, replace=False))
        assert abs(rbo(a, b, 0.9) - ref_rbo_ctm(a, b, 0.9)) < 1e-12
        c = list(rng.choice(vocab, int(rng.integers(1, 15)), replace=False))
        assert abs(rbo(a, c, 0.8) - ref_rbo_paper(a, c, 0.8)) < 1e-12


def test_inverted_rbo_matches_pairwise_loop():
    texts, _ = zipf_corpus(n_docs=20)
    topics = random_topics(sorted(set(chain.from_iterable(texts))), 12, n_words=10, seed=7)
    expected = 1 - np.mean([ref_rbo_ctm(a, b, 0.9) for a, b in combinations(topics, 2)])
    assert abs(inverted_rbo(topics) - expected) < 1e-12


def test_label_agreement_by_hand():
    y = ["a", "a", "a", "b", "b", "c"]
    z = [0, 0, 1, 1, 1, 1]
    res = label_agreement(y, z)
    assert res["purity"] == pytest.approx((2 + 2) / 6)
    from sklearn.metrics import normalized_mutual_info_score
    assert res["nmi"] == pytest.approx(normalized_mutual_info_score(y, z))


def test_evaluate_topics_keys_and_values():
    texts, topics = zipf_corpus(n_docs=80)
    res = evaluate_topics(topics, texts, top_k=10)
    assert set(res) == {"npmi_window", "npmi_doc", "c_v", "topic_diversity", "inverted_rbo"}
    assert res["npmi_window"] == pytest.approx(npmi(topics, texts, window=10).mean())
    assert res["npmi_doc"] == pytest.approx(npmi(topics, texts).mean())
    assert res["c_v"] == pytest.approx(c_v(topics, texts).mean())
    with pytest.raises(ValueError, match="at least 25"):
        evaluate_topics(topics, texts)


def test_bad_input():
    texts, topics = zipf_corpus(n_docs=20)
    with pytest.raises(ValueError, match="word order"): npmi(topics, bow=np.ones((2, 2)), vocab=["a", "b"], window=10)
    with pytest.raises(ValueError, match="reference corpus"): npmi(topics)
    with pytest.raises(ValueError, match="window must be at least 1, got 0. It counts tokens"): npmi(topics, texts, window=0)
    with pytest.raises(ValueError, match="columns"): npmi(topics, bow=np.ones((2, 3)), vocab=["a", "b"])
    with pytest.raises(ValueError, match="list of word lists"): npmi("w1 w2", texts)
    with pytest.raises(ValueError, match="is a string"): npmi(["w1 w2", "w3 w4"], texts)
    for w in (2.9, True):   # once truncated to 2 and 1
        with pytest.raises(TypeError, match=f"window must be an int, got {w!r}"): npmi(topics, texts, window=w)
    with pytest.raises(TypeError, match="window must be an int, got 10.0"): c_v(topics, texts, window=10.0)
    bow = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="lists 'b' twice"): npmi([["a", "b"]], bow=bow, vocab=["a", "b", "b"])
    with pytest.raises(ValueError, match="lists '1' twice"): npmi([["a", "1"]], bow=bow, vocab=["a", 1, "1"])
    assert npmi([[0, 1]], bow=bow[:, :2], vocab=[0, 1]) == pytest.approx(npmi([["0", "1"]], bow=bow[:, :2], vocab=["0", "1"]))


def test_label_agreement_refuses_ambiguous_input():
    with pytest.raises(ValueError, match="different values with the same text"): label_agreement([1, "1", 2, 2], [0, 1, 2, 2])
    with pytest.raises(ValueError, match="different values with the same text"):
        label_agreement(np.array([True, "True", "x", "x"], dtype=object), [0, 1, 2, 2])
    with pytest.raises(ValueError, match="equal values with different texts"):
        label_agreement(np.array([1, 1.0, 2, 2], dtype=object), [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"theta\.argmax\(1\)"): label_agreement(["a", "b", "b"], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="holds nan"): label_agreement(["a", "b"], [0, np.nan])
    with pytest.raises(TypeError, match="hashable"): label_agreement(np.array([{1}, {2}], dtype=object), [0, 1])
    y = ["a", "a", "a", "b", "b", "c"]
    assert label_agreement(y, np.array([0., 0, 1, 1, 1, 1])) == label_agreement(y, [0, 0, 1, 1, 1, 1])


def test_evaluate_topics_one_topic_has_no_inverted_rbo():
    texts, topics = zipf_corpus(n_docs=40)
    res = evaluate_topics(topics[:1], texts, top_k=10)
    assert math.isnan(res["inverted_rbo"]) and res["topic_diversity"] == 1.0


# ---------------------------------------------------------------- properties

WORDS = list("abcdefgh")
texts_st = st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=25), min_size=1, max_size=25)
topic_st = st.lists(st.sampled_from(WORDS), min_size=2, max_size=6, unique=True)
cfg = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cfg
@given(texts=texts_st, topics=st.lists(topic_st, min_size=1, max_size=4), window=st.one_of(st.none(), st.integers(1, 12)),
       exact=st.booleans())
def test_npmi_in_range_and_order_invariant(texts, topics, window, exact):
    present = set(chain.from_iterable(texts))
    topics = [[w for w in t if w in present] for t in topics]
    topics = [t for t in topics if len(t) >= 2]
    if not topics: return
    s = npmi(topics, texts, window=window, exact=exact)
    assert s.shape == (len(topics),)
    assert np.all(s >= -1 - 1e-9) and np.all(s <= 1 + 1e-9)
    np.testing.assert_allclose(npmi([t[::-1] for t in topics], texts, window=window, exact=exact), s, atol=1e-12)


@cfg
@given(texts=texts_st, window=st.integers(1, 12))
def test_gensim_counts_never_exceed_exact_counts(texts, window):
    words = sorted(set(chain.from_iterable(texts)))
    if not words: return
    Cg, n = cooccurrence(words, texts, window=window)
    Ce, m = cooccurrence(words, texts, window=window, exact=True)
    assert n == m and np.all(Cg <= Ce)


@cfg
@given(topics=st.lists(st.lists(st.sampled_from(WORDS), min_size=3, max_size=6), min_size=1, max_size=6))
def test_topic_diversity_in_unit_interval(topics):
    td = topic_diversity(topics, top_k=3)
    assert 0 < td <= 1


@cfg
@given(topics=st.lists(st.permutations(WORDS).map(lambda t: t[:5]), min_size=2, max_size=6),
       p=st.floats(0.05, 0.95))
def test_inverted_rbo_in_unit_interval_and_zero_for_identical(topics, p):
    assert 0 <= inverted_rbo(topics, top_n=5, p=p) <= 1
    assert inverted_rbo([topics[0]] * 3, top_n=5, p=p) == pytest.approx(0, abs=1e-12)


@cfg
@given(a=st.lists(st.sampled_from(WORDS), min_size=1, max_size=8, unique=True),
       b=st.lists(st.sampled_from(WORDS), min_size=1, max_size=8, unique=True), p=st.floats(0.05, 0.95))
def test_rbo_symmetric_and_bounded(a, b, p):
    r = rbo(a, b, p)
    assert r == pytest.approx(rbo(b, a, p), abs=1e-12)
    assert 0 <= r <= 1
    assert rbo(a, a, p) == pytest.approx(1, abs=1e-12)
