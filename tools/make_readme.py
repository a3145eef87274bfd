"""Write README.md from nbs/index.ipynb (Quarto's `nbdev-readme` cannot run offline): markdown cells as they are,
code cells as fenced Python, their text outputs as fenced text. `--check` exits 1 when README.md is out of date."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = "https://ctm-nb.github.io/ctm_nb/"   # nbs/nbdev.yml's site-url: the docs pages the README links to

def _site_links(md:str) -> str:
    "Relative links to docs pages (`data.html`, `tutorials/quickstart.html#x`) as absolute links to the docs site."
    return re.sub(r"\]\((?!https?:|#)([\w./-]+\.html(?:#[\w-]*)?)\)", lambda m: f"]({SITE}{m.group(1)})", md)

def _text(x): return "".join(x) if isinstance(x, list) else x

def render(nb_path=ROOT / "nbs" / "index.ipynb") -> str:
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        src = _text(cell["source"]).strip()
        if cell["cell_type"] == "markdown": parts.append(_site_links(src))
        elif cell["cell_type"] == "code" and src and not src.startswith("#|"):
            parts.append(f"```python\n{src}\n```")
            outs = []
            for o in cell.get("outputs", []):
                if o.get("output_type") == "stream" and o.get("name") == "stdout": outs.append(_text(o["text"]))
                elif "data" in o and "text/plain" in o["data"]: outs.append(_text(o["data"]["text/plain"]) + "\n")
            if outs: parts.append("```\n" + "".join(outs).rstrip() + "\n```")
    return "\n\n".join(parts) + "\n"

if __name__ == "__main__":
    txt, readme = render(), ROOT / "README.md"
    if "--check" in sys.argv:
        ok = readme.exists() and readme.read_text(encoding="utf-8") == txt
        print("README.md is up to date" if ok else "README.md is out of date: run python tools/make_readme.py")
        sys.exit(0 if ok else 1)
    readme.write_text(txt, encoding="utf-8")
    print(f"wrote {readme}")
