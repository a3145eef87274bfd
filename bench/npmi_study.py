"""Why does LDA beat the CTMs on window NPMI? The benchmark's models, trained as in `bench/run.py`, scored several ways.

    python bench/npmi_study.py --device cuda --embeddings-file emb.npy     # 3 seeds, 100 (+100) epochs: minutes on a GPU

For CombinedTM and ZeroShotTM (and LDA with --lda) and each seed, after `--epochs` and again after `--more-epochs`
further epochs (`resume`), it scores the top words ranked two ways:
- `beta`: the rows of the decoder weight β, as the reference package and the CTM papers rank them (`CTM.topics`);
- `topic_word`: p(w|k) = softmax(BN(β_k)), the decoder's word distribution for a document made of topic k alone
  (the batch norm's running statistics applied, as at inference).
Each ranking gets NPMI with a 10-word sliding window and with document co-occurrence (both on the training corpus, top
10), topic diversity (top 25), the share of topics with negative window NPMI and the mean document frequency of the top
words (do the models differ in how common the words they pick are?).
With `--max-df F` the vocabulary changes (is the gap a matter of preprocessing?): words in more than a share F of the
posts are left out, and the 2,000 most frequent of the rest are kept; the models, LDA included, and the scores all use
that vocabulary (posts left without a vocabulary word are dropped, with their embeddings).
Writes <out>/npmi_study.{json,md} (with --max-df: npmi_study_maxdf<F>.*), rewritten after every model so an
interrupted run keeps what it finished.
"""
from __future__ import annotations
import argparse, json, sys, time
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import newsgroups, machine, versions  # noqa: E402

def rankings(m, n:int=25) -> dict:
    "Top-`n` words per topic by β (what `topics` returns) and by p(w|k); LDA's `topics` already rank by p(w|k)."
    import torch
    if not hasattr(m, "net"): return {"topic_word": m.topics(n)}
    with torch.no_grad(): idx = m.net.topic_word.topk(n, dim=1).indices.cpu().numpy()
    return {"beta": m.topics(n), "topic_word": [[m.vocab[j] for j in row] for row in idx]}

def scores(topics, corpus, doc_freq) -> dict:
    from ctm_nb.metrics import npmi, topic_diversity
    win = npmi(topics, corpus.bow_texts, top_n=10, window=10)
    doc = npmi(topics, bow=corpus.bow, vocab=corpus.vocab, top_n=10)
    index = {w: i for i, w in enumerate(corpus.vocab)}
    df = np.mean([doc_freq[index[w]] for t in topics for w in t[:10]])
    return dict(npmi_window=float(win.mean()), npmi_doc=float(doc.mean()), topic_diversity=topic_diversity(topics, 25),
                negative_window_share=float((win < 0).mean()), mean_doc_freq_top10=float(df))

def without_common_words(corpus, emb, max_df:float, vocab_size:int=2000):
    "The corpus re-preprocessed with the `vocab_size` most frequent words among those in at most `max_df` of the posts."
    from ctm_nb.data import preprocess
    full = preprocess(corpus.texts, vocab_size=10**9, min_words=0) # every word of 2+ characters
    df = np.asarray((full.bow > 0).mean(0)).ravel()
    count = np.asarray(full.bow.sum(0)).ravel()
    ok = np.flatnonzero(df <= max_df)
    order = ok[np.lexsort((np.array(full.vocab)[ok], -count[ok]))][:vocab_size] # most frequent first, ties by word
    new = preprocess(corpus.texts, vocab=sorted(full.vocab[i] for i in order))
    n_out = int((df > max_df).sum())
    print(f"--max-df {max_df:g}: left out {n_out} words, e.g. "
          f"{[full.vocab[i] for i in np.argsort(-df)[:8]]}; {len(new):,} of {len(corpus):,} posts keep a word", flush=True)
    return new, emb[new.kept], n_out

def markdown(rep) -> str:
    L = ["# Why LDA leads on window NPMI: the same models scored several ways", "",
         f"Command: `{rep['command']}`  ", *([f"Vocabulary: {rep['vocabulary']}  "] if rep.get("vocabulary") else []),
         f"Machine: {rep['machine']}  ", f"Versions: {rep['versions']}", "",
         "Means over seeds. `beta`: top words by the decoder weights (as `CTM.topics` and the reference rank them); "
         "`topic_word`: by p(w|k) = softmax(BN(β_k)). NPMI on the training corpus, top 10 words; TD top 25; "
         "`df`: mean share of documents containing a top-10 word.", "",
         "| model | epochs (LDA: iterations) | ranking | seeds | NPMI window | NPMI doc | TD@25 | topics with NPMI < 0 | df of top words |",
         "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    keys = dict.fromkeys((r["model"], r["epochs"], r["ranking"]) for r in rep["rows"])
    for k in keys:
        rs = [r for r in rep["rows"] if (r["model"], r["epochs"], r["ranking"]) == k]
        mean = lambda c: float(np.mean([r[c] for r in rs]))
        L.append(f"| {k[0]} | {k[1]} | {k[2]} | {len(rs)} | {mean('npmi_window'):.3f} | {mean('npmi_doc'):.3f} | "
                 f"{mean('topic_diversity'):.3f} | {mean('negative_window_share'):.2f} | {mean('mean_doc_freq_top10'):.3f} |")
    return "\n".join(L) + "\n"

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto"); p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=100); p.add_argument("--more-epochs", type=int, default=100)
    p.add_argument("--models", nargs="*", default=["CombinedTM", "ZeroShotTM"])
    p.add_argument("--lda", action="store_true", help="also LDA (scikit-learn, batch, 20 iterations) on the CPU")
    p.add_argument("--n-docs", type=int, default=None); p.add_argument("--embeddings-file", default=None)
    p.add_argument("--max-df", type=float, default=None,
                   help="leave out words in more than this share of the posts, then keep the 2,000 most frequent")
    p.add_argument("--out", default=str(HERE))
    a = p.parse_args(argv)
    from ctm_nb import ctm
    _, corpus, emb = newsgroups(a.n_docs, a.embeddings_file)
    report = "npmi_study" if a.max_df is None else f"npmi_study_maxdf{a.max_df:g}"
    if a.max_df is not None: corpus, emb, n_out = without_common_words(corpus, emb, a.max_df)
    doc_freq = np.asarray((corpus.bow > 0).mean(0)).ravel()
    rep = dict(command="python bench/npmi_study.py " + " ".join(sys.argv[1:] if argv is None else argv),
               machine=machine(), versions=versions(), rows=[],
               vocabulary=None if a.max_df is None else f"{len(corpus.vocab):,} words, none in more than {a.max_df:.0%} "
                                                        f"of the posts ({n_out} words left out); {len(corpus):,} posts")
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    def record(model, epochs, seed, m, secs):
        for how, topics in rankings(m).items():
            r = dict(model=model, epochs=epochs, seed=seed, ranking=how, fit_s=secs, **scores(topics, corpus, doc_freq),
                     topics=[t[:10] for t in topics])
            rep["rows"].append(r)
            print(f"{model:11s} seed {seed} epochs {epochs:3d} {how:10s}: NPMI window {r['npmi_window']:.3f} doc "
                  f"{r['npmi_doc']:.3f} TD {r['topic_diversity']:.3f} neg {r['negative_window_share']:.2f} "
                  f"df {r['mean_doc_freq_top10']:.3f} ({secs:.0f} s)", flush=True)
        (out / f"{report}.json").write_text(json.dumps(rep, indent=1) + "\n")
        (out / f"{report}.md").write_text(markdown(rep))
    for seed in a.seeds:
        for name in a.models:
            cls = getattr(ctm, name)
            m = cls(n_topics=50, epochs=a.epochs, batch_size=64, seed=seed, device=a.device, progress=False)
            t0 = time.perf_counter(); m.fit(corpus=corpus, embeddings=emb); record(name, a.epochs, seed, m, time.perf_counter() - t0)
            if a.more_epochs:
                t0 = time.perf_counter(); m.resume(a.more_epochs)
                record(name, a.epochs + a.more_epochs, seed, m, time.perf_counter() - t0)
        if a.lda:
            from ctm_nb.baselines import LDA
            m = LDA(n_topics=50, max_iter=20, learning_method="batch", seed=seed, progress=False)
            t0 = time.perf_counter(); m.fit(corpus=corpus); record("LDA", 20, seed, m, time.perf_counter() - t0)
    print(f"wrote {out / (report + '.md')}")

if __name__ == "__main__": main()
