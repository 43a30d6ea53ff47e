"""The import graph of bonafides in numbers: edges between its top-level packages, edges
that go up against the layer order, and import cycles.

The layer order is the one import-linter enforces (``[tool.importlinter]`` in
pyproject.toml), so the numbers of an older tree are counted against today's rule.
Every import counts, including those inside functions that dodge a cycle at import time.

    python scripts/import_graph.py                      # the tree on sys.path
    git archive 308a2fe src | tar -x -C /tmp/before
    python scripts/import_graph.py --src /tmp/before/src
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

ROOT = "bonafides"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def layer_order(pyproject: Path) -> list[list[str]]:
    """The layers contract's modules, top layer first."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "layers":
            return [
                [name.strip() for name in layer.replace("|", ":").split(":")]
                for layer in contract["layers"]
            ]
    raise SystemExit(f"no layers contract in {pyproject}")


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """The index of the layer holding ``module`` (0 is the top), by its longest prefix."""
    best: tuple[int, int] | None = None
    for index, names in enumerate(layers):
        for name in names:
            if (module == name or module.startswith(f"{name}.")) and (
                best is None or len(name) > best[0]
            ):
                best = (len(name), index)
    return None if best is None else best[1]


def unit_of(module: str, layers: list[list[str]]) -> str:
    """The entry of the layers contract that holds ``module`` (``bonafides.security.audit``
    for a module placed alone), else its top-level package."""
    names = [n for layer in layers for n in layer if module == n or module.startswith(f"{n}.")]
    return max(names, key=len) if names else package_of(module)


def package_of(module: str) -> str:
    """The top-level package or module under ``bonafides`` (``bonafides`` for the root)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def strongly_connected(nodes: Iterable[str], edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one member, or with an edge to itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return sorted(found, key=lambda c: (-len(c), c))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, help="Directory holding the bonafides package.")
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT, help="For the layers.")
    parser.add_argument("--list", action="store_true", help="Also list every upward edge.")
    args = parser.parse_args(argv)
    if args.src is not None:
        sys.path.insert(0, str(args.src.resolve()))
    layers = layer_order(args.pyproject)
    graph = grimp.build_graph(ROOT, cache_dir=None)
    modules = sorted(graph.modules)
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in modules}

    between: dict[tuple[str, str], int] = defaultdict(int)
    packages: dict[str, set[str]] = defaultdict(set)
    units: dict[str, set[str]] = defaultdict(set)
    upward: list[tuple[str, str]] = []
    unplaced: set[str] = set()
    for module, imported in imports.items():
        for other in imported:
            source, target = package_of(module), package_of(other)
            if source != target:
                between[(source, target)] += 1
                packages[source].add(target)
            if unit_of(module, layers) != unit_of(other, layers):
                units[unit_of(module, layers)].add(unit_of(other, layers))
            low, high = layer_of(module, layers), layer_of(other, layers)
            if low is None or high is None:
                unplaced.update(m for m, at in ((module, low), (other, high)) if at is None)
                continue
            if high < low:  # index 0 is the top layer: importing a lower index is upward
                upward.append((module, other))

    package_cycles = strongly_connected(packages, packages)
    unit_cycles = strongly_connected(units, units)
    module_cycles = strongly_connected(modules, imports)
    adapters = {"bonafides.api", "bonafides.web", "bonafides.commands"}
    across = sorted((a, b) for a, b in between if a in adapters and b in adapters and a != b)
    print(f"modules: {len(modules)}; imports between modules: {sum(map(len, imports.values()))}")
    print(
        f"edges between top-level packages: {len(between)} pairs, {sum(between.values())} imports"
    )
    upward_pairs = sorted({(package_of(a), package_of(b)) for a, b in upward})
    print(
        f"upward edges (against the layer order): {len(upward)} imports, "
        f"{len(upward_pairs)} package pairs"
    )
    for source, target in upward_pairs:
        count = sum(1 for a, b in upward if package_of(a) == source and package_of(b) == target)
        print(f"  {source} -> {target}: {count}")
    if args.list:
        for module, other in sorted(upward):
            print(f"    {module} -> {other}")
    print(
        "imports between adapters: "
        + (", ".join(f"{a} -> {b}: {between[(a, b)]}" for a, b in across) or "none")
    )
    print(f"package cycles: {len(package_cycles)}")
    for component in package_cycles:
        print(f"  {len(component)} packages: {' '.join(component)}")
    print(f"cycles between the layers contract's entries: {len(unit_cycles)}")
    for component in unit_cycles:
        print(f"  {len(component)}: {' '.join(component)}")
    sizes = [len(c) for c in module_cycles]
    print(f"module cycles: {len(module_cycles)} (modules in them: {sum(sizes)}; sizes {sizes})")
    if args.list:
        for component in module_cycles:
            print(f"  {' '.join(component)}")
    if unplaced:
        print(f"not in any layer: {' '.join(sorted(unplaced))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
