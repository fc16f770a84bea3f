"""Check the package's import graph: no circle (type-only imports count) and no stage importing
the facade (workspace.py) or the click layer (cli.py, commands/). Exit 1 with the offenders.

    python scripts/check_layers.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "curator"
TOP = {"curator.cli", "curator.workspace"}


def graph() -> dict[str, set[str]]:
    mods = {".".join(f.relative_to(ROOT.parent).with_suffix("").parts): f for f in ROOT.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for cur, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = cur.split(".")
                if node.level:
                    base = base[: len(base) - node.level + is_pkg]
                    b = ".".join(base + ([node.module] if node.module else []))
                else:
                    b = node.module or ""
                targets = [b] + [f"{b}.{a.name}" for a in node.names]
            for t in targets:
                t = t.removesuffix(".__init__")
                if t in mods and t != cur:
                    edges[cur].add(t)
                elif f"{t}.__init__" in mods and t != cur.removesuffix(".__init__"):
                    edges[cur].add(f"{t}.__init__")
    return {k.removesuffix(".__init__"): {v.removesuffix(".__init__") for v in vs} for k, vs in edges.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of size > 1 (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            visit(v)
    return out


def problems() -> list[str]:
    g = graph()
    found = [f"import circle: {' -> '.join(c)}" for c in cycles(g)]
    for mod, deps in sorted(g.items()):
        if mod in TOP or mod == "curator" or mod.startswith("curator.commands"):
            continue
        for bad in sorted(d for d in deps if d in TOP or d.startswith("curator.commands")):
            found.append(f"{mod} imports {bad}: a stage must not know the facade or the CLI")
    return found


if __name__ == "__main__":
    issues = problems()
    print("\n".join(issues) or "layers ok: no circle, no stage above its layer")
    sys.exit(1 if issues else 0)
