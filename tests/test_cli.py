"The `ctm-nb` console script, run as a user runs it: in a subprocess."
import csv, json, shutil, subprocess, sys
from pathlib import Path
import pytest

def ctm_nb(*args, cwd=None):
    exe = shutil.which("ctm-nb") or pytest.fail("the ctm-nb console script is not installed (pip install -e .)")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=900)

def test_help_lists_the_commands():
    r = ctm_nb("--help")
    assert r.returncode == 0 and "demo" in r.stdout and "train" in r.stdout

def test_train_on_a_csv_column(tmp_path, bbc):
    texts, labels = bbc
    path = tmp_path / "news.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f); w.writerow(["id", "body", "section"])
        for i in range(0, 2225, 5): w.writerow([i, texts[i], labels[i]])
    r = ctm_nb("train", path, "--column", "body", "--labels-column", "section", "--n-topics", "5", "--epochs", "20",
               "--device", "cpu", "--out", tmp_path / "report")
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert {"npmi_window", "npmi_doc", "topic_diversity", "inverted_rbo", "nmi", "purity"} <= set(metrics)
    assert metrics["nmi"] > 0.3, metrics      # 445 articles, 20 epochs: already well above chance (≈ 0)
    rows = list(csv.reader(open(tmp_path / "report" / "doc_topic.csv")))
    assert len(rows) == 1 + 445 and len(rows[0]) == 2 + 5
    assert "topic" in r.stdout and "Report written" in r.stdout

def test_bad_input_is_a_clear_error(tmp_path):
    r = ctm_nb("train", tmp_path / "missing.txt")
    assert r.returncode != 0 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "a.csv").write_text("title\nx\n")
    r = ctm_nb("train", tmp_path / "a.csv")
    assert r.returncode != 0 and "no column 'text'" in r.stderr

@pytest.mark.slow
def test_demo(tmp_path):
    r = ctm_nb("demo", "--out", tmp_path / "demo")
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads((tmp_path / "demo" / "metrics.json").read_text())
    assert metrics["nmi"] > 0.5 and metrics["npmi_window"] > 0.05, metrics
    print(r.stdout)

def test_read_documents_takes_files_as_people_write_them(tmp_path):
    from ctm_nb.cli import read_documents
    (tmp_path / "excel.csv").write_bytes("\ufefftext,label\nfirst doc,a\nsecond doc,b\n".encode("utf-8"))   # Excel's "CSV UTF-8"
    assert read_documents(tmp_path / "excel.csv", labels_column="label") == (["first doc", "second doc"], ["a", "b"])
    (tmp_path / "short_row.csv").write_text("text,label\nfirst doc,a\nsecond doc\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 3 has no 'label' value"): read_documents(tmp_path / "short_row.csv", labels_column="label")
    (tmp_path / "lines.txt").write_text("one\fpage break inside\r\ntwo\n\nthree\rfour\n", encoding="utf-8")
    assert read_documents(tmp_path / "lines.txt")[0] == ["one\fpage break inside", "two", "", "three", "four"]   # line i: doc i
    (tmp_path / "latin1.csv").write_bytes("text\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text.*save it as UTF-8"): read_documents(tmp_path / "latin1.csv")
    with pytest.raises(ValueError, match="is a folder"): read_documents(tmp_path)
    (tmp_path / "header_only.csv").write_text("title,body\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no column 'text'; its columns are \['title', 'body'\]"):
        read_documents(tmp_path / "header_only.csv")

def test_a_failing_report_keeps_the_trained_model(tmp_path, monkeypatch):
    from ctm_nb.cli import write_report
    from ctm_nb.ctm import ProdLDA
    docs = [f"apple banana cherry {w} {w}" for w in ["date", "elder", "fig", "grape"] * 10]
    tm = ProdLDA(n_topics=2, epochs=2, batch_size=16, progress=False, device="cpu").fit(docs)
    monkeypatch.setattr(tm, "evaluate", lambda **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError): write_report(tm, docs, tmp_path / "report", figures=False)
    assert ProdLDA.load(tmp_path / "report" / "model").topics(3) == tm.topics(3)
    assert not (tmp_path / "report" / "metrics.json").exists()
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="vocabulary has only 7 words"):   # (a toy vocabulary: fewer than 10 top words)
        write_report(tm, docs, tmp_path / "report", figures=False)   # the half-written report is ours: it can be redone
    assert (tmp_path / "report" / "metrics.json").exists()


def test_write_report_of_the_lda_baseline(tmp_path):
    from ctm_nb.cli import write_report
    from ctm_nb.baselines import LDA
    docs = [f"apple banana cherry {w} {w}" for w in ["date", "elder", "fig", "grape"] * 10]
    lda = LDA(n_topics=2, seed=0, progress=False).fit(docs)
    (tmp_path / "report").mkdir(); (tmp_path / "report" / ".DS_Store").write_bytes(b"")   # a hidden file is no one's report
    with pytest.warns(UserWarning, match="vocabulary has only 7 words"): write_report(lda, docs, tmp_path / "report", figures=False)
    cfg = json.loads((tmp_path / "report" / "config.json").read_text())
    assert cfg["model_class"] == "LDA" and cfg["iterations"] == lda.history["n_iter"]
    assert LDA.load(tmp_path / "report" / "model").topics(3) == lda.topics(3)


def test_blank_lines_keep_doc_topic_rows_on_their_lines(tmp_path):
    lines = [f"apple banana cherry {w} {w}" for w in ["date", "elder", "fig", "grape"] * 8]
    lines.insert(3, ""); lines.insert(10, "   ")
    (tmp_path / "docs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = ctm_nb("train", tmp_path / "docs.txt", "--model", "prodlda", "--n-topics", "2", "--epochs", "2", "--device", "cpu",
               "--out", tmp_path / "report")
    assert r.returncode == 0, r.stderr[-2000:]
    rows = list(csv.reader(open(tmp_path / "report" / "doc_topic.csv")))[1:]
    assert len(rows) == len(lines) and [i for i, row in enumerate(rows) if row[1] == ""] == [3, 10]
    assert json.loads((tmp_path / "report" / "model" / "config.json").read_text())["model_class"] == "ProdLDA"


def test_the_report_folder_is_checked_before_training(tmp_path, monkeypatch):
    from ctm_nb import cli
    from ctm_nb.ctm import CTM
    monkeypatch.setattr(CTM, "fit", lambda *a, **k: pytest.fail("training started before --out was checked"))
    (tmp_path / "docs.txt").write_text("apple banana\ncherry date\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "project").mkdir(); (tmp_path / "project" / "config.json").write_text('{"my": "settings"}', encoding="utf-8")
    for out, msg in [(tmp_path / "notes.txt", "is a file"), (tmp_path / "project", "holds other files")]:
        with pytest.raises(SystemExit, match=msg): cli.main(["train", str(tmp_path / "docs.txt"), "--out", str(out)])
    assert (tmp_path / "project" / "config.json").read_text() == '{"my": "settings"}'   # untouched
    (tmp_path / "earlier").mkdir()
    (tmp_path / "earlier" / "config.json").write_text('{"ctm_nb_version": "0.1.0", "model_class": "CombinedTM", "settings": {}}')
    cli._check_report_folder(tmp_path / "earlier")   # an earlier report may be replaced


def test_a_diverged_run_tells_the_cli_user_what_to_change(tmp_path, monkeypatch):
    from ctm_nb import cli
    from ctm_nb.ctm import CTM
    def diverge(*a, **k): raise FloatingPointError("the training loss became nan in epoch 2; the model was reset ...")
    monkeypatch.setattr(CTM, "fit", diverge)
    (tmp_path / "docs.txt").write_text("apple banana\ncherry date\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"diverged \(the training loss became nan in epoch 2\).*--lr 0.0002"):
        cli.main(["train", str(tmp_path / "docs.txt"), "--out", str(tmp_path / "r")])


def test_a_row_with_an_unquoted_comma_is_an_error_not_a_shifted_label(tmp_path):
    (tmp_path / "commas.csv").write_text("text,label\nI like apples, and pears,food\n", encoding="utf-8")
    r = ctm_nb("train", tmp_path / "commas.csv", "--labels-column", "label", "--out", tmp_path / "report")
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "row 2 (line 2) has 3 fields but the header has 2" in r.stderr and '"I like apples, and pears"' in r.stderr
    assert not (tmp_path / "report").exists()


def test_read_documents_refuses_what_it_cannot_read_rightly(tmp_path):
    from ctm_nb.cli import read_documents
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.csv is empty: a table needs a header line"): read_documents(tmp_path / "empty.csv")
    (tmp_path / "dup.tsv").write_text("text\tlabel\tlabel\na\tx\ty\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2 columns named 'label': rename all but one"):
        read_documents(tmp_path / "dup.tsv", labels_column="label")
    assert read_documents(tmp_path / "dup.tsv") == (["a"], None)   # a duplicate that was not chosen does no harm
    (tmp_path / "docs.txt").write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(ValueError, match="without columns: leave out --column and --labels-column"):
        read_documents(tmp_path / "docs.txt", column="body", labels_column="label")
    (tmp_path / "docs.json").write_text('[{"text": "one"}]', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\.json files are not read; save the documents as a \.csv or \.tsv table"):
        read_documents(tmp_path / "docs.json")


def test_the_report_speaks_to_a_cli_user(tmp_path):
    lines = [f"apple banana cherry {w} {w}" for w in ["date", "elder", "fig", "grape"] * 8]
    lines.insert(3, ""); lines.insert(10, "the and of")   # no vocabulary words: left out of training
    (tmp_path / "docs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = ctm_nb("train", tmp_path / "docs.txt", "--model", "prodlda", "--n-topics", "2", "--epochs", "3",
               "--validation-split", "0.25", "--device", "cpu", "--out", tmp_path / "report")
    assert r.returncode == 0, r.stderr[-2000:]
    assert ("2 of 34 documents have no vocabulary words and were left out of training: their rows in doc_topic.csv "
            "are blank") in r.stdout
    assert "Warning:" not in r.stderr and "tm.fit" not in r.stderr and ".corpus" not in r.stderr, r.stderr   # not Python's
    assert "ctm-nb: warning: --batch-size 64 is larger than the 24 training documents" in r.stderr, r.stderr
    cfg = json.loads((tmp_path / "report" / "config.json").read_text())
    assert cfg["best_epoch"] in (1, 2, 3) and cfg["train_seconds"] > 0 and "seconds" not in cfg["settings"], cfg
    assert f"3 epochs, the model from epoch {cfg['best_epoch']} (lowest validation loss)" in r.stdout
    index = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "<h1>ProdLDA: 2 topics, 32 of 34 documents (2 with no vocabulary words)</h1>" in index and "<b>" not in index
    assert f"the model from epoch {cfg['best_epoch']}" in index and "the pyLDAvis view at λ = 1 ranks them by p(w | k)" in index


def test_errors_name_the_options_not_the_parameters(tmp_path):
    (tmp_path / "docs.txt").write_text("apple banana\ncherry date\n", encoding="utf-8")
    for opt, bad in [("--n-topics", "1"), ("--validation-split", "1")]:
        r = ctm_nb("train", tmp_path / "docs.txt", opt, bad, "--out", tmp_path / "report")
        assert r.returncode != 0 and f"ctm-nb: error: {opt} must be" in r.stderr, r.stderr[-2000:]
        assert opt[2:].replace("-", "_") not in r.stderr and "Traceback" not in r.stderr
