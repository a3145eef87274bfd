"""Where one CombinedTM training step spends its time: the operators (CPU) or kernels (CUDA) of eager steps, ranked;
the wall time of a step; and its fixed cost, the same step on a 50-word vocabulary where the arithmetic is negligible.

    python bench/profile_step.py                                   # CPU, 20 Newsgroups, batch 64, 50 profiled steps
    python bench/profile_step.py --device cuda --embeddings-file .gpu/ng_minilm.npy
    python bench/profile_step.py --compile --embeddings-file .gpu/ng_minilm.npy   # + wall time with torch.compile

A CUDA graph replays exactly the kernels of one eager step, so the CUDA table (kernel count and summed kernel time
per step) is what a graphed step costs on the GPU, without the launch overhead. Writes <out>/profile_step_<device>.md.
"""
from __future__ import annotations
import argparse, contextlib, os, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import newsgroups, machine  # noqa: E402

@contextlib.contextmanager
def _env(**values):
    "Set environment variables for the block, then restore them."
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try: yield
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v

def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu"); p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=50, help="profiled steps (after 10 warm-up steps)")
    p.add_argument("--n-docs", type=int, default=None); p.add_argument("--embeddings-file", default=None)
    p.add_argument("--rows", type=int, default=25, help="operators or kernels in the table")
    p.add_argument("--compile", action="store_true",
                   help="also time steps whose forward pass and loss are compiled by torch.compile (Inductor; CPU or CUDA)")
    p.add_argument("--out", default=str(HERE))
    a = p.parse_args(argv)
    import torch
    from torch.profiler import profile, ProfilerActivity
    from ctm_nb.fusion import TopicData
    from ctm_nb.model import CTMNet
    from ctm_nb.training import seeded
    _, corpus, emb = newsgroups(a.n_docs, a.embeddings_file)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"

    def trainer(data):
        "The loss and a training step (CombinedTM, K=50, fused Adam as in training) over shuffled batches of `data`."
        with seeded(0): net = CTMNet(data.vocab_size, data.embedding_dim, 50).to(dev)
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=2e-3, betas=(0.99, 0.99), fused=True)
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0)).to(dev)
        def loss(bow, emb): return net.loss(net(bow, emb), bow)["loss"]
        def step(i, f=loss):
            b = data.batch(order[i * a.batch_size:(i + 1) * a.batch_size])
            opt.zero_grad(set_to_none=True); f(b.bow, b.embeddings).backward(); opt.step()
        return loss, step

    def wall_ms(step, f):
        """Median wall milliseconds per step over three rounds of the profiled steps (no profiler), after 10 warm-up
        steps, and the seconds those warm-up steps took (with torch.compile: the compilation)."""
        t0 = time.perf_counter()
        for i in range(10): step(i, f)
        if cuda: torch.cuda.synchronize()
        first = time.perf_counter() - t0
        ms = []
        for _ in range(3):
            if cuda: torch.cuda.synchronize()
            t0 = time.perf_counter()
            for i in range(10, 10 + a.steps): step(i, f)
            if cuda: torch.cuda.synchronize()
            ms.append((time.perf_counter() - t0) / a.steps * 1e3)
        return statistics.median(ms), first

    data = TopicData(corpus.bow, emb).to(dev)
    if len(data) // a.batch_size < 10 + a.steps:
        raise SystemExit(f"need {10 + a.steps} full batches, the corpus has {len(data) // a.batch_size}")
    loss, step = trainer(data)
    for i in range(10): step(i)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=acts) as prof:
        for i in range(10, 10 + a.steps): step(i)
        if cuda: torch.cuda.synchronize()
    wall, first = {}, {}
    wall["eager"], first["eager"] = wall_ms(step, loss)
    if a.compile:   # compiled from scratch, as on a user's first run: an empty Inductor cache, not this machine's
        with tempfile.TemporaryDirectory() as cache, _env(TORCHINDUCTOR_CACHE_DIR=cache):
            wall["torch.compile"], first["torch.compile"] = wall_ms(step, torch.compile(loss))
    # the fixed cost of a step: the same network and optimizer on a 50-word vocabulary and 16-d embeddings, where the
    # arithmetic is negligible and what remains is launching the operators (Python, dispatch, threads)
    n, rng = (10 + a.steps) * a.batch_size, np.random.default_rng(0)
    tiny = TopicData(sp.random(n, 50, density=0.2, format="csr", random_state=0, dtype=np.float32),
                     rng.normal(size=(n, 16)).astype(np.float32)).to(dev)
    tiny_loss, tiny_step = trainer(tiny)
    wall["fixed cost (V=50, D=16)"], _ = wall_ms(tiny_step, tiny_loss)
    events = prof.key_averages()
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    rows = sorted((e for e in events if getattr(e, key) > 0), key=lambda e: -getattr(e, key))
    if cuda: rows = [e for e in rows if "CUDA" in str(getattr(e, "device_type", ""))] or rows   # the kernels
    total = sum(getattr(e, key) for e in rows) / a.steps
    calls = sum(e.count for e in rows) / a.steps
    what, m = ("kernels" if cuda else "operators"), machine()
    L = [f"# One training step, profiled ({a.device})", "",
         f"Command: `python bench/profile_step.py {' '.join(sys.argv[1:] if argv is None else argv)}`  ",
         f"Machine: {m['cpu']}" + (f" ({m['simd']})" if m.get("simd") else "") + f", {m['cores']} cores, torch threads {m.get('torch_threads')}"
         + (f", GPU {m['gpu']}" if m.get("gpu") and cuda else "") + f", torch {torch.__version__}  ",
         f"CombinedTM, 20 Newsgroups ({len(data):,} docs, V={data.vocab_size}, K=50), batch {a.batch_size}, eager, "
         f"{a.steps} steps after 10 warm-up steps.", "",
         f"Per step: {calls:.0f} {what}, {total / 1e3:.3f} ms of {'kernel' if cuda else 'self CPU'} time.  ",
         "Wall time per step without the profiler (median of 3 rounds): "
         + "; ".join(f"{k} {v:.2f} ms" for k, v in wall.items()) + ". "
         + ("torch.compile: the forward pass and the loss compiled by Inductor, backward and Adam as in eager; its first "
            f"10 steps, which compile, took {first['torch.compile']:.1f} s (eager: {first['eager']:.2f} s). " if a.compile else "")
         + "Fixed cost: the same network, optimizer and batch size on random data with a 50-word vocabulary and 16-d "
         "embeddings, where the arithmetic is negligible: what launching the step's operators costs.", "",
         f"| {what[:-1]} | calls per step | ms per step | share |", "| --- | ---: | ---: | ---: |"]
    for e in rows[:a.rows]:
        t = getattr(e, key) / a.steps
        L.append(f"| `{e.key[:80]}` | {e.count / a.steps:.1f} | {t / 1e3:.3f} | {t / total:.0%} |")
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    path = out / f"profile_step_{dev.type}.md"
    path.write_text("\n".join(L) + "\n")
    print("\n".join(L[5:8]) + f"\nwrote {path}")
    return dict(per_step_ms=total / 1e3, wall_ms=wall, first_steps_s=first, calls_per_step=calls, table=[(e.key, e.count / a.steps, getattr(e, key) / a.steps / 1e3) for e in rows])

if __name__ == "__main__": main()
