"Smoke tests of the bench scripts (speed, npmi_study, profile_step, manual_step, graph_variants, blas_path) on a small 20 Newsgroups sample (their full runs take minutes)."
import importlib.util, json, sys
from pathlib import Path
import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
pytestmark = pytest.mark.usefixtures("one_thread")

def load(name):
    spec = importlib.util.spec_from_file_location(f"ctm_nb_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod; spec.loader.exec_module(mod)
    return mod

@pytest.fixture(scope="module")
def sample_embeddings(tmp_path_factory):
    "Random 384-d embeddings, one per preprocessed post of the scripts' 300-post sample (the scripts only need the shape)."
    run = load("run")
    from ctm_nb.data import preprocess
    texts, _ = run.load_data("20ng", 300)
    n = len(preprocess(texts, vocab_size=2000))
    path = tmp_path_factory.mktemp("emb") / "emb.npy"
    np.save(path, np.random.default_rng(0).normal(size=(n, 384)).astype(np.float32))
    return str(path)

def test_speed_report(sample_embeddings, tmp_path):
    speed = load("speed")
    rep = speed.main(["--n-docs", "300", "--epochs", "1", "--batch-sizes", "64", "--repeat", "1", "--no-reference",
                      "--n-topics", "5", "--embeddings-file", sample_embeddings, "--out", str(tmp_path), "--name", "t"])
    (row,) = rep["training"]
    assert row["model"] == "ctm_nb.CombinedTM" and row["batch_size"] == 64 and row["s_per_epoch"] > 0
    assert {r["how"] for r in rep["theta"]} == {"deterministic softmax(μ)", "mean of 20 samples"}
    hows = {r["how"] for r in rep["transform"]}
    assert len(hows) == 4 and {h.split(", ")[-1] for h in hows} == {"from raw text", "from preprocessed text"}
    assert all(r["seconds"] > 0 for r in rep["theta"] + rep["transform"])
    md = (tmp_path / "t.md").read_text()
    for section in ["## Seconds per training epoch", "## θ for every document", "## `transform` for every document"]:
        assert section in md
    assert json.loads((tmp_path / "t.json").read_text())["config"]["n_docs"] == rep["config"]["n_docs"]
    assert rep["machine"]["mm_gflops"] > 0 and "GFLOPS" in md.split("\n")[3]   # the machine's product rate, in the header

def test_speed_scaling_runs_in_a_fresh_process(tmp_path):
    speed = load("speed")
    rep = speed.main(["--no-training", "--scaling", "2000", "--scaling-vocab", "300", "--threads", "1",
                      "--out", str(tmp_path), "--name", "s"])
    (row,) = rep["scaling"]
    assert row["n_docs"] == 2000 and row["s_per_epoch"] > 0 and row["peak_rss_mb"] > 0
    assert row["dense_bow_would_be_mb"] == pytest.approx(2000 * 300 * 4 / 2**20, rel=0.01)
    assert "## Scaling" in (tmp_path / "s.md").read_text()

def test_npmi_study(sample_embeddings, tmp_path):
    study = load("npmi_study")
    study.main(["--n-docs", "300", "--epochs", "1", "--more-epochs", "1", "--seeds", "0", "--models", "CombinedTM",
                "--lda", "--device", "cpu", "--embeddings-file", sample_embeddings, "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "npmi_study.json").read_text())["rows"]
    assert [(r["model"], r["epochs"], r["ranking"]) for r in rows] == [
        ("CombinedTM", 1, "beta"), ("CombinedTM", 1, "topic_word"), ("CombinedTM", 2, "beta"),
        ("CombinedTM", 2, "topic_word"), ("LDA", 20, "topic_word")]
    for r in rows:
        assert -1 <= r["npmi_window"] <= 1 and -1 <= r["npmi_doc"] <= 1 and 0 < r["topic_diversity"] <= 1
        assert 0 <= r["negative_window_share"] <= 1 and 0 < r["mean_doc_freq_top10"] <= 1
        assert len(r["topics"]) == 50 and all(len(t) == 10 for t in r["topics"])
    assert "| CombinedTM | 2 | topic_word | 1 |" in (tmp_path / "npmi_study.md").read_text()

def test_profile_step(sample_embeddings, tmp_path):
    prof = load("profile_step")
    res = prof.main(["--n-docs", "300", "--batch-size", "8", "--steps", "5", "--embeddings-file", sample_embeddings,
                     "--out", str(tmp_path)])
    names = [k for k, _, _ in res["table"]]
    assert res["per_step_ms"] > 0 and res["calls_per_step"] > 10 and list(res["wall_ms"]) == ["eager", "fixed cost (V=50, D=16)"]
    assert 0 < res["wall_ms"]["fixed cost (V=50, D=16)"] and 0 < res["wall_ms"]["eager"] and list(res["first_steps_s"]) == ["eager"]
    assert "aten::addmm" in names and any("adam" in k.lower() for k in names)   # the adapter and the optimizer step
    md = (tmp_path / "profile_step_cpu.md").read_text()
    assert "| operator | calls per step | ms per step | share |" in md and "batch 8" in md and "Wall time per step" in md

def test_manual_step(sample_embeddings, tmp_path):
    "The hand-written step is the autograd step's maths: same loss, gradients and running statistics, one epoch alike."
    ms = load("manual_step")
    res = ms.main(["--n-docs", "300", "--batch-size", "8", "--steps", "3", "--rounds", "1", "--embeddings-file",
                   sample_embeddings, "--out", str(tmp_path)])
    a, b = res["first_loss"]
    assert abs(a - b) <= 1e-5 * abs(a) and res["max_grad_diff_rel"] < 1e-5 and res["max_running_stat_diff"] < 1e-5
    assert res["same_maths"]
    assert res["epoch_max_loss_diff_rel"] < 1e-2 and list(res["median_ms"]) == ["autograd", "by hand", "autograd, bfloat16 autocast"]
    assert res["bf16_epoch_max_loss_diff_rel"] > 0   # bfloat16 products: other numbers
    assert all(v > 0 for v in res["median_ms"].values()) and all(v > 10 for v in res["aten_ops_per_step"].values())
    md = (tmp_path / "manual_step.md").read_text()
    assert "| by hand |" in md and "**Same maths.**" in md and json.loads((tmp_path / "manual_step.json").read_text())

def test_graph_variants_on_cpu(sample_embeddings, tmp_path):
    "The step variants run (eagerly, on a CPU); the dense gather computes exactly the library step, so β is identical."
    gv = load("graph_variants")
    rep = gv.main(["--n-docs", "300", "--epochs", "1", "--n-topics", "5", "--no-compile", "--embeddings-file",
                   sample_embeddings, "--out", str(tmp_path)])
    base, dense = rep["rows"]
    assert (base["variant"], dense["variant"]) == ("graph", "graph+dense")
    assert dense["beta_vs_graph"] == 0 and dense["losses"] == base["losses"]
    assert len(base["losses"]) == 2 and all(np.isfinite(base["losses"]))   # the warm-up epoch and one timed epoch
    assert not base["captured"] and base["s_per_epoch"] is None # no graph and no speed claim on a CPU
    md = (tmp_path / "graph_variants_cpu.md").read_text()
    assert "| graph+dense |" in md and "only checks the variants' code" in md

def test_embeddings_file_of_other_posts_is_refused(tmp_path):
    run = load("run")
    bad = tmp_path / "bad.npy"; np.save(bad, np.zeros((7, 384), np.float32))
    with pytest.raises(SystemExit, match="has 7 rows but the preprocessed corpus has"):
        run.newsgroups(300, str(bad))

def test_npmi_study_without_common_words():
    "--max-df: no word of the new vocabulary is in more than that share of the posts, and embeddings follow the posts kept."
    study = load("npmi_study")
    from ctm_nb.data import preprocess
    docs = ["the cat sat", "cat dog", "cat bird", "dog bird", "cat fish", "eel"]
    corpus = preprocess(docs, vocab_size=100)
    emb = np.arange(len(corpus), dtype=np.float32)[:, None]
    new, new_emb, n_out = study.without_common_words(corpus, emb, max_df=0.4, vocab_size=2)
    assert new.vocab == ["bird", "dog"] and n_out == 1        # "cat" (4 of 6 posts) is left out; the 2 most frequent stay
    counted = preprocess(corpus.texts, vocab=new.vocab, min_words=0)   # every original post, new vocabulary
    assert (np.asarray((counted.bow > 0).mean(0)).ravel() <= 0.4).all()
    assert [corpus.texts[i] for i in new.kept] == new.texts   # rows still aligned...
    assert new_emb[:, 0].tolist() == new.kept.tolist()        # ...and so are their embeddings

def test_blas_path_measures_both_mkl_code_paths(sample_embeddings, tmp_path):
    import shutil, torch
    if not (shutil.which("cc") or shutil.which("gcc")): pytest.skip("no C compiler to build the shim")
    if "Math Kernel Library" not in torch.__config__.show(): pytest.skip("this torch does not use MKL")
    rep = load("blas_path").main(["--rounds", "1", "--no-reference", "--n-docs", "300", "--embeddings-file", sample_embeddings,
                                  "--out", str(tmp_path)])
    for path in ("generic", "intel"):
        (run,) = rep["runs"][path]
        assert run["gflops_2000"] > 1 and run["ctm_nb_s_per_epoch"] > 0 and "reference_s_per_epoch" not in run
    md = (tmp_path / "blas_path.md").read_text()
    assert "| generic (MKL's choice on this CPU) |" in md and "| Intel's (LD_PRELOAD shim) |" in md
