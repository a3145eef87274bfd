"""Candidate ways to make the CUDA-graph training step faster, measured side by side against the library's step.

    python bench/graph_variants.py --device cuda --embeddings-file .gpu/ng_minilm.npy    # part of bench/gpu_check.sh
    python bench/graph_variants.py --n-docs 300 --epochs 1 --no-compile                  # CPU smoke run: no graph

A replayed graph costs what its kernels cost, and at batch 64 most of them are small element-wise kernels whose fixed
cost dwarfs their arithmetic (on the H200, a graphed epoch over its full batches gave 1.18 times as long per step at
batch 256 as at 64). The variants launch fewer kernels:

- `graph`: the library's `GraphedStep`, as `fit_network` uses it (the baseline);
- `graph+dense`: the batch's bag of words is one row gather from a dense (N, V) matrix kept on the GPU, instead of
  densifying CSR rows (about ten kernels); costs N·V·4 bytes of GPU memory (146 MB for 20 Newsgroups);
- `graph+compile`: the batch, forward pass and loss are compiled by `torch.compile` (Inductor fuses the element-wise
  kernels, forward and backward), then captured as before. Random draws stay PyTorch's own (`fallback_random`,
  no reordering), so the noise and dropout masks are those of the eager step;
- `graph+compile+dense`: both.

Each variant trains a fresh network from the same seed through the library's `run_epoch`: the warm-up epoch (capture,
compilation), then `--epochs` timed epochs. The report gives, for each, the median seconds per epoch; the kernels one
eager step launches (what a replay runs); and whether results changed: the training loss per document at the end, and
the largest difference of the topic-word weights β from the baseline's (0 when a variant computes the very same
numbers, float noise when it adds them in another order). On a CPU nothing is captured: each variant's step runs
eagerly, a smoke test of the code with no speed figure.
Writes <out>/graph_variants_<device>.{md,json}.
"""
from __future__ import annotations
import argparse, json, statistics, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import newsgroups, machine  # noqa: E402

VARIANTS = ("graph", "graph+dense", "graph+compile", "graph+compile+dense")

def make_step(variant, net, data, batch_size, opt, dense_bow):
    "The training step of `variant`: the library's `GraphedStep`, its step changed for the other variants."
    import torch
    from ctm_nb.training import GraphedStep
    class Step(GraphedStep):
        def __call__(self, rows):
            if self.rows.is_cuda: return super().__call__(rows)
            self.rows.copy_(rows); self.opt.zero_grad(set_to_none=True); self._step()   # no graph on a CPU: eagerly
            return self.terms
    if variant == "graph": return Step(net, data, batch_size, opt)
    def terms(rows):
        bow = dense_bow[rows] if "dense" in variant else data.batch(rows, sparse=False).bow
        t = net.loss(net(bow, data.emb_t[rows]), bow)
        return torch.stack([t["loss"], t["kl"], t["rec"]])
    if "compile" in variant:
        import torch._inductor.config as inductor
        inductor.fallback_random = True                       # PyTorch's own random draws, as in the eager step...
        if hasattr(inductor, "reorder_for_peak_memory"): inductor.reorder_for_peak_memory = False   # ...in its order
        terms = torch.compile(terms, dynamic=False, fullgraph=True)
    class VariantStep(Step):
        def _step(self):
            t = terms(self.rows)
            t[0].backward()
            self.opt.step()
            self.terms.copy_(t.detach())
    return VariantStep(net, data, batch_size, opt)

def kernels_per_step(step, data, batch_size, opt, cuda, n:int=5) -> float|None:
    "CUDA kernels one eager call of the variant's step launches (a replay runs the same); None on a CPU."
    if not cuda: return None
    import torch
    from torch.profiler import profile, ProfilerActivity
    step.rows.copy_(torch.arange(batch_size, device=data.device))
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(n): opt.zero_grad(set_to_none=True); step._step()   # no gradients yet, as when it was captured
        torch.cuda.synchronize()
    kernels = [e for e in prof.events() if "cuda" in str(e.device_type).lower() and not e.name.startswith(("Memcpy", "Memset"))]
    return len(kernels) / n

def run_variant(variant, data, dense_bow, a, device) -> dict:
    import torch
    from ctm_nb.model import CTMNet
    from ctm_nb.training import seeded, run_epoch
    cuda = device.type == "cuda"
    with seeded(0, device): net = CTMNet(data.vocab_size, data.embedding_dim, a.n_topics).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, betas=(0.99, 0.99), fused=True, capturable=cuda)
    gen = torch.Generator().manual_seed(0)
    step = make_step(variant, net, data, a.batch_size, opt, dense_bow)
    secs, losses = [], []
    with seeded(0, device):
        for _ in range(a.epochs + 1):
            t0 = time.perf_counter()
            losses.append(run_epoch(net, data, a.batch_size, opt, generator=gen, graph=step)["loss"])   # waits for the GPU
            secs.append(time.perf_counter() - t0)
    return dict(variant=variant, s_per_epoch=statistics.median(secs[1:]) if cuda else None, first_epoch_s=secs[0],
                losses=losses, final_loss=losses[-1], captured=step.graph is not None, capture_failed=step.failed,
                beta=net.beta.detach().cpu().clone(),
                kernels_per_step=kernels_per_step(step, data, a.batch_size, opt, cuda))   # (this call moves the weights on)

def beta_gap(beta, base) -> float:
    "Largest difference between two topic-word matrices β, relative to the largest weight of `base`."
    return float((beta - base).abs().max() / base.abs().max())

def markdown(rep:dict) -> str:
    m, c = rep["machine"], rep["config"]
    L = [f"# CUDA-graph step variants ({c['device']})", "", f"Command: `{rep['command']}`  ",
         f"Machine: {m['cpu']}, {m['cores']} cores" + (f", GPU {m['gpu']}" if m.get("gpu") else "") + f", torch {rep['torch']}  ",
         f"CombinedTM, 20 Newsgroups ({c['n_docs']:,} docs, V={c['vocab_size']}, K={c['n_topics']}), batch {c['batch_size']}; "
         f"a warm-up epoch, then {c['epochs']} timed epochs from the same seed.", "",
         "| variant | s/epoch | speed-up | first epoch s | loss/doc at the end | vs graph | β vs graph | kernels per step | captured |",
         "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    base = rep["rows"][0]
    for r in rep["rows"]:
        s, b, k = r["s_per_epoch"], base["s_per_epoch"], r["kernels_per_step"]
        L.append(f"| {r['variant']} | {'' if s is None else f'{s:.4f}'} | {f'{b / s:.2f}×' if s and b else ''} | "
                 f"{r['first_epoch_s']:.1f} | {r['final_loss']:.2f} | {r['final_loss'] / base['final_loss'] - 1:+.2%} | "
                 f"{r['beta_vs_graph']:.1e} | "
                 f"{'' if k is None else f'{k:.0f}'} | "
                 f"{'yes' if r['captured'] else ('failed: ' + r['capture_failed'] if r['capture_failed'] else 'no')} |")
    if c["device"] == "cpu": L += ["", "On a CPU nothing is captured and no time is given: this run only checks the variants' code."]
    return "\n".join(L) + "\n"

def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu"); p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=5, help="timed epochs per variant (after one warm-up epoch)")
    p.add_argument("--n-topics", type=int, default=50)
    p.add_argument("--n-docs", type=int, default=None); p.add_argument("--embeddings-file", default=None)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--no-compile", action="store_true", help="skip the compiled variants (Inductor takes a while on a CPU)")
    p.add_argument("--out", default=str(HERE))
    a = p.parse_args(argv)
    import torch
    from ctm_nb.fusion import TopicData
    variants = ["graph"] + [v for v in a.variants if v != "graph" and not (a.no_compile and "compile" in v)]   # baseline first
    _, corpus, emb = newsgroups(a.n_docs, a.embeddings_file)
    device = torch.device(a.device)
    data = TopicData(corpus.bow, emb).to(device)
    dense_bow = torch.from_numpy(corpus.bow.toarray()).to(device) if any("dense" in v for v in variants) else None
    rep = dict(command="python bench/graph_variants.py " + " ".join(sys.argv[1:] if argv is None else argv),
               machine=machine(), torch=torch.__version__, rows=[],
               config=dict(device=device.type, n_docs=len(data), vocab_size=data.vocab_size, n_topics=a.n_topics,
                           batch_size=a.batch_size, epochs=a.epochs))
    for v in variants:
        r = run_variant(v, data, dense_bow, a, device)
        beta = r.pop("beta")
        if v == "graph": base_beta = beta
        r["beta_vs_graph"] = beta_gap(beta, base_beta)
        rep["rows"].append(r)
        print(f"  {v:20s} s/epoch {r['s_per_epoch']}  loss/doc {r['final_loss']:.2f}  kernels/step {r['kernels_per_step']}"
              f"  captured {r['captured']}", flush=True)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    name = f"graph_variants_{device.type}"
    (out / f"{name}.json").write_text(json.dumps(rep, indent=1) + "\n")
    (out / f"{name}.md").write_text(markdown(rep))
    print(markdown(rep) + f"wrote {out / name}.md")
    return rep

if __name__ == "__main__": main()
