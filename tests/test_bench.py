"Smoke test of bench/run.py's ctm_nb side: a quick run on a BBC sample, the reference and BERTopic skipped cleanly."
import importlib.util, json, sys
from pathlib import Path
import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"

@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("ctm_nb_bench_run", BENCH)
    mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod; spec.loader.exec_module(mod)
    return mod

def test_quick_bench_writes_report(bench, bbc, bbc_embeddings, tmp_path, monkeypatch):
    lut = dict(zip(bbc[0], bbc_embeddings))         # the cached MiniLM embeddings of every BBC article
    encoder = lambda texts: np.stack([lut[t] for t in texts])
    # the reference and BERTopic must be skipped with a note wherever they are not installed; force that here
    monkeypatch.setitem(bench.NEEDS, "reference.CombinedTM", "contextualized_topic_models_not_installed")
    monkeypatch.setitem(bench.NEEDS, "BERTopic", "bertopic_not_installed")
    rep = bench.main(["--quick", "--dataset", "bbc", "--n-docs", "300", "--n-topics", "5", "--epochs", "2",
                      "--lda-iter", "2", "--out", str(tmp_path), "--name", "smoke"], encoder=encoder)
    md, js = tmp_path / "smoke.md", tmp_path / "smoke.json"
    assert md.exists() and js.exists()
    saved = json.loads(js.read_text())
    assert set(saved) >= {"config", "summary", "runs", "machine", "versions", "notes", "total_s"}
    assert saved["config"]["n_topics"] == 5 and saved["config"]["seeds"] == [0]
    rows = {r["model"]: r for r in saved["summary"]}
    assert list(rows) == list(bench.ALL_MODELS)
    for name in ("ctm_nb.CombinedTM", "ctm_nb.ZeroShotTM", "ctm_nb.ProdLDA", "ctm_nb.LDA"):
        r = rows[name]
        assert "error" not in r, r
        for k in ("npmi_window", "npmi_doc", "topic_diversity", "inverted_rbo", "c_v", "nmi", "ami", "purity",
                  "fit_s", "s_per_epoch", "inference_s", "peak_mb"):
            assert k in r and np.isfinite(r[k]), (name, k)
        assert -1 <= r["npmi_window"] <= 1 and 0 < r["topic_diversity"] <= 1
    for name in ("reference.CombinedTM", "BERTopic"):
        assert rows[name]["error"].startswith("skipped"), rows[name]
    text = md.read_text()
    assert "| ctm_nb.CombinedTM |" in text and "skipped" in text and "Machine:" in text
    assert saved["machine"]["cores"] >= 1 and saved["versions"]["ctm_nb"]
    assert rep["summary"] == saved["summary"]

def _part(models, runs, **config):
    cfg = dict(quick=False, dataset="20ng", n_docs=100, n_docs_kept=90, vocab_size=50, n_topics=5, epochs=2, lda_iter=2,
               batch_size=64, seeds=[0, 1], embedding_model="m", embedding_dim=4, embed_s=0.1, models=models)
    cfg.update(config)
    return dict(config=cfg, runs=runs, machine=dict(cpu="x", cores=2, platform="p", python="3", omp_num_threads="1", gpu=None),
                versions={"ctm_nb": "0"}, notes={}, total_s=10.0, process_peak_rss_mb=100.0)

def test_merge_combines_runs_of_the_same_configuration(bench, tmp_path):
    run = lambda m, s, npmi: dict(model=m, seed=s, npmi_window=npmi, topic_diversity=0.5, inverted_rbo=0.9, c_v=0.5, npmi_doc=0.1)
    a = _part(["A"], [run("A", 0, 0.10), run("A", 1, 0.20)])
    b = _part(["B"], [run("B", 0, 0.05), run("B", 1, 0.07)])
    (tmp_path / "a.json").write_text(json.dumps(a)); (tmp_path / "b.json").write_text(json.dumps(b))
    rep = bench.main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(tmp_path), "--name", "both"])
    rows = {r["model"]: r for r in rep["summary"]}
    assert list(rows) == ["A", "B"] and rows["A"]["seeds"] == 2
    assert abs(rows["A"]["npmi_window"] - 0.15) < 1e-12 and abs(rows["B"]["npmi_window"] - 0.06) < 1e-12
    assert "2 runs of bench/run.py" in rep["notes"]["merged"] and (tmp_path / "both.md").exists()
    (tmp_path / "c.json").write_text(json.dumps(_part(["C"], [run("C", 0, 0.1)], epochs=3)))
    with pytest.raises(ValueError, match="another configuration"):
        bench.main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "c.json"), "--out", str(tmp_path), "--name", "bad"])
