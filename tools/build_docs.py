r"""Build the docs site offline, without Quarto: every page of `nbs/` as static HTML with navigation and math.

The real site is built by Quarto, locally or in `.github/workflows/deploy.yaml`:

    pip install -e ".[dev]"
    nbdev-docs --file-re '\.(?:ipynb|qmd|md|html)$'   # installs Quarto on first use (needs the internet) -> _docs/
    nbdev-preview                                      # live preview while you edit

(`--file-re` adds .md pages to nbdev's generated sidebar, which by default lists only notebooks, .qmd and .html.)

Where Quarto cannot be installed (no internet), build the same pages offline:

    python tools/build_docs.py                  # -> _site_offline/index.html (git-ignored)
    python tools/build_docs.py --out DIR --force   # --force: reprocess every notebook, not only changed ones

The pages are those Quarto renders: every notebook under nbs/ (subfolders included) and every `.md`/`.qmd` page,
skipping names that start with `_` or `.`. Each notebook goes through nbdev's own docs processing (the processors
`nbdev-docs` runs before Quarto: front matter, `show_doc` for every exported name, backtick links to the API, hidden
and exported cells removed), which runs the cells `show_doc` needs, never whole notebooks. The stored cell outputs are
kept: text, images, HTML (the pyLDAvis views, which ctm_nb embeds as self-contained `<iframe srcdoc>`); widgets,
which need a kernel, become a note. pandoc (the `pypandoc-binary` package, in the `dev` extra) turns each page into
HTML with MathML, which browsers render without any script. The sidebar is nbdev's own (`nbdev-sidebar`): chapters in
order, one section per subfolder (Tutorials). Links to notebooks (`03_model.ipynb`), to pages (`model.html`) and
nbdev's links to the hosted site all point into the built site; remote images become their alt text, so nothing is
fetched from the network. `tests/test_docs.py` opens every built page in headless Chromium, offline.
"""
import argparse, contextlib, html, io, os, re, shutil, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE_RE = r"\.(?:ipynb|md|qmd)$"
SOURCE_SUFFIXES = {".ipynb", ".md", ".qmd", ".yml", ".yaml", ".py", ".toml"}
MIME_ORDER = ("application/vnd.jupyter.widget-view+json", "text/html", "text/markdown", "image/svg+xml", "text/latex",
              "image/png", "image/jpeg", "image/gif", "text/plain")
ANSI = re.compile(r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])")

def pandoc_path() -> str:
    "The pandoc executable: from `pypandoc-binary`, else one on PATH."
    try:
        import pypandoc
        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        if shutil.which("pandoc"): return shutil.which("pandoc")
        raise RuntimeError("pandoc not found: pip install pypandoc-binary (it is in the dev extra: pip install -e '.[dev]')")

# --- pages and navigation ---------------------------------------------------------------------------------------------
def find_pages(nbs:Path) -> list[Path]:
    "Every page Quarto would render: notebooks and .md/.qmd under `nbs`, without `_`/`.` files or folders."
    from nbdev.doclinks import nbglob
    return sorted(Path(p) for p in nbglob(nbs, file_glob=None, file_re=PAGE_RE))

def sidebar(nbs:Path) -> list:
    "nbdev's generated sidebar (`nbdev-sidebar`) for `nbs`, .md pages included: a list of paths and sections."
    from nbdev.quarto import nbdev_sidebar
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        nbdev_sidebar.__wrapped__(path=str(nbs), printit=True, force=True, file_glob=None, file_re=PAGE_RE)
    return yaml.safe_load(buf.getvalue())["website"]["sidebar"]["contents"]

def out_name(src:Path, nbs:Path) -> Path:
    "Where Quarto puts page `src` (relative to the site): notebooks lose their number prefix, like nbdev's `output-file`."
    from nbdev.config import nbpath2html
    rel = src.relative_to(nbs)
    return nbpath2html(rel) if src.suffix == ".ipynb" else rel.with_suffix(".html")

# --- nbdev processing -------------------------------------------------------------------------------------------------
def process(pages:list[Path], nbs:Path, cache:Path, workers:int=1, force:bool=False) -> dict:
    "Run nbdev's docs processors on every notebook (in `workers` processes, or this one); returns source -> processed file."
    import nbdev.serve_drv
    from fastcore.parallel import parallel
    from nbdev.processors import FilterDefaults
    deps = [Path(__file__), ROOT / "pyproject.toml", *ROOT.glob("*/_modidx.py")]   # the API links change with _modidx
    stamp = max(p.stat().st_mtime for p in deps)
    done, todo = {}, []
    for s in pages:
        d = cache / s.relative_to(nbs); done[s] = d
        if s.suffix != ".ipynb": continue
        if force or not d.exists() or d.stat().st_mtime < max(s.stat().st_mtime, stamp):
            d.parent.mkdir(parents=True, exist_ok=True); todo.append((s, d, FilterDefaults))
    if workers <= 1 or len(todo) <= 1:   # in this process: imports the notebooks run are shared between them
        for o in todo: nbdev.serve_drv.main(o)
    elif todo: parallel(nbdev.serve_drv.main, todo, n_workers=min(workers, len(todo)), pause=0.01, method="spawn")
    return done

# --- notebook -> pandoc markdown --------------------------------------------------------------------------------------
def _txt(x) -> str: return "".join(x) if isinstance(x, list) else (x or "")

def _fence(s:str, ch:str="`") -> str:
    "A fence longer than any run of `ch` inside `s`."
    return ch * max([3] + [len(m) + 1 for m in re.findall(f"{re.escape(ch)}{{3,}}", s)])

def _raw(h:str) -> str:
    f = _fence(h)
    return f"{f}{{=html}}\n{h}\n{f}\n\n"

def _pre(text:str, cls:str) -> str:
    return _raw(f'<pre class="cell-output {cls}"><code>{html.escape(ANSI.sub("", text))}</code></pre>')

def _directives(src:str) -> tuple[dict, str]:
    "Split Quarto cell options (`#| key: value` lines at the top) from the code."
    opts, lines = {}, src.splitlines()
    while lines and (m := re.match(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$", lines[0])):
        opts[m[1]] = m[2].strip("\"'"); lines.pop(0)
    return opts, "\n".join(lines).strip("\n")

def output_md(o:dict, asis:bool=False) -> str:
    "Pandoc markdown for one stored output."
    kind = o.get("output_type")
    if kind == "stream": return _pre(_txt(o.get("text")), f"cell-output-{o.get('name', 'stdout')}")
    if kind == "error":
        tb = "\n".join(o.get("traceback") or []) or f"{o.get('ename')}: {o.get('evalue')}"
        return _pre(tb, "cell-output-error")
    data, meta = o.get("data", {}), o.get("metadata", {})
    mime = next((m for m in MIME_ORDER if m in data), None)
    if mime is None: return ""
    v = _txt(data[mime])
    if mime.startswith("application/vnd.jupyter.widget"):
        return _raw('<div class="cell-output widget-placeholder">Interactive widget: run this notebook in Jupyter or '
                    'Colab to use it.</div>')
    if mime == "text/html": return _raw(f'<div class="cell-output cell-output-display">{v}</div>')
    if mime == "image/svg+xml": return _raw(f'<div class="cell-output cell-output-display">{v}</div>')
    if mime == "text/markdown": return f"{v}\n\n" if asis else f":::: {{.cell-output .cell-output-markdown}}\n{v}\n::::\n\n"
    if mime == "text/latex": return f"{v}\n\n"
    if mime.startswith("image/"):
        size = "".join(f' {k}="{meta[mime][k]}"' for k in ("width", "height") if k in meta.get(mime, {}))
        b64 = re.sub(r"\s", "", v)
        return _raw(f'<div class="cell-output cell-output-display"><img src="data:{mime};base64,{b64}" alt="output"{size}></div>')
    return _pre(v, "cell-output-stdout")

def notebook_md(nb:dict) -> tuple[dict, str]:
    "Front matter and pandoc markdown of a processed notebook, honouring Quarto's echo/output/include/code-fold options."
    meta, parts = {}, []
    for c in nb["cells"]:
        src = _txt(c.get("source"))
        if c["cell_type"] == "raw":
            m = re.match(r"^---\n(.*?)\n---\s*$", src, re.S)
            if m and not meta: meta = yaml.safe_load(m[1]) or {}
            continue
        if c["cell_type"] == "markdown":
            for name, a in (c.get("attachments") or {}).items():
                mime, b64 = next(iter(a.items()))
                src = src.replace(f"attachment:{name}", f"data:{mime};base64,{_txt(b64)}")
            parts.append(src + "\n\n"); continue
        opts, code = _directives(src)
        if opts.get("include") == "false": continue
        if code and opts.get("echo") != "false":
            f = _fence(code)
            block = f"{f}{{.python .cell-code}}\n{code}\n{f}\n\n"
            if "code-fold" in opts:
                summary = html.escape(opts.get("code-summary", "Code"))
                block = (f"<details{' open' if opts['code-fold'] == 'show' else ''}><summary>{summary}</summary>\n\n"
                         f"{block}</details>\n\n")
            parts.append(block)
        if opts.get("output") != "false":
            parts += [output_md(o, asis=opts.get("output") == "asis") for o in c.get("outputs", [])]
    return meta, "".join(parts)

def page_md(src:Path, processed:Path) -> tuple[dict, str]:
    "Front matter and markdown of one page (a processed notebook, or a .md/.qmd file)."
    if src.suffix == ".ipynb":
        import json
        return notebook_md(json.loads(processed.read_text(encoding="utf-8")))
    text = re.sub(r"^(`{3,})\{(\w)", r"\1{.\2", src.read_text(encoding="utf-8"), flags=re.M)   # ```{python} chunks: code
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    return ((yaml.safe_load(m[1]) or {}), text[m.end():]) if m else ({}, text)

def _title(meta:dict, md:str, src:Path) -> str:
    if meta.get("title"): return str(meta["title"])
    m = re.search(r"^#\s+(.+?)\s*$", md, re.M)
    return m[1] if m else src.stem

# --- HTML ------------------------------------------------------------------------------------------------------------
TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$pagetitle$ – $site$</title>
<style>
$highlighting-css$
</style>
<link rel="stylesheet" href="$root$site.css">
</head>
<body>
<nav id="sidebar">@@NAV@@</nav>
<main id="content">
$if(title)$
<header id="title-block-header">
<h1 class="title">$title$</h1>
$if(description)$
<div class="description">$description$</div>
$endif$
</header>
$endif$
$body$
</main>
$if(toc)$
<nav id="TOC"><h2>On this page</h2>
$toc$
</nav>
$endif$
</body>
</html>
"""

CSS = """
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529; display: grid;
       grid-template-columns: 16rem minmax(0, 1fr) 14rem; }
#sidebar { position: sticky; top: 0; height: 100vh; overflow-y: auto; background: #f7f7f9; padding: 1rem;
           border-right: 1px solid #dee2e6; box-sizing: border-box; font-size: 0.92rem; }
#sidebar .site-title { font-size: 1.25rem; font-weight: 600; display: block; margin-bottom: 1rem; }
#sidebar ul { list-style: none; padding-left: 0; margin: 0; } #sidebar ul ul { padding-left: 0.8rem; }
#sidebar li { margin: 0.25rem 0; } #sidebar .section { font-weight: 600; margin-top: 0.9rem; }
#sidebar a.active { font-weight: 600; color: #212529; }
#content { padding: 1.5rem 2.5rem 4rem; min-width: 0; }
#TOC { position: sticky; top: 0; height: 100vh; overflow-y: auto; padding: 1rem; font-size: 0.85rem;
       box-sizing: border-box; border-left: 1px solid #dee2e6; }
#TOC h2 { font-size: 0.95rem; } #TOC ul { list-style: none; padding-left: 0.7rem; }
a { color: #2780e3; text-decoration: none; } a:hover { text-decoration: underline; }
pre { overflow-x: auto; background: #f8f9fa; padding: 0.6rem 0.8rem; border-radius: 4px; font-size: 0.85rem; }
code { font-size: 0.9em; } div.sourceCode { margin: 1rem 0 0.3rem; }
pre.cell-output { background: none; border-left: 2px solid lightsalmon; margin: 0 0 1rem 0.8rem; border-radius: 0; }
pre.cell-output-stderr { border-left-color: #f0ad4e; } pre.cell-output-error { border-left-color: #d9534f; color: #a94442; }
.cell-output-display { overflow-x: auto; margin: 0 0 1rem; } .cell-output-display img { max-width: 100%; height: auto; }
.cell-output-display:has(> iframe[title="pyLDAvis"]) { overflow: visible; }   /* the view is 1210 px wide: let it */
iframe[title="pyLDAvis"] { position: relative; z-index: 2; background: white; min-width: 1230px !important; }
.widget-placeholder { border: 1px dashed #adb5bd; padding: 0.6rem 0.8rem; color: #6c757d; font-style: italic; margin: 0 0 1rem; }
.remote-img { display: inline-block; border: 1px solid #adb5bd; border-radius: 3px; padding: 0 0.4rem; font-size: 0.8rem; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { border-bottom: 1px solid #dee2e6; padding: 0.25rem 0.6rem; }
hr { border: 0; border-top: 1px solid #dee2e6; margin: 2rem 0 1rem; }
details > summary { cursor: pointer; color: #6c757d; font-size: 0.9rem; }
div[class*="callout"] { border-left: 4px solid #2780e3; background: #f3f8fe; padding: 0.5rem 1rem; margin: 1rem 0; }
div.callout-warning, div.callout-caution { border-left-color: #f0ad4e; background: #fff8ec; }
math[display="block"] { margin: 0.6rem 0; overflow-x: auto; }
@media (max-width: 1100px) { body { grid-template-columns: 14rem minmax(0, 1fr); } #TOC { display: none; } }
"""

def _rel(target:str, page:str) -> str:
    "Relative URL from site page `page` to site path `target` (both relative to the site root)."
    return os.path.relpath(target, os.path.dirname(page) or ".").replace(os.sep, "/")

def nav_html(items:list, titles:dict, names:dict, page:str, site:str) -> str:
    "The sidebar: the site title, then nbdev's sidebar items (sections for subfolders), links relative to `page`."
    def link(out, label):
        active = ' class="active"' if out == page else ""
        return f'<a href="{_rel(out, page)}"{active}>{label}</a>'
    def li(it):
        if isinstance(it, dict):   # a subfolder; its index page, if any, is the section's link (as in Quarto)
            head = html.escape(str(it.get("section", "")).replace("_", " ").title())
            if str(it.get("href")) in names: head = link(names[str(it["href"])], head)
            return f'<li><div class="section">{head}</div><ul>{"".join(li(x) for x in it.get("contents", []))}</ul></li>'
        out = names.get(str(it))
        if out is None: return ""
        label = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(titles[out]))
        return f"<li>{link(out, label)}</li>"
    return (f'<a class="site-title" href="{_rel("index.html", page)}">{html.escape(site)}</a>'
            f'<ul>{"".join(li(it) for it in items)}</ul>')

def fix_links(h:str, page:str, src_dir:str, names:dict, site_url:str) -> str:
    """Point links into the built site: hosted-site URLs and links to `.ipynb`/`.md`/`.qmd` sources become relative
    links to their pages; remote images become their alt text (the site must work offline)."""
    def url(m):
        attr, u = m[1], html.unescape(m[2])
        if site_url and u.startswith(site_url + "/"):
            path, _, frag = u[len(site_url) + 1:].partition("#")
            return f'{attr}="{html.escape(_rel(path or "index.html", page) + (("#" + frag) if frag else ""))}"'
        parts = urlsplit(u)
        if parts.scheme or parts.netloc or not parts.path: return m[0]
        target = os.path.normpath(os.path.join(src_dir, parts.path)).replace(os.sep, "/")
        if re.search(PAGE_RE, parts.path) and target in names:
            return f'{attr}="{html.escape(_rel(names[target], page) + (("#" + parts.fragment) if parts.fragment else ""))}"'
        return m[0]
    h = re.sub(r'\b(href|src)="([^"]*)"', url, h)
    def remote_img(m):
        alt = re.search(r'\balt="([^"]*)"', m[0])
        return f'<span class="remote-img">{alt[1] if alt and alt[1] else "image"}</span>'
    return re.sub(r'<img\b[^>]*\bsrc="https?://[^"]*"[^>]*>', remote_img, h)

# --- build -------------------------------------------------------------------------------------------------------------
def build(nbs=None, # folder of notebooks and pages (default: the project's `nbs_path`)
          out=None, # output folder (default: `_site_offline/` at the project root)
          workers:int=1, # processes for nbdev's processing (1: in this process, usually fastest: imports are shared)
          force:bool=False, # reprocess every notebook, ignoring the cache in `out/.proc`
          quiet:bool=False,
         ) -> dict: # site path of every page built -> its source file
    "Build the offline docs site; returns the pages built."
    from nbdev.config import get_config
    t0 = time.perf_counter()
    with contextlib.chdir(ROOT):   # nbdev's processors read the project config from the working directory
        cfg = get_config()
        nbs = Path(nbs or cfg.nbs_path).resolve()
        out = Path(out or ROOT / "_site_offline").resolve()
        pages = find_pages(nbs)
        if not pages: raise FileNotFoundError(f"no notebooks or .md/.qmd pages in {nbs}")
        names = {str(p.relative_to(nbs)): out_name(p, nbs).as_posix() for p in pages}
        dup = {v for v in names.values() if list(names.values()).count(v) > 1}
        if dup: raise ValueError(f"two sources would build the same page: {sorted(dup)}")
        out.mkdir(parents=True, exist_ok=True)
        processed = process(pages, nbs, out / ".proc", workers, force)
        items = sidebar(nbs)
    for f in nbs.rglob("*"):   # images and other files the pages may use
        rel = f.relative_to(nbs)
        if f.is_file() and f.suffix not in SOURCE_SUFFIXES and not any(p[0] in "_." for p in rel.parts):
            (out / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, out / rel)
    css = CSS + ((nbs / "styles.css").read_text() if (nbs / "styles.css").exists() else "")
    (out / "site.css").write_text(css, encoding="utf-8")
    template = out / ".proc" / "template.html"; template.write_text(TEMPLATE, encoding="utf-8")
    for f in out.rglob("*.html"):   # pages of notebooks since deleted or renamed
        rel = f.relative_to(out)
        if rel.parts[0] != ".proc" and rel.as_posix() not in names.values() and not (nbs / rel).exists(): f.unlink()
    docs = {str(p.relative_to(nbs)): page_md(p, processed[p]) for p in pages}
    titles = {names[k]: _title(m, md, Path(k)) for k, (m, md) in docs.items()}
    site, site_url = cfg.title or cfg.lib_name, (cfg.doc_host + cfg.doc_baseurl).rstrip("/")
    pandoc = pandoc_path()

    def render(k):
        (meta, md), page = docs[k], names[k]
        args = [pandoc, "-f", "markdown", "-t", "html5", "-s", "--template", str(template), "--mathml", "--toc",
                "--toc-depth=3", "--syntax-highlighting=pygments", "-V", f"root={'../' * page.count('/')}",
                "-V", f"site={site}", "-M", f"pagetitle={titles[page]}"]
        if not meta.get("title") and not re.search(r"^#\s", md, re.M):   # else the page's first heading is its title
            args += ["-M", f"title={titles[page]}"]
        fm = f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n\n" if meta else ""
        r = subprocess.run(args, input=fm + md, capture_output=True, text=True, encoding="utf-8")
        if r.returncode: raise RuntimeError(f"pandoc failed on {k}:\n{r.stderr}")
        h = r.stdout.replace("@@NAV@@", nav_html(items, titles, names, page, site), 1)
        h = fix_links(h, page, os.path.dirname(k), names, site_url)
        (out / page).parent.mkdir(parents=True, exist_ok=True)
        (out / page).write_text(h, encoding="utf-8")
        if "cell-output-error" in h: print(f"warning: {k} has an error output", file=sys.stderr)
    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as ex: list(ex.map(render, docs))
    if not quiet: print(f"built {len(docs)} pages from {nbs} in {time.perf_counter() - t0:.1f} s: {out / 'index.html'}")
    return {names[k]: nbs / k for k in docs}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nbs", help="folder of notebooks and pages (default: nbs_path from pyproject.toml)")
    p.add_argument("--out", help="output folder (default: _site_offline/)")
    p.add_argument("--workers", type=int, default=1, help="processes for nbdev's notebook processing (default 1: in this process)")
    p.add_argument("--force", action="store_true", help="reprocess every notebook (ignore the cache in OUT/.proc)")
    a = p.parse_args(argv)
    build(a.nbs, a.out, a.workers, a.force)

if __name__ == "__main__": main()
