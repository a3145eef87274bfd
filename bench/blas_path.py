"""Which of MKL's code paths the matrix products take, and what it costs a CPU training epoch.

    python bench/blas_path.py --embeddings-file .gpu/ng_minilm.npy --rounds 3     # ~5 min on 2 cores

PyTorch's x86 wheels do their float32 matrix products with Intel's MKL. On a CPU that is not Intel's, MKL picks a
generic code path. An undocumented MKL function, `mkl_serv_intel_cpu_true`, makes that choice; a one-line library
that defines it to return 1, loaded first with LD_PRELOAD, makes MKL take its Intel code path on AMD too. This
script compiles that library (it needs a C compiler), then runs the same measurements in fresh processes with and
without it, alternating, `--rounds` times each: the rate of a 2000³ product and of the adapter's 64×384×2000
product, seconds per training epoch of ctm_nb's CombinedTM on 20 Newsgroups (batch 64, K=50, median of 3 epochs after
a warm-up one) and, when the reference package is installed, of its CombinedTM (one epoch, 0 workers, without the θ
pass its `fit` adds by default).

This is a measurement of the machine, not a ctm_nb feature: ctm_nb never loads such a library. Writes
<out>/blas_path.{md,json}. Time it on a quiet machine.
"""
from __future__ import annotations
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIM = "int mkl_serv_intel_cpu_true(void) { return 1; }\n"

def gflops(f, flop:float, repeat:int) -> float:
    "The rate of `f` (one product of `flop` floating-point operations): the median of `repeat` timed calls after two."
    f(); f()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return flop / statistics.median(ts) / 1e9

def child(a) -> dict:
    "The measurements of one process."
    import torch
    sys.path.insert(0, str(HERE))
    from speed import ctm_nb_epochs, reference_epochs
    from run import newsgroups
    from ctm_nb.fusion import TopicData
    g = torch.Generator().manual_seed(0)
    big, e, adapter = (torch.randn(2000, 2000, generator=g), torch.randn(64, 384, generator=g),
                       torch.randn(2000, 384, generator=g))
    out = dict(gflops_2000=gflops(lambda: big @ big, 2 * 2000**3, 5),
               gflops_adapter=gflops(lambda: e @ adapter.t(), 2 * 64 * 384 * 2000, 200))
    texts, corpus, emb = newsgroups(a.n_docs, a.embeddings_file)
    cfg = argparse.Namespace(epochs=3, quality_epochs=0, n_topics=50)
    out["n_docs"] = len(corpus)
    out["ctm_nb_s_per_epoch"] = ctm_nb_epochs(TopicData(corpus.bow, emb), cfg, "cpu", None, 64)["s_per_epoch"]
    if not a.no_reference:
        try:
            import numpy as np
            from contextualized_topic_models.datasets.dataset import CTMDataset
            ds = CTMDataset(X_contextual=emb, X_bow=corpus.bow.tocsr().astype(np.float32), idx2token=dict(enumerate(corpus.vocab)))
            out["reference_s_per_epoch"] = reference_epochs(ds, argparse.Namespace(epochs=1, n_topics=50), "cpu", 0)["s_per_epoch"]
        except ImportError: pass
    return out

def markdown(rep:dict) -> str:
    med = lambda path, k: statistics.median(r[k] for r in rep["runs"][path]) if all(k in r for r in rep["runs"][path]) else None
    m = rep["machine"]
    L = ["# MKL's code path on this CPU", "", f"Command: `{rep['command']}`  ",
         f"Machine: {m['cpu']}, {m['cores']} cores, torch threads {m.get('torch_threads')}; {m['platform']}  ",
         f"Versions: torch {rep['torch']}, {rep['mkl']}  ",
         f"Medians of {rep['rounds']} fresh processes per path, run alternately. 20 Newsgroups "
         f"({rep['runs']['generic'][0]['n_docs']:,} documents, V=2000), "
         "CombinedTM, K=50, batch 64; ctm_nb: median of 3 epochs after a warm-up epoch; reference: one epoch, 0 workers.", "",
         "| MKL code path | 2000³ product GFLOPS | adapter product (64×384×2000) GFLOPS | ctm_nb s/epoch | reference s/epoch | speed-up |",
         "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for path, label in [("generic", "generic (MKL's choice on this CPU)"), ("intel", "Intel's (LD_PRELOAD shim)")]:
        ours, ref = med(path, "ctm_nb_s_per_epoch"), med(path, "reference_s_per_epoch")
        cell = lambda v, f: "" if v is None else f.format(v)
        L.append(f"| {label} | {med(path, 'gflops_2000'):.0f} | {med(path, 'gflops_adapter'):.0f} | {ours:.3f} | "
                 f"{cell(ref, '{:.3f}')} | {cell(ref and ref / ours, '{:.1f}×')} |")
    return "\n".join(L) + "\n"

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embeddings-file", default=None, help=".npy embeddings of the preprocessed corpus (skips encoding)")
    p.add_argument("--rounds", type=int, default=3, help="processes per code path")
    p.add_argument("--n-docs", type=int, default=None, help="random sample of 20 Newsgroups (default: all)")
    p.add_argument("--no-reference", action="store_true", help="skip the reference package")
    p.add_argument("--out", default=str(HERE))
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child: print(json.dumps(child(a))); return
    sys.path.insert(0, str(HERE))
    import torch
    from run import machine
    mkl = next((l.strip(" -") for l in torch.__config__.show().splitlines() if "Math Kernel Library" in l), None)
    if mkl is None: sys.exit("this torch does not use MKL: there is no code path to choose")
    cc = shutil.which("cc") or shutil.which("gcc") or sys.exit("no C compiler (cc/gcc) to build the shim")
    tmp = Path(tempfile.mkdtemp())
    (tmp / "shim.c").write_text(SHIM)
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(tmp / "libshim.so"), str(tmp / "shim.c")], check=True)
    args = [sys.executable, __file__, "--child"] + (["--embeddings-file", a.embeddings_file] if a.embeddings_file else []) \
           + (["--no-reference"] if a.no_reference else []) + (["--n-docs", str(a.n_docs)] if a.n_docs else [])
    runs = {"generic": [], "intel": []}
    for r in range(a.rounds):
        for path in ("generic", "intel"):
            env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
            if path == "intel": env["LD_PRELOAD"] = str(tmp / "libshim.so")
            res = json.loads(subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
            runs[path].append(res)
            print(f"round {r + 1} {path:7s}: " + ", ".join(f"{k} {v:.3f}" for k, v in res.items() if k != "n_docs"), flush=True)
    shutil.rmtree(tmp)
    rep = dict(command="python bench/blas_path.py " + " ".join(sys.argv[1:] if argv is None else argv), machine=machine(),
               torch=torch.__version__, mkl=mkl, rounds=a.rounds, runs=runs)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / "blas_path.json").write_text(json.dumps(rep, indent=1) + "\n")
    (out / "blas_path.md").write_text(markdown(rep))
    print(f"wrote {out / 'blas_path.md'}")
    return rep

if __name__ == "__main__": main()
