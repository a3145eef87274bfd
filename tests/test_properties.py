"""Property-based tests (hypothesis): invariants of preprocessing and alignment, batching, and the topic metrics.

tests/test_metrics_gensim.py already covers NPMI's range and word-order invariance with texts, TD in (0, 1], IRBO in
[0, 1] and 0 for identical topics, and RBO's symmetry; these complement them (other inputs, other invariants)."""
from itertools import chain
import math
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from ctm_nb.data import Corpus, bag_of_words, clean_text, preprocess
from ctm_nb.fusion import TopicData, gather_rows
from ctm_nb.metrics import inverted_rbo, label_agreement, npmi, topic_diversity

cfg = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- preprocessing and alignment

# tokens that survive cleaning, stopwords, numbers, punctuation, one-letter words and mixed case
TOKENS = ["cat", "Cat", "dog", "mice", "mice,", "cheese!", "fish", "the", "and", "of", "123", "a", "x", "e-mail",
          "don't", "MP3s", "...", "  ", "\n"]
docs_st = st.lists(st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join), min_size=1, max_size=25)

def _preprocess(docs, **kw):
    try: return preprocess(docs, **kw)
    except ValueError as e:                     # the two legitimate refusals: nothing left at all
        assert "No word of two or more" in str(e) or "Every document was dropped" in str(e), e
        assume(False)

@cfg
@given(docs=docs_st, vocab_size=st.integers(1, 12), min_words=st.integers(0, 3), remove_numbers=st.booleans())
def test_preprocess_keeps_track_of_every_document(docs, vocab_size, min_words, remove_numbers):
    c = _preprocess(docs, vocab_size=vocab_size, min_words=min_words, remove_numbers=remove_numbers)
    kept, dropped = c.kept.tolist(), c.dropped.tolist()
    assert sorted(kept + dropped) == list(range(len(docs))) and not set(kept) & set(dropped)
    assert kept == sorted(kept) and dropped == sorted(dropped) and c.n_docs == len(docs)
    assert c.texts == [docs[i] for i in kept]                      # untouched texts, in the caller's order
    assert len(c.vocab) <= vocab_size and c.vocab == sorted(set(c.vocab)) and all(len(w) >= 2 for w in c.vocab)
    # the bag of words is exactly bag_of_words of the kept texts, and agrees with bow_texts
    ref = bag_of_words(c.texts, c.vocab, remove_numbers=remove_numbers)
    assert c.bow.shape == (len(kept), len(c.vocab)) and (c.bow != ref).nnz == 0
    np.testing.assert_array_equal(np.asarray(c.bow.sum(1)).ravel(), [len(t.split()) for t in c.bow_texts])
    # kept documents have at least min_words vocabulary tokens, dropped ones fewer
    full = bag_of_words(docs, c.vocab, remove_numbers=remove_numbers)
    lengths = np.asarray(full.sum(1)).ravel()
    assert (lengths[kept] >= min_words).all() and (lengths[dropped] < min_words).all()

@cfg
@given(docs=docs_st, k=st.integers(1, 4), fill=st.sampled_from([np.nan, -1.0, 0.0]))
def test_align_puts_every_row_back_in_place(docs, k, fill):
    c = _preprocess(docs)
    rows = np.random.default_rng(len(docs)).random((len(c), k))
    out = c.align(rows, fill=fill)
    assert out.shape == (len(docs), k)
    np.testing.assert_array_equal(out[c.kept], rows)
    assert np.array_equal(out[c.dropped], np.full((len(c.dropped), k), fill), equal_nan=True)
    np.testing.assert_array_equal(c.align(np.arange(len(c)), fill=-1)[c.kept], np.arange(len(c)))

@cfg
@given(docs=docs_st)
def test_a_fixed_vocabulary_gives_the_same_counts(docs):
    c = _preprocess(docs)
    again = preprocess(docs, vocab=c.vocab)
    assert again.kept.tolist() == c.kept.tolist() and (again.bow != c.bow).nnz == 0
    # cleaning then counting equals counting: bag_of_words is idempotent under clean_text
    cleaned = [clean_text(d, "english") for d in docs]
    assert (bag_of_words(cleaned, c.vocab) != bag_of_words(docs, c.vocab)).nnz == 0

# ---------------------------------------------------------------- batching

@cfg
@given(n=st.integers(2, 300), batch_size=st.integers(2, 80), shuffle=st.booleans(), seed=st.integers(0, 2**16))
def test_every_document_once_per_epoch_and_no_batch_of_one(n, batch_size, shuffle, seed):
    data = TopicData(sp.csr_matrix((np.ones(n), (np.arange(n), np.arange(n) % 3)), shape=(n, 3)))
    chunks = data.batch_indices(batch_size, shuffle=shuffle, generator=torch.Generator().manual_seed(seed))
    rows = torch.cat(chunks).tolist()
    assert sorted(rows) == list(range(n))                          # each document exactly once
    sizes = [len(c) for c in chunks]
    assert min(sizes) >= 2 and max(sizes) <= batch_size + 1       # BatchNorm never sees a single document
    assert len(chunks) in (math.ceil(n / batch_size), math.ceil(n / batch_size) - 1)
    if not shuffle: assert rows == list(range(n))

@st.composite
def sparse_and_rows(draw):
    n, v = draw(st.integers(1, 25)), draw(st.integers(1, 15))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    dense = rng.integers(0, 4, (n, v)) * (rng.random((n, v)) < draw(st.floats(0, 1)))
    rows = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=40))
    return sp.csr_matrix(dense.astype(np.float32)), rows

@cfg
@given(sparse_and_rows())
def test_gather_rows_equals_scipy_densification(args):
    m, rows = args
    data = TopicData(m)                                   # sorted CSR, padded arrays
    np.testing.assert_array_equal(data.batch(torch.tensor(rows), sparse=False).bow.numpy(), m[rows].toarray())
    sb = data.batch(torch.tensor(rows), sparse=True).bow  # the CPU path: exactly the nonzeros, never padded
    np.testing.assert_array_equal(sb.to_dense().numpy(), m[rows].toarray())
    assert len(sb.words) == m[rows].nnz and sb.offsets.tolist() == list(np.r_[0, np.cumsum(np.diff(m.indptr)[rows])][:-1])
    # and straight from the raw arrays, with the minimal padding of one entry
    ip, ix = torch.from_numpy(m.indptr).long(), torch.from_numpy(np.r_[m.indices, 0]).long()
    vals = torch.from_numpy(np.r_[m.data, 0]).float()
    longest = max(int(np.diff(m.indptr).max()), 1)
    np.testing.assert_array_equal(gather_rows(ip, ix, vals, torch.tensor(rows), m.shape[1], longest).numpy(), m[rows].toarray())

# ---------------------------------------------------------------- metrics (complementing test_metrics_gensim.py)

WORDS = list("abcdefghij")
texts_st = st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=15), min_size=1, max_size=30)
topic_st = st.lists(st.sampled_from(WORDS), min_size=2, max_size=5, unique=True)

def _present_topics(texts, topics):
    present = set(chain.from_iterable(texts))
    topics = [[w for w in t if w in present] for t in topics]
    return [t for t in topics if len(t) >= 2]

@cfg
@given(texts=texts_st, topics=st.lists(topic_st, min_size=1, max_size=4), seed=st.integers(0, 1000))
def test_document_npmi_same_from_texts_and_bow_and_invariant_to_order(texts, topics, seed):
    topics = _present_topics(texts, topics)
    assume(topics)
    vocab = sorted(set(chain.from_iterable(texts)))
    index = {w: j for j, w in enumerate(vocab)}
    bow = sp.csr_matrix([[t.count(w) for w in vocab] for t in texts], shape=(len(texts), len(vocab)))
    s = npmi(topics, texts)
    assert np.all((-1 - 1e-9 <= s) & (s <= 1 + 1e-9))
    np.testing.assert_allclose(npmi(topics, bow=bow, vocab=vocab), s, atol=1e-12)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    np.testing.assert_allclose(npmi(topics, [texts[i] for i in order]), s, atol=1e-12)          # document order
    perm = rng.permutation(len(topics))
    np.testing.assert_allclose(npmi([topics[i] for i in perm], texts), s[perm], atol=1e-12)     # topic order
    cols = rng.permutation(len(vocab))                                                           # column order
    np.testing.assert_allclose(npmi(topics, bow=bow[:, cols], vocab=[vocab[j] for j in cols]), s, atol=1e-12)

@cfg
@given(topics=st.lists(st.lists(st.sampled_from(WORDS), min_size=3, max_size=3, unique=True), min_size=1, max_size=6),
       copies=st.integers(1, 4), seed=st.integers(0, 1000))
def test_topic_diversity_formula_bounds_and_invariances(topics, copies, seed):
    K, k = len(topics), 3
    td = topic_diversity(topics, top_k=k)
    assert td == len(set(chain.from_iterable(topics))) / (K * k)
    assert 1 / K - 1e-12 <= td <= 1
    assert (td == 1) == (len(set(chain.from_iterable(topics))) == K * k)                    # 1 iff no shared word
    perm = np.random.default_rng(seed).permutation(K)
    assert topic_diversity([topics[i] for i in perm], top_k=k) == td
    assert topic_diversity(topics * copies, top_k=k) == pytest.approx(td / copies)        # repeating topics divides TD

@cfg
@given(topics=st.lists(st.permutations(WORDS).map(lambda t: t[:4]), min_size=2, max_size=6), seed=st.integers(0, 1000),
       p=st.floats(0.05, 0.95))
def test_inverted_rbo_symmetric_bounded_and_order_free(topics, seed, p):
    irbo = inverted_rbo(topics, top_n=4, p=p)
    assert 0 <= irbo <= 1
    assert inverted_rbo(topics[:2], top_n=4, p=p) == pytest.approx(inverted_rbo(topics[1::-1], top_n=4, p=p), abs=1e-12)
    perm = np.random.default_rng(seed).permutation(len(topics))
    assert inverted_rbo([topics[i] for i in perm], top_n=4, p=p) == pytest.approx(irbo, abs=1e-12)
    disjoint = [WORDS[:4], WORDS[4:8]]
    assert inverted_rbo(disjoint, top_n=4, p=p) == 1.0
    if len({tuple(t) for t in topics}) == 1: assert irbo == pytest.approx(0, abs=1e-12)

@cfg
@given(labels=st.lists(st.sampled_from("xyz"), min_size=2, max_size=40), data=st.data())
def test_label_agreement_bounded_and_relabelling_free(labels, data):
    topics = data.draw(st.lists(st.integers(0, 3), min_size=len(labels), max_size=len(labels)))
    a = label_agreement(labels, topics)
    assert -1e-12 <= a["nmi"] <= 1 + 1e-12 and 0 < a["purity"] <= 1
    renamed = label_agreement(labels, [{0: 3, 1: 0, 2: 1, 3: 2}[t] for t in topics])       # topic ids are names
    assert renamed == pytest.approx(a, abs=1e-12)
    assert label_agreement(labels, labels)["purity"] == 1.0
