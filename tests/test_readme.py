"The README is generated from nbs/index.ipynb and names the two set-up commands that .ci/run uses."
import re, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from make_readme import render

def test_readme_matches_index():
    assert (ROOT / "README.md").read_text(encoding="utf-8") == render(), "run: python tools/make_readme.py"

def test_two_setup_commands_and_ci_uses_the_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up")[1].split("## ")[0]
    commands = re.findall(r"```bash\n(.*?)\n```", setup, re.S)
    assert len(commands) == 2 and "ctm-nb demo" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
