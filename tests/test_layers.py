"""The layout reads like the process, and imports only point down it: models, then the store
and the clinical library, the derived state, the stages, the review engine, sharing, and the
command line on top. A lower layer importing a higher one fails here, with the line."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "casectl"

# Each part of casectl and its layer; a module may import its own layer or any lower one.
LAYERS = {
    "casectl.errors": 0,
    "casectl.dates": 0,
    "casectl.ids": 0,
    "casectl.text": 0,
    "casectl.config": 0,
    "casectl.batch": 0,
    "casectl.models": 1,
    "casectl.clinical": 2,
    "casectl.store": 2,
    "casectl.state": 3,
    "casectl.stages": 4,
    "casectl.review": 5,
    "casectl.share": 6,
    "casectl.demo": 6,
    "casectl.cli": 7,
    "casectl.__main__": 7,
}
# Parts of one layer that stay apart: the clinical library knows nothing of files.
APART = {("casectl.clinical", "casectl.store")}


def _part(module: str) -> str | None:
    for name in sorted(LAYERS, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(node.lineno, n) for n in names if n.startswith("casectl")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("casectl")]
    return found


def test_every_module_belongs_to_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if module != "casectl.__init__" and not module.endswith("__init__"):
            assert _part(module) is not None, f"{module}: add it to LAYERS"


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        own = _part(module.removesuffix(".__init__"))
        if own is None:
            continue
        for line, name in _imports(path):
            other = _part(name)
            if other is None or other == own:
                continue
            if LAYERS[other] > LAYERS[own] or (own, other) in APART or (other, own) in APART:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {own} imports {name}")
    assert wrong == []
