"""The README's dependency rules, checked on the source: which layer may import which.

Every import counts, also those inside functions and under TYPE_CHECKING: a layer that names
another's module knows of it, whether or not the import runs at start-up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "appliance"

FORBIDDEN: dict[str, tuple[str, ...]] = {
    # layer: the prefixes its modules may not import
    "appliance.j1772": ("appliance",),  # except itself, see _allowed
    "appliance.drivers": ("appliance.pilot", "appliance.supervisor", "appliance.simulator", "appliance.scenario"),
    "appliance.pilot": ("appliance.simulator", "appliance.supervisor", "appliance.scenario"),
    "appliance.supervisor": ("appliance.drivers", "appliance.pilot", "appliance.simulator", "appliance.scenario"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(name: str) -> bool:
    return (ROOT / Path(*name.split(".")) / "__init__.py").is_file()


def is_module(name: str) -> bool:
    return is_package(name) or (ROOT / Path(*name.split("."))).with_suffix(".py").is_file()


def imports(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, imported module, whether it came from a package's namespace) for every import in the file."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, False
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if is_module(sub):
                    yield node.lineno, sub, is_package(base)
                else:
                    yield node.lineno, base, False


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _layer(name: str) -> str | None:
    return next((layer for layer in FORBIDDEN if name == layer or name.startswith(layer + ".")), None)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layering_violations(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        here = module_name(path)
        layer = _layer(here)
        if layer is None:
            continue
        for line, target, _ in imports(path):
            if _under(target, layer):
                continue
            if any(_under(target, bad) for bad in FORBIDDEN[layer]):
                found.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports {target}")
    return found


def _reexports(package: str) -> bool:
    """Whether the package's __init__ imports its own modules (and so runs them when it is imported)."""
    init = ROOT / Path(*package.split(".")) / "__init__.py"
    return any(_under(target, package) for _, target, _ in imports(init))


def through_own_package(paths: list[Path]) -> list[str]:
    """A module that takes a sibling from its package's namespace (`from pkg import sibling`) runs
    the package's __init__ first, which imports the module back: import it by its own name."""
    found = []
    for path in paths:
        if path.name == "__init__.py":
            continue
        here = module_name(path)
        for line, target, via_package in imports(path):
            package = target.rpartition(".")[0]
            if via_package and _under(here, package) and _reexports(package):
                found.append(f"{path.relative_to(ROOT)}:{line}: {here} imports {target} through {package}")
    return found


def cycles(paths: list[Path]) -> list[str]:
    """Modules that import each other, directly or around a loop (packages' __init__ re-exports aside)."""
    graph: dict[str, set[str]] = {}
    for path in paths:
        if path.name != "__init__.py":
            targets = {t for _, t, _ in imports(path)}
            graph[module_name(path)] = {t for t in targets if t.startswith("appliance.") and not is_package(t)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[str] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(" <-> ".join(sorted(group)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_layer_imports_only_what_the_readme_allows() -> None:
    assert {_layer(module_name(p)) for p in sources()} >= set(FORBIDDEN)  # the rules see every layer
    assert layering_violations(sources()) == []


def test_no_module_imports_a_sibling_through_its_own_package() -> None:
    assert through_own_package(sources()) == []


def test_no_modules_import_each_other() -> None:
    assert cycles(sources()) == []
