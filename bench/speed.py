"""Speed benchmark: seconds per training epoch, θ and `transform` times and scaling with corpus size, ctm_nb side by side
with the reference `contextualized_topic_models` 2.6.1 CombinedTM, in one process, on one machine.

    python bench/speed.py                       # CPU: 20 Newsgroups (V=2000, K=50, batch 64), 3 timed epochs each
    python bench/speed.py --device cuda         # GPU: ctm_nb with and without the CUDA graph (+ the reference on the GPU)
    python bench/speed.py --scaling 100000 300000 1000000   # synthetic corpora (V=5000), one epoch each, peak memory

Writes <out>/<name>.md and .json (default bench/speed_report.*; with --device cuda, bench/speed_report_gpu.*).
Time it on a quiet machine: another busy process on a 2-core CPU slows torch's training 10-25 times.
"""
from __future__ import annotations
import argparse, contextlib, io, json, statistics, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import newsgroups, machine, versions, seed_everything, _patch_reference_numpy2  # noqa: E402

def median_time(f, repeat:int) -> tuple[float, list]:
    "Median wall time of `repeat` calls of `f` (after one untimed call), and all the times."
    f()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts), ts

def product_rate(device:str="cpu", n:int=2000, repeat:int=5) -> float:
    "GFLOPS of one float32 `torch.mm` of two n×n matrices on `device` (median of `repeat`): the machine's practical peak."
    import torch
    a, b = (torch.randn(n, n, device=device) for _ in range(2))
    def f(): a @ b; _sync(device)
    return 2 * n**3 / median_time(f, repeat)[0] / 1e9

def _sync(dev):
    import torch
    if str(dev).startswith("cuda"): torch.cuda.synchronize()

# ---------------------------------------------------------------- training speed
def ctm_nb_epochs(data, a, device, cuda_graph, batch_size, corpus=None) -> dict:
    "Seconds per epoch of ctm_nb's CombinedTM network (median after one warm-up epoch); with `corpus`, its topics' scores."
    from ctm_nb.model import CTMNet
    from ctm_nb.training import fit_network, seeded, top_words
    from run import score
    with seeded(0): net = CTMNet(data.vocab_size, data.embedding_dim, a.n_topics)
    hist = fit_network(net, data, epochs=max(a.epochs + 1, a.quality_epochs), batch_size=batch_size, device=device,
                       seed=0, cuda_graph=cuda_graph, progress=False)
    secs = hist.column("seconds")[1:]
    out = dict(s_per_epoch=statistics.median(secs), epochs=secs, n_epochs=len(hist), final_loss=hist[-1].loss)
    if corpus is not None:
        res = score(top_words(net, list(corpus.vocab), 25), corpus)
        out.update(npmi=res["npmi_window"], topic_diversity=res["topic_diversity"])
    return out

def reference_epochs(ds, a, device, workers) -> dict:
    """Seconds per epoch of the reference CombinedTM: the mean of its epochs (its own fit loop and DataLoader with
    `workers` workers), without the θ of every training document that its `fit` computes at the end by default."""
    _patch_reference_numpy2()
    from contextualized_topic_models.models.ctm import CombinedTM as RefCombinedTM
    seed_everything(0)
    m = RefCombinedTM(bow_size=ds.X_bow.shape[1], contextual_size=ds.X_contextual.shape[1], n_components=a.n_topics,
                      num_epochs=a.epochs, batch_size=64, num_data_loader_workers=workers)
    t0 = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore"); m.fit(ds, verbose=False, do_train_predictions=False)   # θ is timed on its own
    return dict(s_per_epoch=(time.perf_counter() - t0) / a.epochs, theta_in_fit=False, model=m)   # (reports before: True)

# ---------------------------------------------------------------- θ inference
def ctm_nb_theta(net, data, device, n_samples, repeat) -> float:
    import torch
    data.to(device); net.to(device).eval()
    def f():
        with torch.no_grad(): torch.cat([net.theta(b.bow, b.embeddings, n_samples) for b in data.batches(4096)])
        _sync(device)
    return median_time(f, repeat)[0]

def ctm_nb_transform(corpus, raw, emb, a, repeat) -> dict:
    """Seconds for `CombinedTM.transform` of all documents (tokenising, cleaning, the bag of words and θ): from the raw
    posts, and from the same preprocessed texts the reference's `transform` is given."""
    from ctm_nb.ctm import CombinedTM
    tm = CombinedTM(n_topics=a.n_topics, epochs=1, device=a.device, seed=0, progress=False).fit(corpus=corpus, embeddings=emb)
    return {f"{how}, {src}": median_time(lambda: tm.transform(docs, embeddings=emb, n_samples=n), repeat)[0]
            for docs, src in [(raw, "from raw text"), (corpus.bow_texts, "from preprocessed text")]
            for n, how in [(0, "deterministic softmax(μ)"), (20, "mean of 20 samples")]}

def reference_transform(m, corpus, emb, repeat) -> float:
    """Seconds for the reference's `TopicModelDataPreparation.transform` (its CountVectorizer over the already
    preprocessed texts, given embeddings) and `get_doc_topic_distribution` (20 samples), for all documents."""
    from sklearn.feature_extraction.text import CountVectorizer
    from contextualized_topic_models.utils.data_preparation import TopicModelDataPreparation
    qt = TopicModelDataPreparation("all-MiniLM-L6-v2", show_warning=False)
    qt.vectorizer = CountVectorizer(vocabulary=list(corpus.vocab), token_pattern=r"\S+")
    def f():
        with contextlib.redirect_stderr(io.StringIO()):
            ds = qt.transform(text_for_contextual=corpus.texts, text_for_bow=corpus.bow_texts, custom_embeddings=emb)
            m.get_doc_topic_distribution(ds, n_samples=20)
    return median_time(f, repeat)[0]

def reference_theta(m, ds, repeat) -> float:
    def f():
        with contextlib.redirect_stderr(io.StringIO()): m.get_doc_topic_distribution(ds, n_samples=20)
    return median_time(f, repeat)[0]

# ---------------------------------------------------------------- scaling
SCALING_CHILD = r'''
import json, resource, sys, time, numpy as np, scipy.sparse as sp
n, V, D, nnz_per_doc, K, threads = (int(x) for x in sys.argv[1:7])
import torch
if threads: torch.set_num_threads(threads)
from ctm_nb.fusion import TopicData
from ctm_nb.model import CTMNet
from ctm_nb.training import fit_network, seeded
rng = np.random.default_rng(0)
t0 = time.perf_counter()
lengths = rng.integers(1, 2 * nnz_per_doc, n)
indptr = np.r_[0, np.cumsum(lengths)]
p = 1 / np.arange(1, V + 1) ** 1.1; p /= p.sum()            # Zipf-like word frequencies
indices = rng.choice(V, indptr[-1], p=p).astype(np.int32)
bow = sp.csr_matrix((np.ones(indptr[-1], np.float32), indices, indptr), shape=(n, V))
bow.sum_duplicates()
emb = rng.standard_normal((n, D), dtype=np.float32)
made = time.perf_counter() - t0
data = TopicData(bow, emb); del bow
with seeded(0): net = CTMNet(V, D, K)
hist = fit_network(net, data, epochs=1, batch_size=64, device="cpu", seed=0, progress=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(n_docs=n, vocab_size=V, nnz=int(data.bow.nnz), s_per_epoch=hist[0].seconds, peak_rss_mb=peak,
                      bow_mb=(data.bow.data.nbytes + data.bow.indices.nbytes + data.bow.indptr.nbytes) / 2**20,
                      embeddings_mb=emb.nbytes / 2**20, dense_bow_would_be_mb=n * V * 4 / 2**20, make_s=made)))
'''

def scaling(sizes, a) -> list[dict]:
    "One epoch of CombinedTM on synthetic corpora of each size, each in a fresh process (so its peak memory is its own)."
    rows = []
    for n in sizes:
        out = subprocess.run([sys.executable, "-c", SCALING_CHILD, str(n), str(a.scaling_vocab), "384", "50",
                              str(a.n_topics), str(a.threads or 0)], capture_output=True, text=True)
        if out.returncode != 0: raise RuntimeError(f"scaling run with {n} documents failed:\n{out.stderr[-2000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"  {n:>9,} docs: {r['s_per_epoch']:.1f} s/epoch, peak {r['peak_rss_mb']:,.0f} MB "
              f"(sparse bow {r['bow_mb']:,.0f} MB + embeddings {r['embeddings_mb']:,.0f} MB; a dense bow would be "
              f"{r['dense_bow_would_be_mb']:,.0f} MB)", flush=True)
    return rows

# ---------------------------------------------------------------- report
def _seconds_table(rows:list[dict], ratio_fmt:str) -> list[str]:
    "Markdown lines of a model/how/seconds table with each row's speed-up over the reference's row."
    ref = next((r["seconds"] for r in rows if r["model"] == "reference.CombinedTM"), None)
    L = ["| model | how | seconds | speed-up vs reference |", "| --- | --- | ---: | ---: |"]
    L += [f"| {r['model']} | {r['how']} | {r['seconds']:.3f} | {format(ref / r['seconds'], ratio_fmt) + '×' if ref else ''} |"
          for r in rows]
    return L + [""]

def markdown(rep:dict) -> str:
    c, m = rep["config"], rep["machine"]
    L = [f"# ctm_nb speed report ({'GPU: ' + str(m['gpu']) if m.get('gpu') and c['device'] != 'cpu' else 'CPU'})", "",
         f"Command: `{rep['command']}`  ", f"Machine: {m['cpu']}" + (f" ({m['simd']})" if m.get("simd") else "")
         + f", {m['cores']} cores, torch threads {m.get('torch_threads')}" + (f", GPU {m['gpu']}" if m.get("gpu") else "")
         + (f"; float32 `torch.mm` of 2000×2000 matrices: {m['mm_gflops']:.0f} GFLOPS" if m.get("mm_gflops") else "")
         + f"; {m['platform']}  ",
         "Versions: " + ", ".join(f"{k} {v}" for k, v in rep["versions"].items() if v) + "  ",
         f"Data: {c['dataset']}, {c['n_docs']:,} documents, V={c['vocab_size']}, embeddings {c['embedding_dim']}-d, K={c['n_topics']}; "
         f"ctm_nb: median of its epochs after a warm-up epoch (at least {c['epochs']}; with NPMI and TD, all the epochs "
         f"that column gives but the first); reference: mean of its {c['epochs']} epochs (its `fit`, without the θ of "
         "the training documents it adds by default, which the θ table times).", ""]
    if rep.get("training"):
        q = any("npmi" in r for r in rep["training"])
        L += ["## Seconds per training epoch", "", "| model | device | batch | mode | s/epoch | speed-up vs reference (0 workers) |"
              + (" epochs | NPMI | TD@25 |" if q else ""), "| --- | --- | ---: | --- | ---: | ---: |" + (" ---: | ---: | ---: |" if q else "")]
        ref = next((r["s_per_epoch"] for r in rep["training"] if r["model"] == "reference.CombinedTM" and r["mode"] == "0 workers"), None)
        ref_bs = next((r["batch_size"] for r in rep["training"] if r["model"] == "reference.CombinedTM"), None)
        for r in rep["training"]:
            up = f"{ref / r['s_per_epoch']:.1f}×" if ref and r["s_per_epoch"] else ""
            if up and r["batch_size"] != ref_bs: up += f" (batch {r['batch_size']} vs {ref_bs}: other topics)"
            qual = (f" {r['n_epochs']} | {r['npmi']:.3f} | {r['topic_diversity']:.3f} |" if "npmi" in r else " | | |") if q else ""
            L.append(f"| {r['model']} | {r['device']} | {r['batch_size']} | {r['mode']} | {r['s_per_epoch']:.3f} | {up} |" + qual)
        L.append("")
    if rep.get("theta"):
        L += ["## θ for every document", ""] + _seconds_table(rep["theta"], ".0f")
    if rep.get("transform"):
        L += ["## `transform` for every document", "",
              "ctm_nb from the raw posts and from the preprocessed texts (tokenising, cleaning, the bag of words, θ); the "
              "reference from the preprocessed texts, which its `TopicModelDataPreparation.transform` expects for the bag of "
              "words (its CountVectorizer, then `get_doc_topic_distribution`). Both are given the embeddings.", ""]
        L += _seconds_table(rep["transform"], ".1f")
    if rep.get("scaling"):
        L += ["## Scaling: one epoch on synthetic corpora (CPU)", "",
              "| documents | nonzeros | s/epoch | µs/document | peak memory MB | sparse bow MB | embeddings MB | a dense bow would be MB |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rep["scaling"]:
            L.append(f"| {r['n_docs']:,} | {r['nnz']:,} | {r['s_per_epoch']:.1f} | {1e6 * r['s_per_epoch'] / r['n_docs']:.0f} | "
                     f"{r['peak_rss_mb']:,.0f} | {r['bow_mb']:,.0f} | {r['embeddings_mb']:,.0f} | {r['dense_bow_would_be_mb']:,.0f} |")
        L.append("")
    return "\n".join(L) + "\n"

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per configuration")
    p.add_argument("--n-topics", type=int, default=50)
    p.add_argument("--n-docs", type=int, default=None, help="random sample of 20 Newsgroups (default: all)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64], help="ctm_nb batch sizes to time (the reference: 64)")
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions of θ inference")
    p.add_argument("--quality-epochs", type=int, default=0,
                   help="train each ctm_nb batch size this many epochs and score its topics (NPMI, TD): the batch-size trade-off")
    p.add_argument("--no-reference", action="store_true", help="skip the reference package")
    p.add_argument("--no-training", action="store_true", help="skip the 20 Newsgroups timings (e.g. scaling only)")
    p.add_argument("--scaling", type=int, nargs="*", default=[], help="synthetic corpus sizes for the scaling table")
    p.add_argument("--scaling-vocab", type=int, default=5000)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    p.add_argument("--embeddings-file", default=None, help=".npy embeddings of the preprocessed corpus (skips encoding)")
    p.add_argument("--out", default=str(HERE)); p.add_argument("--name", default=None)
    return p.parse_args(argv)

def main(argv=None) -> dict:
    a = parse_args(argv)
    import torch
    if a.threads: torch.set_num_threads(a.threads)
    rep = {"command": "python bench/speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "machine": machine(), "versions": versions(), "training": [], "theta": [], "transform": [], "scaling": []}
    rep["machine"]["mm_gflops"] = product_rate(a.device)
    rep["config"] = dict(device=a.device, epochs=a.epochs, n_topics=a.n_topics, dataset="synthetic", n_docs=0,
                         vocab_size=a.scaling_vocab, embedding_dim=384)
    if not a.no_training:
        from ctm_nb.fusion import TopicData
        texts, corpus, emb = newsgroups(a.n_docs, a.embeddings_file)
        rep["config"].update(dataset="20 Newsgroups", n_docs=len(corpus), vocab_size=len(corpus.vocab), embedding_dim=int(emb.shape[1]))
        print(f"20 Newsgroups: {len(corpus):,} docs, V={len(corpus.vocab)}, K={a.n_topics}, device {a.device}, "
              f"{a.epochs} timed epochs", flush=True)
        data = TopicData(corpus.bow, emb)
        modes = [(None, "eager" if a.device == "cpu" else "CUDA graph")] + ([(False, "eager")] if a.device != "cpu" else [])
        for bs in a.batch_sizes:
            for graph, mode in modes:
                r = ctm_nb_epochs(data, a, a.device, graph, bs, corpus if a.quality_epochs else None)
                rep["training"].append(dict(model="ctm_nb.CombinedTM", device=a.device, batch_size=bs, mode=mode, **r))
                q = f", after {r['n_epochs']} epochs NPMI {r['npmi']:.3f} TD {r['topic_diversity']:.3f}" if "npmi" in r else ""
                print(f"  ctm_nb.CombinedTM     batch {bs:4d} {mode:10s}: {r['s_per_epoch']:.3f} s/epoch{q}", flush=True)
        from ctm_nb.model import CTMNet
        from ctm_nb.training import seeded
        with seeded(0): net = CTMNet(data.vocab_size, data.embedding_dim, a.n_topics)
        for n_samples, how in [(0, "deterministic softmax(μ)"), (20, "mean of 20 samples")]:
            s = ctm_nb_theta(net, data, a.device, n_samples, a.repeat)
            rep["theta"].append(dict(model="ctm_nb.CombinedTM", how=how, seconds=s))
            print(f"  ctm_nb θ ({how}): {s:.3f} s", flush=True)
        raw = [texts[i] for i in corpus.kept]
        for how, s in ctm_nb_transform(corpus, raw, emb, a, a.repeat).items():
            rep["transform"].append(dict(model="ctm_nb.CombinedTM", how=how, seconds=s))
            print(f"  ctm_nb transform ({how}): {s:.3f} s", flush=True)
        if not a.no_reference:
            try:
                from contextualized_topic_models.datasets.dataset import CTMDataset
                ds = CTMDataset(X_contextual=emb, X_bow=corpus.bow.tocsr().astype(np.float32),
                                idx2token=dict(enumerate(corpus.vocab)))
                r = reference_epochs(ds, a, a.device, 0)
                m = r.pop("model")
                rep["training"].append(dict(model="reference.CombinedTM", device=a.device, batch_size=64, mode="0 workers", **r))
                print(f"  reference.CombinedTM  batch   64 0 workers : {r['s_per_epoch']:.3f} s/epoch", flush=True)
                s = reference_theta(m, ds, a.repeat)
                rep["theta"].append(dict(model="reference.CombinedTM", how="mean of 20 samples (its default)", seconds=s))
                print(f"  reference θ (20 samples): {s:.3f} s", flush=True)
                s = reference_transform(m, corpus, emb, a.repeat)
                rep["transform"].append(dict(model="reference.CombinedTM", how="mean of 20 samples, from preprocessed text", seconds=s))
                print(f"  reference transform (20 samples, from preprocessed text): {s:.3f} s", flush=True)
            except ImportError as e:
                print(f"  reference skipped: {e} (install it with bench/setup_venv.sh)", flush=True)
    if a.scaling:
        print(f"scaling: synthetic corpora, V={a.scaling_vocab}, ~50 words per document, 384-d embeddings, one epoch", flush=True)
        rep["scaling"] = scaling(a.scaling, a)
    name = a.name or ("speed_report" if a.device == "cpu" else "speed_report_gpu")
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    for r in rep["training"]: r.pop("epochs", None)
    (out / f"{name}.json").write_text(json.dumps(rep, indent=1, default=float) + "\n")
    (out / f"{name}.md").write_text(markdown(rep))
    print(f"wrote {out / (name + '.md')}")
    return rep

if __name__ == "__main__": main()
