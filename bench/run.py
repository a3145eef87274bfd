"""One-command benchmark: ctm_nb (CombinedTM, ZeroShotTM, ProdLDA, LDA) vs the reference
`contextualized_topic_models` 2.6.1 CombinedTM and BERTopic, on one shared corpus and one set of embeddings.

    python bench/run.py                 # full: 20 Newsgroups, V=2000, K=50, 100 epochs, batch 64, seeds 0 1 2
    python bench/run.py --quick         # smoke run: 1,000 docs, K=10, 3 epochs, 1 seed -> bench/quick_report.md

The reference and BERTopic are imported only when installed (bench/setup_venv.sh); otherwise their rows are
skipped with a note. Writes <out>/<name>.md (markdown table) and <out>/<name>.json (every run, machine, versions).
"""
from __future__ import annotations
import argparse, contextlib, io, json, os, platform, random, resource, statistics, sys, threading, time, warnings
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent
METRICS = ("npmi_window", "npmi_doc", "topic_diversity", "inverted_rbo", "c_v")
ALL_MODELS = ("ctm_nb.CombinedTM", "ctm_nb.ZeroShotTM", "ctm_nb.ProdLDA", "ctm_nb.LDA", "reference.CombinedTM", "BERTopic")

# ---------------------------------------------------------------- measuring
def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f: return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError): # not Linux: fall back on the process high-water mark
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r if sys.platform == "darwin" else r * 1024

class PeakRSS:
    "Context manager: peak resident memory above the starting point while the block runs (sampled every 20 ms)."
    def __init__(self, every:float=0.02): self.every, self.peak, self._stop = every, 0, threading.Event()
    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes()); self._stop.wait(self.every)
    def __enter__(self):
        self.start = self.peak = _rss_bytes()
        self._t = threading.Thread(target=self._watch, daemon=True); self._t.start(); return self
    def __exit__(self, *exc):
        self._stop.set(); self._t.join(); self.peak = max(self.peak, _rss_bytes())
    @property
    def delta_mb(self) -> float: return (self.peak - self.start) / 2**20

def seed_everything(seed:int):
    import torch
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)

def machine() -> dict:
    cpu, flags = platform.processor() or "", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"): cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"): flags = set(line.split(":", 1)[1].split()); break   # (the first CPU's)
    except OSError: pass
    # the CPU's vector units: AVX2 and AVX-512 multiply float32; AMX multiplies only bfloat16 and int8
    simd = [name for name, flag in (("AVX2", "avx2"), ("AVX-512", "avx512f"), ("AMX", "amx_tile")) if flag in flags]
    info = {"cpu": cpu, "simd": ", ".join(simd) or None, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "gpu": None}
    try:
        import torch
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available(): info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError: pass
    return info

def versions() -> dict:
    from importlib.metadata import version, PackageNotFoundError
    out = {}
    for p in ("ctm_nb", "torch", "numpy", "scipy", "scikit-learn", "sentence-transformers", "gensim",
              "contextualized-topic-models", "bertopic", "umap-learn", "hdbscan"):
        try: out[p] = version(p)
        except PackageNotFoundError: out[p] = None
    return out

# ---------------------------------------------------------------- data
def load_data(dataset:str, n_docs:int|None, seed:int=0) -> tuple[list[str], list]:
    "Texts and labels: '20ng' (data_home from $SCIKIT_LEARN_DATA or ../shared/data/scikit_learn_data) or 'bbc'."
    from ctm_nb.data import load_20newsgroups, load_bbc
    if dataset == "20ng":
        home = os.environ.get("SCIKIT_LEARN_DATA") or str(HERE.parent.parent / "shared" / "data" / "scikit_learn_data")
        texts, labels, _ = load_20newsgroups("all", data_home=home)
        labels = list(labels)
    elif dataset == "bbc": texts, labels = load_bbc()
    else: raise ValueError(f"unknown dataset {dataset!r}: use '20ng' or 'bbc'")
    if n_docs is not None and n_docs < len(texts): # a fixed, seed-independent sample
        idx = np.sort(np.random.default_rng(seed).choice(len(texts), n_docs, replace=False))
        texts, labels = [texts[i] for i in idx], [labels[i] for i in idx]
    return texts, labels

def newsgroups(n_docs:int|None=None, embeddings_file:str|None=None) -> tuple: # texts, Corpus, embeddings
    """20 Newsgroups as the speed and study scripts use it: the texts, the CTM preprocessing (V=2000) and the MiniLM
    embeddings of the kept posts (read from `embeddings_file`, a .npy of exactly those rows, when given)."""
    from ctm_nb.data import preprocess
    texts, _ = load_data("20ng", n_docs)
    corpus = preprocess(texts, vocab_size=2000)
    if embeddings_file is None:
        from ctm_nb.embeddings import embed
        return texts, corpus, embed(corpus.texts, "all-MiniLM-L6-v2", progress=False)
    emb = np.load(embeddings_file)
    if len(emb) != len(corpus):
        raise SystemExit(f"{embeddings_file} has {len(emb)} rows but the preprocessed corpus has {len(corpus)} posts: "
                         "it must hold the embeddings of exactly these posts (same --n-docs).")
    return texts, corpus, emb

# ---------------------------------------------------------------- one model, one seed
def _pad(topics:list[list[str]], n:int) -> list[list[str]]:
    "BERTopic may return fewer than n (or empty) words per topic; keep non-empty words only."
    return [[w for w in t if w][:n] for t in topics]

def score(topics, corpus, labels=None, theta=None, top_n:int=10, top_k:int=25) -> dict:
    "Every model's topics scored the same way: ctm_nb.metrics on the training corpus (NPMI window 10, top 10; TD top 25)."
    from ctm_nb.metrics import evaluate_topics, label_agreement
    topics = _pad(topics, max(top_n, top_k))
    short = min(len(t) for t in topics)
    if short >= max(top_n, top_k):
        res = evaluate_topics(topics, corpus.bow_texts, bow=corpus.bow, vocab=corpus.vocab, top_n=top_n, top_k=top_k)
    else: # a topic with too few words: score the words that exist
        res = evaluate_topics([t[:short] for t in topics], corpus.bow_texts, bow=corpus.bow, vocab=corpus.vocab,
                              top_n=min(top_n, short), top_k=min(top_k, short))
        res["note"] = f"shortest topic has {short} words: metrics on the top {short}"
    if labels is not None and theta is not None:
        res.update(label_agreement(np.asarray(labels), np.asarray(theta).argmax(1)))
    return res

def run_ctm_nb(name, corpus, emb, labels, a, seed) -> dict:
    from ctm_nb.ctm import CombinedTM, ZeroShotTM, ProdLDA
    cls = {"ctm_nb.CombinedTM": CombinedTM, "ctm_nb.ZeroShotTM": ZeroShotTM, "ctm_nb.ProdLDA": ProdLDA}[name]
    m = cls(n_topics=a.n_topics, epochs=a.epochs, batch_size=a.batch_size, seed=seed, device=a.device, progress=False)
    t0 = time.perf_counter(); m.fit(corpus=corpus, embeddings=None if name == "ctm_nb.ProdLDA" else emb); fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    theta = (m.transform(embeddings=emb) if name == "ctm_nb.ZeroShotTM" else
             m.transform(corpus.texts, embeddings=None if name == "ctm_nb.ProdLDA" else emb))
    inf_s = time.perf_counter() - t0
    secs = m.history.column("seconds") if m.history is not None else []
    return dict(topics=m.topics(25), theta=theta, fit_s=fit_s, inference_s=inf_s, epochs=len(secs),
                s_per_epoch=statistics.median(secs) if secs else None, n_topics_found=a.n_topics)

def run_lda(name, corpus, emb, labels, a, seed) -> dict:
    from ctm_nb.baselines import LDA
    m = LDA(n_topics=a.n_topics, max_iter=a.lda_iter, learning_method="batch", seed=seed, progress=False)
    t0 = time.perf_counter(); m.fit(corpus=corpus); fit_s = time.perf_counter() - t0
    t0 = time.perf_counter(); theta = m.transform(corpus.texts); inf_s = time.perf_counter() - t0
    return dict(topics=m.topics(25), theta=theta, fit_s=fit_s, inference_s=inf_s, epochs=m.history["n_iter"],
                s_per_epoch=m.history["seconds_per_iter"], n_topics_found=a.n_topics)

def _patch_reference_numpy2():
    "The reference uses np.Inf, removed in NumPy 2: restore the alias so it can run at all (a reference bug)."
    if not hasattr(np, "Inf"): np.Inf = np.inf

def run_reference(name, corpus, emb, labels, a, seed) -> dict:
    _patch_reference_numpy2()
    from contextualized_topic_models.models.ctm import CombinedTM as RefCombinedTM
    from contextualized_topic_models.datasets.dataset import CTMDataset
    # the SAME bag of words, vocabulary and embeddings as ctm_nb (what TopicModelDataPreparation.fit builds from
    # custom_embeddings, without re-tokenising the corpus with its own CountVectorizer)
    ds = CTMDataset(X_contextual=emb, X_bow=corpus.bow.tocsr().astype(np.float32), idx2token=dict(enumerate(corpus.vocab)))
    seed_everything(seed)
    m = RefCombinedTM(bow_size=len(corpus.vocab), contextual_size=emb.shape[1], n_components=a.n_topics,
                      num_epochs=a.epochs, batch_size=a.batch_size, num_data_loader_workers=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()): # its tqdm bars ignore verbose=False
        warnings.simplefilter("ignore"); m.fit(ds, verbose=False, do_train_predictions=False)   # θ is timed below
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()): theta = m.get_doc_topic_distribution(ds, n_samples=20)
    inf_s = time.perf_counter() - t0
    return dict(topics=m.get_topic_lists(25), theta=theta, fit_s=fit_s, inference_s=inf_s, epochs=a.epochs,
                s_per_epoch=fit_s / a.epochs, n_topics_found=a.n_topics, inference_note="mean of 20 samples")

def run_bertopic(name, corpus, emb, labels, a, seed) -> dict:
    from bertopic import BERTopic
    from umap import UMAP
    from sklearn.feature_extraction.text import CountVectorizer
    # topic words from the SAME vocabulary: c-TF-IDF over the cleaned texts, counted with ctm_nb's vocabulary
    vec = CountVectorizer(vocabulary=corpus.vocab, tokenizer=str.split, token_pattern=None, lowercase=False)
    n_neighbors = min(15, len(corpus) - 1)
    umap = UMAP(n_neighbors=n_neighbors, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    m = BERTopic(embedding_model=None, umap_model=umap, vectorizer_model=vec, nr_topics=a.n_topics, top_n_words=25,
                 calculate_probabilities=False, verbose=False)
    seed_everything(seed)
    t0 = time.perf_counter(); m.fit(corpus.bow_texts, embeddings=emb); fit_s = time.perf_counter() - t0
    t0 = time.perf_counter(); assigned, _ = m.transform(corpus.bow_texts, embeddings=emb); inf_s = time.perf_counter() - t0
    ids = sorted(t for t in m.get_topics() if t != -1)
    topics = [[w for w, _ in m.get_topic(t)] for t in ids] or [[w for w, _ in m.get_topic(-1)]]
    assigned = np.asarray(assigned)
    theta = np.zeros((len(assigned), max(len(ids), 1) + 1)); theta[np.arange(len(assigned)), np.searchsorted(ids, assigned) if ids else 0] = 1
    theta[assigned == -1] = 0; theta[assigned == -1, -1] = 1 # outliers: their own column
    return dict(topics=topics, theta=theta, fit_s=fit_s, inference_s=inf_s, epochs=None, s_per_epoch=None,
                n_topics_found=len(ids), outlier_share=float((assigned == -1).mean()),
                inference_note="transform: hard assignment (UMAP + HDBSCAN approximate_predict)")

RUNNERS = {"ctm_nb.CombinedTM": run_ctm_nb, "ctm_nb.ZeroShotTM": run_ctm_nb, "ctm_nb.ProdLDA": run_ctm_nb,
           "ctm_nb.LDA": run_lda, "reference.CombinedTM": run_reference, "BERTopic": run_bertopic}
NEEDS = {"reference.CombinedTM": "contextualized_topic_models", "BERTopic": "bertopic"}

def available(name:str) -> str|None:
    "None when `name` can run here, else why not."
    import importlib.util
    mod = NEEDS.get(name)
    if mod and importlib.util.find_spec(mod) is None:
        return f"{mod} is not installed (it lives in the bench venv: bash bench/setup_venv.sh)"
    return None

def warm_up(corpus, emb, a):
    "One untimed 1-epoch fit on a slice, so the first timed model does not pay torch's one-off start-up costs."
    from ctm_nb.ctm import CombinedTM
    from ctm_nb.data import preprocess
    n = min(len(corpus), 256)
    small = preprocess(corpus.texts[:n], vocab=corpus.vocab)
    with warnings.catch_warnings():   # the slice lacks some of the corpus's words; this untimed fit learns nothing anyway
        warnings.filterwarnings("ignore", message=".*never occur in the documents")
        CombinedTM(n_topics=min(a.n_topics, len(small) - 1), epochs=1, batch_size=a.batch_size, device=a.device, seed=0,
                   progress=False).fit(corpus=small, embeddings=emb[small.kept])

# ---------------------------------------------------------------- report
def summarise(runs:list[dict]) -> list[dict]:
    "Mean ± std over seeds of every numeric column, per model."
    rows = []
    for name in dict.fromkeys(r["model"] for r in runs):
        rs = [r for r in runs if r["model"] == name and "error" not in r]
        if not rs:
            err = next(r for r in runs if r["model"] == name)["error"]
            rows.append({"model": name, "error": err}); continue
        row = {"model": name, "seeds": len(rs)}
        for k in (*METRICS, "nmi", "ami", "purity", "fit_s", "s_per_epoch", "inference_s", "peak_mb", "n_topics_found"):
            vals = [r[k] for r in rs if r.get(k) is not None and np.isfinite(r[k])]
            if vals: row[k], row[k + "_std"] = float(np.mean(vals)), float(np.std(vals))
        rows.append(row)
    return rows

def _cell(row, k, digits):
    if k not in row: return "–"
    s = f"{row[k]:.{digits}f}"
    return s + (f" ± {row[k + '_std']:.{digits}f}" if row.get("seeds", 1) > 1 else "")

def markdown(report:dict) -> str:
    c = report["config"]
    lines = [f"# Topic-model benchmark{' (quick smoke run)' if c['quick'] else ''}", "",
             f"{c['dataset']}: {c['n_docs_kept']:,} of {c['n_docs']:,} documents after preprocessing, V={c['vocab_size']}, "
             f"K={c['n_topics']}, {c['epochs']} epochs, batch {c['batch_size']}, LDA {c['lda_iter']} batch iterations, "
             f"seeds {c['seeds']}, embeddings {c['embedding_model']} ({c['embedding_dim']}-d, {c['embed_s']:.1f} s, shared by all models).", "",
             "NPMI: sliding window 10 on the training corpus, top 10 words (gensim c_npmi); NPMI doc: document co-occurrence; "
             "TD: unique share of the top 25; IRBO: inverted RBO of the top 10; C_V: gensim c_v, top 10. "
             "Mean ± std over seeds. Times in seconds; θ: inference for all training documents; "
             "peak MB: resident-memory growth while fitting + inferring.", "",
             "| model | NPMI | NPMI doc | TD@25 | IRBO | C_V | NMI | AMI | purity | fit s | s/epoch | θ s | peak MB | topics |",
             "| --- | " + " | ".join(["---:"] * 13) + " |"]
    for r in report["summary"]:
        if "error" in r:
            lines.append(f"| {r['model']} | " + " | ".join(["–"] * 13) + " |"); continue
        lines.append("| " + " | ".join([r["model"], _cell(r, "npmi_window", 3), _cell(r, "npmi_doc", 3), _cell(r, "topic_diversity", 3),
                                         _cell(r, "inverted_rbo", 3), _cell(r, "c_v", 3), _cell(r, "nmi", 3), _cell(r, "ami", 3), _cell(r, "purity", 3),
                                         _cell(r, "fit_s", 1), _cell(r, "s_per_epoch", 3), _cell(r, "inference_s", 2),
                                         _cell(r, "peak_mb", 0), _cell(r, "n_topics_found", 0)]) + " |")
    notes = [f"- {r['model']}: skipped or failed: {r['error']}" for r in report["summary"] if "error" in r]
    notes += [f"- {k}: {v}" for k, v in report.get("notes", {}).items()]
    if notes: lines += ["", "Notes:", *notes]
    m = report["machine"]
    lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores (OMP_NUM_THREADS={m['omp_num_threads']}), GPU: {m['gpu'] or 'none'}; "
              f"{m['platform']}, Python {m['python']}; process peak RSS {report['process_peak_rss_mb']:.0f} MB; "
              f"total {report['total_s']:.0f} s.", "",
              "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v), ""]
    return "\n".join(lines)

# ---------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: 1,000 docs, K=10, 3 epochs, seed 0 (writes quick_report.*)")
    p.add_argument("--dataset", default="20ng", choices=["20ng", "bbc"])
    p.add_argument("--n-docs", type=int, default=None, help="random sample of documents (default: all; --quick: 1000)")
    p.add_argument("--vocab-size", type=int, default=2000)
    p.add_argument("--n-topics", type=int, default=None, help="K (default 50; --quick: 10)")
    p.add_argument("--epochs", type=int, default=None, help="default 100; --quick: 3")
    p.add_argument("--lda-iter", type=int, default=None, help="LDA batch EM iterations (default 20; --quick: 3)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2; --quick: 0")
    p.add_argument("--models", nargs="+", default=list(ALL_MODELS), choices=ALL_MODELS)
    p.add_argument("--device", default="auto", help="ctm_nb models' device")
    p.add_argument("--embedding-model", default="all-MiniLM-L6-v2")
    p.add_argument("--out", default=str(HERE), help="folder for the report files")
    p.add_argument("--name", default=None, help="report file stem (default report; --quick: quick_report)")
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                   help="combine the JSON reports of several runs with the same configuration (e.g. one per group of "
                        "--models, run side by side) into one report, instead of running anything")
    a = p.parse_args(argv)
    q = a.quick
    for k, full, quick in [("n_docs", None, 1000), ("n_topics", 50, 10), ("epochs", 100, 3), ("lda_iter", 20, 3),
                           ("seeds", [0, 1, 2], [0]), ("name", "report", "quick_report")]:
        if getattr(a, k) is None: setattr(a, k, quick if q else full)
    return a

CONFIG_KEYS = ("dataset", "n_docs", "n_docs_kept", "vocab_size", "n_topics", "epochs", "lda_iter", "batch_size", "seeds",
               "embedding_model", "embedding_dim")

def merge(paths:list, out:Path, name:str) -> dict:
    "One report from the reports of several runs of this script with the same configuration (different models)."
    parts = [json.loads(Path(p).read_text()) for p in paths]
    first = parts[0]
    for p, r in zip(paths[1:], parts[1:]):
        diff = {k: (first["config"][k], r["config"][k]) for k in CONFIG_KEYS if first["config"][k] != r["config"][k]}
        if diff: raise ValueError(f"{p} was run with another configuration than {paths[0]}: {diff}")
    runs = [run for r in parts for run in r["runs"]]
    report = {**first, "config": {**first["config"], "models": [m for r in parts for m in r["config"]["models"]]},
              "summary": summarise(runs), "runs": runs, "total_s": max(r["total_s"] for r in parts),
              "process_peak_rss_mb": max(r["process_peak_rss_mb"] for r in parts),
              "merged_from": [{"file": Path(p).name, "models": r["config"]["models"], "total_s": r["total_s"],
                               "omp_num_threads": r["machine"]["omp_num_threads"]} for p, r in zip(paths, parts)]}
    report["notes"] = {**first.get("notes", {}), "merged": f"{len(parts)} runs of bench/run.py with the same configuration, "
                       "side by side on the same machine (models: " + "; ".join(", ".join(r["config"]["models"]) for r in parts)
                       + "); times measured while the other run(s) shared the CPU"}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    (out / f"{name}.md").write_text(markdown(report))
    print(f"wrote {out / (name + '.md')} and {name}.json from {len(parts)} runs")
    return report

def main(argv=None, encoder=None) -> dict:
    "Run the benchmark and write the report; `encoder` (a callable `list[str] -> (n, D)` array) replaces MiniLM, e.g. in tests."
    a = parse_args(argv)
    if a.merge: return merge(a.merge, Path(a.out), a.name)
    t_start = time.perf_counter()
    from ctm_nb.data import preprocess
    from ctm_nb.ctm import _rows_for
    texts, labels = load_data(a.dataset, a.n_docs)
    corpus = preprocess(texts, vocab_size=a.vocab_size)
    y = list(_rows_for(corpus, np.asarray(labels), "labels"))
    t0 = time.perf_counter()
    if encoder is None:
        from ctm_nb.embeddings import embed
        emb = embed(corpus.texts, a.embedding_model, progress=False)
    else: emb = np.asarray(encoder(corpus.texts), dtype=np.float32)
    embed_s = time.perf_counter() - t0
    print(f"{a.dataset}: {len(corpus):,} of {corpus.n_docs:,} docs, V={len(corpus.vocab)}, K={a.n_topics}, "
          f"{a.epochs} epochs, seeds {a.seeds}; embeddings {emb.shape} in {embed_s:.1f} s", flush=True)
    warm_up(corpus, emb, a)
    runs = []
    for name in a.models:
        why = available(name)
        if why:
            print(f"  {name:22s} skipped: {why}", flush=True)
            runs.append({"model": name, "error": f"skipped: {why}"}); continue
        for seed in a.seeds:
            try:
                seed_everything(seed)
                with PeakRSS() as mem: out = RUNNERS[name](name, corpus, emb, y, a, seed)
                res = score(out.pop("topics"), corpus, y, out.pop("theta"))
                run = {"model": name, "seed": seed, **res, **out, "peak_mb": mem.delta_mb}
                print(f"  {name:22s} seed {seed}: NPMI {res['npmi_window']:.3f}  TD {res['topic_diversity']:.3f}  "
                      f"IRBO {res['inverted_rbo']:.3f}  C_V {res['c_v']:.3f}  fit {out['fit_s']:.1f} s  "
                      f"θ {out['inference_s']:.2f} s  +{mem.delta_mb:.0f} MB", flush=True)
            except Exception as e: # one broken model must not lose the others' results
                run = {"model": name, "seed": seed, "error": f"{type(e).__name__}: {e}"}
                print(f"  {name:22s} seed {seed}: FAILED {run['error']}", flush=True)
            runs.append(run)
    report = {"config": {"quick": a.quick, "dataset": a.dataset, "n_docs": corpus.n_docs, "n_docs_kept": len(corpus),
                         "vocab_size": len(corpus.vocab), "n_topics": a.n_topics, "epochs": a.epochs, "lda_iter": a.lda_iter,
                         "batch_size": a.batch_size, "seeds": a.seeds, "embedding_model": str(a.embedding_model) if encoder is None else "given",
                         "embedding_dim": int(emb.shape[1]), "embed_s": embed_s, "models": a.models},
              "summary": summarise(runs), "runs": runs, "machine": machine(), "versions": versions(),
              "notes": {"reference.CombinedTM": "fed ctm_nb's bag of words, vocabulary and embeddings through its CTMDataset; "
                                                "0 data-loader workers; θ = mean of 20 samples; np.Inf restored for NumPy 2",
                        "BERTopic": "same embeddings; c-TF-IDF over ctm_nb's cleaned texts and vocabulary; nr_topics=K; "
                                    "topics = HDBSCAN clusters (may be fewer than K); θ is a hard assignment"},
              "process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10),
              "total_s": time.perf_counter() - t_start}
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / f"{a.name}.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    (out / f"{a.name}.md").write_text(markdown(report))
    print(f"wrote {out / (a.name + '.md')} and {a.name}.json ({report['total_s']:.0f} s)")
    return report

if __name__ == "__main__": main()
