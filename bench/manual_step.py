"""Is autograd what makes a CPU training step slow? The default CombinedTM step written out by hand — forward and
backward in plain tensor operations, no autograd graph, gradients written into preallocated buffers — against the
usual autograd step, both followed by the same fused Adam.

    python bench/manual_step.py --embeddings-file .gpu/ng_minilm.npy      # 20 Newsgroups, batch 64

It checks first that the hand-written step is the same maths (same loss, same gradients up to float rounding, same
BatchNorm running statistics, the same random numbers drawn in the same order), trains one epoch both ways from the
same seed, then times the two steps in alternating rounds and counts the operators each runs. A third row times the
autograd step with its forward pass under bfloat16 autocast (the products AMX can run), whose numbers differ. Writes
<out>/manual_step.md and .json. Run it with nothing else busy on the machine.

This is a measurement, not a code path of ctm_nb: the step covers only the default network (CombinedTM, softplus,
prodLDA, sparse bag of words, learned prior, no labels).
"""
from __future__ import annotations
import argparse, json, statistics, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import newsgroups, machine, versions  # noqa: E402

def _bn(x, bn):
    "Training-mode BatchNorm1d without affine weights, updating `bn`'s running statistics; returns (x̂, 1/σ)."
    import torch
    out, _, inv = torch.native_batch_norm(x, None, None, bn.running_mean, bn.running_var, True, bn.momentum, bn.eps)
    bn.num_batches_tracked.add_(1)
    return out, inv

def _bn_back(g, xhat, inv):
    "Gradient through training-mode BatchNorm: (g - mean(g) - x̂ mean(g x̂)) / σ, means over the batch."
    return (g - g.mean(0) - xhat * (g * xhat).mean(0)).mul_(inv)

def manual_step(net, bow, e):
    """Forward and backward of `net`'s loss (the batch-summed negative ELBO) for one batch, by hand: fills every
    parameter's `.grad` (preallocated) and returns the loss. Draws dropout masks and ε exactly as autograd's step does."""
    import torch, torch.nn.functional as F
    enc = net.encoder
    keep = 1 - enc.dropout.p
    with torch.no_grad():
        # forward (InferenceNetwork.forward, CTMNet.forward and CTMNet.loss, in that order)
        adapted = torch.addmm(enc.adapt.bias, e, enc.adapt.weight.t())                      # A e + a, (B, V)
        x = F.embedding_bag(bow.words, enc.bow_in, bow.offsets, mode="sum", per_sample_weights=bow.counts)
        x = x.addmm_(adapted, enc.emb_in).add_(enc.bias_in)                                 # first layer, (B, H)
        lins = [m for m in enc.hidden if isinstance(m, torch.nn.Linear)]
        pre, act = [x], [F.softplus(x)]
        for lin in lins:
            pre.append(torch.addmm(lin.bias, act[-1], lin.weight.t())); act.append(F.softplus(pre[-1]))
        mask_h = torch.empty_like(act[-1]).bernoulli_(keep).div_(keep)                       # as F.dropout draws it
        h = act[-1] * mask_h
        mu, inv_mu = _bn(torch.addmm(enc.mu.bias, h, enc.mu.weight.t()), enc.mu_bn)
        lv, inv_lv = _bn(torch.addmm(enc.logvar.bias, h, enc.logvar.weight.t()), enc.logvar_bn)
        eps, std = torch.randn_like(mu), (0.5 * lv).exp()
        theta0 = F.softmax(torch.addcmul(mu, eps, std), 1)
        mask_t = torch.empty_like(theta0).bernoulli_(keep).div_(keep)
        theta = theta0 * mask_t
        y, inv_y = _bn(theta @ net.beta, net.beta_bn)
        logp = F.log_softmax(y, 1)
        at = bow.doc * logp.shape[1] + bow.words                                              # flat (doc, word) ids
        rec = -torch.dot(bow.counts, logp.view(-1).take(at))
        pm, pv, var_q = net.prior_mean, net.prior_var, lv.exp()
        diff = pm - mu
        kl = 0.5 * ((var_q + diff * diff) / pv - 1 + pv.log() - lv).sum()
        # backward, from the loss down to the first layer
        length = torch.zeros(len(bow)).index_add_(0, bow.doc, bow.counts)                    # words per document
        g = logp.exp_().mul_(length[:, None]).index_put_((bow.doc, bow.words), -bow.counts, accumulate=True)
        g = _bn_back(g, y, inv_y)                                                             # d loss / d (θβ)
        torch.mm(theta.t(), g, out=net.beta.grad)
        g_t = (g @ net.beta.t()).mul_(mask_t)
        g_u = (g_t - (g_t * theta0).sum(1, keepdim=True)).mul_(theta0)                        # through the softmax
        torch.sum(diff / pv, 0, out=pm.grad)
        torch.sum(0.5 * (1 / pv - (var_q + diff * diff) / pv**2), 0, out=pv.grad)
        g_mu = _bn_back(g_u - diff / pv, mu, inv_mu)
        g_lv = _bn_back(g_u * eps * 0.5 * std + 0.5 * (var_q / pv - 1), lv, inv_lv)
        torch.mm(g_mu.t(), h, out=enc.mu.weight.grad); torch.sum(g_mu, 0, out=enc.mu.bias.grad)
        torch.mm(g_lv.t(), h, out=enc.logvar.weight.grad); torch.sum(g_lv, 0, out=enc.logvar.bias.grad)
        g = (g_mu @ enc.mu.weight).addmm_(g_lv, enc.logvar.weight).mul_(mask_h)
        for i in range(len(lins) - 1, -1, -1):
            g = g.mul_(torch.sigmoid(pre[i + 1]))                                             # softplus' = sigmoid
            torch.mm(g.t(), act[i], out=lins[i].weight.grad); torch.sum(g, 0, out=lins[i].bias.grad)
            g = g @ lins[i].weight
        g = g.mul_(torch.sigmoid(x))                                                          # d loss / d first layer
        torch.sum(g, 0, out=enc.bias_in.grad)
        torch.mm(adapted.t(), g, out=enc.emb_in.grad)
        g_a = g @ enc.emb_in.t()
        torch.mm(g_a.t(), e, out=enc.adapt.weight.grad); torch.sum(g_a, 0, out=enc.adapt.bias.grad)
        enc.bow_in.grad.zero_().index_add_(0, bow.words, g.index_select(0, bow.doc).mul_(bow.counts[:, None]))
    return rec + kl

def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embeddings-file", default=None); p.add_argument("--n-docs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=100, help="steps per timed round")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds per step, alternating")
    p.add_argument("--out", default=str(HERE))
    a = p.parse_args(argv)
    import torch
    from torch.profiler import profile, ProfilerActivity
    from ctm_nb.fusion import TopicData
    from ctm_nb.model import CTMNet
    from ctm_nb.training import seeded
    _, corpus, emb = newsgroups(a.n_docs, a.embeddings_file)
    data = TopicData(corpus.bow, emb)
    n_batches = len(data) // a.batch_size
    if n_batches < 10 + a.steps: raise SystemExit(f"need {10 + a.steps} full batches, the corpus has {n_batches}")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))

    def trainer(manual, bf16=False):
        """A fresh network (seed 0) and a function that trains it on batch i of `order`: by autograd (with `bf16`, its
        forward pass under bfloat16 autocast, whose products AMX can run) or by hand."""
        with seeded(0): net = CTMNet(data.vocab_size, data.embedding_dim, 50)
        net.train()
        if manual:
            for q in net.parameters(): q.grad = torch.zeros_like(q)
        opt = torch.optim.Adam(net.parameters(), lr=2e-3, betas=(0.99, 0.99), fused=True)   # as fit_network
        def step(i):
            b = data.batch(order[i % n_batches * a.batch_size:][:a.batch_size])
            if manual: loss = manual_step(net, b.bow, b.embeddings)
            else:
                opt.zero_grad(set_to_none=True)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16): out = net(b.bow, b.embeddings)
                loss = net.loss(out, b.bow)["loss"]; loss.backward()
            opt.step()
            return loss.detach().float()
        return net, step

    # 1. the same maths: one batch, the same seed for the random draws
    (na, sa), (nm, sm) = trainer(False), trainer(True)
    torch.manual_seed(1); la = sa(0)
    torch.manual_seed(1); lm = sm(0)
    grads = {n: (q.grad, qm.grad) for (n, q), qm in zip(na.named_parameters(), nm.parameters())}
    scale = max(ga.abs().max().item() for ga, _ in grads.values())
    grad_diff = max((ga - gm).abs().max().item() for ga, gm in grads.values()) / scale
    stats_diff = max((s.double() - t.double()).abs().max().item() for (k, s), t in
                     zip(na.state_dict().items(), nm.state_dict().values()) if k.split(".")[-1].startswith(("running", "num")))
    # 2. one epoch each way from the same seed: the per-step losses
    (na, sa), (nm, sm) = trainer(False), trainer(True)
    torch.manual_seed(2); ea = torch.stack([sa(i) for i in range(n_batches)])
    torch.manual_seed(2); em = torch.stack([sm(i) for i in range(n_batches)])
    epoch_diff = ((ea - em).abs() / ea.abs()).max().item()
    nb, sb = trainer(False, bf16=True)   # the same epoch with bfloat16 products: not the same numbers
    torch.manual_seed(2); eb = torch.stack([sb(i) for i in range(n_batches)])
    bf16_diff = ((ea - eb).abs() / ea.abs()).max().item()
    same = grad_diff < 1e-5 and stats_diff < 1e-5 and epoch_diff < 1e-2   # what float rounding can reach, with room
    # 3. speed: alternating rounds after 10 warm-up steps each, and the operators per step
    steps = {"autograd": trainer(False)[1], "by hand": trainer(True)[1], "autograd, bfloat16 autocast": trainer(False, True)[1]}
    for s in steps.values():
        for i in range(10): s(i)
    ms = {k: [] for k in steps}
    for _ in range(a.rounds):
        for k, s in steps.items():
            t0 = time.perf_counter()
            for i in range(10, 10 + a.steps): s(i)
            ms[k].append((time.perf_counter() - t0) / a.steps * 1e3)
    ops = {}
    for k, s in steps.items():
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for i in range(10, 30): s(i)
        ops[k] = sum(e.count for e in prof.key_averages() if e.key.startswith("aten::")) / 20
    med = {k: statistics.median(v) for k, v in ms.items()}
    m = machine()
    res = dict(command="python bench/manual_step.py " + " ".join(sys.argv[1:] if argv is None else argv),
               machine=m, versions=versions(), n_docs=len(data), batch_size=a.batch_size, steps=a.steps,
               rounds=a.rounds, first_loss=[la.item(), lm.item()], same_maths=same, max_grad_diff_rel=grad_diff,
               max_running_stat_diff=stats_diff, epoch_max_loss_diff_rel=epoch_diff,
               epoch_mean_loss=[ea.mean().item(), em.mean().item()], bf16_epoch_max_loss_diff_rel=bf16_diff,
               bf16_epoch_mean_loss=eb.mean().item(), ms_per_step=ms, median_ms=med, aten_ops_per_step=ops)
    L = ["# A training step by hand, against autograd (CPU)", "",
         f"Command: `{res['command']}`  ",
         f"Machine: {m['cpu']}" + (f" ({m['simd']})" if m.get("simd") else "") + f", {m['cores']} cores, torch threads "
         f"{m.get('torch_threads')}, torch {torch.__version__}  ",
         f"CombinedTM, 20 Newsgroups ({len(data):,} docs, V={data.vocab_size}, K=50), batch {a.batch_size}, fused Adam; "
         f"{a.rounds} alternating rounds of {a.steps} steps each after 10 warm-up steps.", "",
         f"**{'Same maths' if same else 'Not the same maths'}.** One batch from the same seed: loss "
         f"{la.item():.6g} (autograd) and {lm.item():.6g} (by hand); the largest gradient difference is "
         f"{grad_diff:.1e} of the largest gradient entry; BatchNorm running statistics differ by at most {stats_diff:.1e}. "
         f"One epoch ({n_batches} steps) each way from the same seed: per-step losses differ by at most "
         f"{epoch_diff:.1e} (relative); mean loss {ea.mean().item():.6g} and {em.mean().item():.6g}. The forward pass "
         f"under bfloat16 autocast is other maths: its per-step losses differ by up to {bf16_diff:.1e}, mean loss "
         f"{eb.mean().item():.6g}.", "",
         "| step | ms per step (median) | rounds | aten operators per step |", "| --- | ---: | --- | ---: |"]
    for k in steps:
        L.append(f"| {k} | {med[k]:.2f} | {', '.join(f'{v:.2f}' for v in ms[k])} | {ops[k]:.0f} |")
    L += ["", f"By hand / autograd: {med['by hand'] / med['autograd']:.2f} of the time per step; bfloat16 autocast / "
          f"autograd: {med['autograd, bfloat16 autocast'] / med['autograd']:.2f}."]
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / "manual_step.md").write_text("\n".join(L) + "\n")
    (out / "manual_step.json").write_text(json.dumps(res, indent=1) + "\n")
    print("\n".join(L[6:]) + f"\nwrote {out / 'manual_step.md'}")
    return res

if __name__ == "__main__": main()
