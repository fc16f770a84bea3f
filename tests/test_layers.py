"""The layers hold: no import circle (type-only imports included), no stage importing the facade
or the click layer, no module far over ~400 lines."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_layers", REPO / "scripts" / "check_layers.py")
check_layers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_layers)


def test_no_circle_and_no_stage_above_its_layer():
    assert check_layers.problems() == []


def test_the_checker_sees_a_circle():
    assert check_layers.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]



def test_modules_stay_small():
    big = {str(p.relative_to(REPO)): n for p in (REPO / "curator").rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not big, f"modules over 450 lines (split them by job): {big}"


def test_the_command_line_starts_without_pandas():
    """pandas costs ~0.45 s to import; commands that never build a frame (dedup, cluster, embed)
    must not pay it at start-up: it is imported where a frame is made."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import sys, curator.cli; print(sorted(m for m in sys.modules"
                          " if m.split('.')[0] in ('pandas', 'torch', 'sklearn', 'faiss')))"],
                         capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stdout
