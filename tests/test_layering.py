"""The package's layering: no import cycles between modules, and no arrow from a lower layer to a
higher one. Every import counts, also those inside functions (a deferred import is still a
dependency). A new top-level module or package must be given its layer here."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "jericho_cli"

# lower layers first; a module may import its own layer (no cycles) and any lower one, nothing above
LAYERS = [
    {"errors", "logs", "runtime"},
    {"io"},           # file contracts: audio, manifests, checkpoints, atomic writes
    {"config"},       # every configuration default
    {"data"},         # codebook, renderers, task generators, splits
    {"scoring"},      # the ear and the metrics
    {"model", "reporting"},
    {"inference"},    # decode: a checkpoint answers audio
    {"training"},
    {"analysis"},     # probe and prune
    {"commands"},
    {"cli"},
    {"__main__"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PACKAGE.rglob("*.py"):
        parts = list(p.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    return mods


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph = {}
    for name, path in mods.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else (node.module or "")
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                while t and t not in mods and "." in t:
                    t = t.rsplit(".", 1)[0]
                if t in mods and t != name and t != "jericho_cli":
                    deps.add(t)
        graph[name] = deps
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_module_has_a_layer():
    unplaced = {_layer(m) for m in _modules()} - set(RANK) - {"jericho_cli"}
    assert not unplaced, f"give these a layer in LAYERS: {sorted(unplaced)}"


def test_no_import_points_up_a_layer():
    graph = _imports(_modules())
    upward = sorted(f"{a} -> {b}" for a, deps in graph.items() for b in deps
                    if RANK.get(_layer(a), -1) < RANK.get(_layer(b), -1))
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = _imports(_modules())
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_deferred_and_relative_imports():
    graph = _imports(_modules())
    assert "jericho_cli.commands.base" in graph["jericho_cli.commands.split"]  # `from .base import ...`
    assert "jericho_cli.data.partition" in graph["jericho_cli.commands.split"]  # inside the function
