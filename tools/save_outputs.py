"""Run chapters and store their outputs for the docs site, with progress bars shown as they ended.

    python tools/save_outputs.py                      # every chapter nbs/NN_*.ipynb
    python tools/save_outputs.py nbs/05_ctm.ipynb     # some notebooks
    python tools/save_outputs.py --tidy-only nbs/tutorials/02_20newsgroups.ipynb   # only settle the progress bars

The docs build never executes a notebook: a page shows the outputs stored in it. This runs each notebook with
`nbdev-test --save`, then rewrites every text stream the way a terminal would have left it: a tqdm bar redraws itself
with carriage returns, and only its last state is kept. Finally `nbdev-clean` normalises the metadata.
"""
from __future__ import annotations
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def settle(text:str) -> str:
    """What a terminal shows after printing `text`: on each line, only what follows the last carriage return that has
    something after it (a carriage return at the end of a line, as in "\\r\\n", erases nothing)."""
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))

def tidy(path:Path) -> int:
    "Settle the carriage returns of every stream output in the notebook at `path`; returns how many changed."
    nb = json.loads(path.read_text())
    changed = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream": continue
            text = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
            new = settle(text)
            if new != text:
                out["text"] = new.splitlines(keepends=True); changed += 1
    if changed: path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed

def main(args:list[str]):
    tidy_only = "--tidy-only" in args
    nbs = [Path(p) for p in args if p != "--tidy-only"] or sorted((ROOT / "nbs").glob("[0-9][0-9]_*.ipynb"))
    for p in nbs:
        if tidy_only: print(f"{p.name}: {tidy(p)} progress outputs settled"); continue
        r = subprocess.run(["nbdev-test", str(p), "--save"], capture_output=True, text=True)
        if r.returncode: sys.exit(f"{p}: nbdev-test failed, outputs not saved\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
        print(f"{p.name}: saved; {tidy(p)} progress outputs settled", flush=True)
    subprocess.run(["nbdev-clean"], check=True, cwd=ROOT)

if __name__ == "__main__": main(sys.argv[1:])
