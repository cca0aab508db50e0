"""The package's layering: specs, data and metrics are plain Python (no torch at import), and no module
of ``flamingo_eval`` imports itself back through others (no import cycle).

Both are read from the source, the way a reader would check them: the torch-free modules are imported
in a fresh interpreter where torch and transformers cannot be imported; the import graph is parsed
with ``ast`` from the files, without running them.
"""

from __future__ import annotations

import ast
import functools
import pkgutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import flamingo_eval

PACKAGE = "flamingo_eval"
ROOT = Path(flamingo_eval.__file__).resolve().parent

# Modules that must import without torch: the spec layer, every data reader, the metrics. (The demo
# generator, the model and the engine need torch; the media readers do not, only their *_to_tensor.)
TORCH_FREE = (
    "flamingo_eval.benchmark",
    "flamingo_eval.spec_io",
    "flamingo_eval.registry",
    "flamingo_eval.locations",
    "flamingo_eval.errors",
    "flamingo_eval.model.spec",
    "flamingo_eval.model.config",
    "flamingo_eval.metrics",
    "flamingo_eval.prompting.postprocess",
    "flamingo_eval.prompting.render",
)


@functools.cache
def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name -> file (a package by its ``__init__.py``), found
    on disk (``pkgutil.iter_modules`` folder by folder) rather than by importing the packages."""
    found = {PACKAGE: ROOT / "__init__.py"}

    def walk(folder: Path, prefix: str) -> None:
        for info in pkgutil.iter_modules([str(folder)]):
            name = f"{prefix}.{info.name}"
            if info.ispkg:
                found[name] = folder / info.name / "__init__.py"
                walk(folder / info.name, name)
            else:
                found[name] = folder / f"{info.name}.py"

    walk(ROOT, PACKAGE)
    return found


def test_spec_data_and_metrics_import_without_torch() -> None:
    """With torch and transformers unimportable, the spec layer, everything under ``data`` and the
    metrics import, and every built-in benchmark and model spec reads."""
    data_modules = sorted(name for name in modules() if name == "flamingo_eval.data" or name.startswith("flamingo_eval.data."))
    script = textwrap.dedent(f"""
        import importlib, sys

        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "transformers"):
                    raise ImportError(f"{{name}} is blocked: this module must not need it at import")
                return None

        sys.meta_path.insert(0, NoTorch())
        for name in {[*TORCH_FREE, *data_modules]!r}:
            importlib.import_module(name)
        from flamingo_eval.benchmark import builtin_benchmarks, get_benchmark
        from flamingo_eval.model.spec import builtin_specs, get_spec
        for name in builtin_benchmarks():
            get_benchmark(name)
        for name in builtin_specs():
            get_spec(name)
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("torch", "transformers"))
        assert not loaded, loaded
        print("ok", len(builtin_benchmarks()), len(builtin_specs()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok")


def _source(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name of the module a ``from ... import`` reads from (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _import_nodes(body: list[ast.stmt], *, module_level_only: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements in ``body``. With ``module_level_only``, those that run when the module is
    imported: not inside functions (run only when called), nor under ``if TYPE_CHECKING:`` (never run)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif module_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif module_level_only and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _import_nodes(node.orelse, module_level_only=True)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from _import_nodes(getattr(node, field, []), module_level_only=module_level_only)


def _imports(module: str, path: Path, *, module_level_only: bool) -> set[str]:
    """The ``flamingo_eval`` modules that ``module`` imports by name (absolute or relative);
    ``from X import y`` counts as importing ``X.y`` when that is a module, else ``X``."""
    known = modules()
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _import_nodes(tree.body, module_level_only=module_level_only):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
            continue
        source = _source(module, path.name == "__init__.py", node)
        for alias in node.names:
            candidate = f"{source}.{alias.name}"
            found.add(candidate if candidate in known else source)
    found.discard(module)
    return found & set(known)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``a -> b -> ... -> a``) for each group of modules that import each other (Tarjan's
    strongly connected components, each with more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_one_cycle(graph, group) for group in groups]


def _one_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest way round from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    return paths[node] + [start]
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a group always has one


def test_no_import_cycle() -> None:
    """No module imports itself back through others, counting module-level imports (those that run
    when the module is imported, ``if TYPE_CHECKING:`` blocks left out).

    Imports inside functions are not counted: they run later, when the function is called, so they
    cannot stop a module from importing (the lazy imports that keep torch out of the spec layer are
    of this kind); ``test_every_import_names_a_module`` checks that they still name real modules.
    """
    graph = {name: _imports(name, path, module_level_only=True) for name, path in modules().items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_every_import_names_a_module() -> None:
    """Every ``flamingo_eval`` import, at module level or inside a function, names a module or a
    package of the package (a lazy import left behind by a move fails here, not in a user's run)."""
    known = modules()
    missing = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree.body, module_level_only=False):
            if isinstance(node, ast.Import):
                sources = [alias.name for alias in node.names]
            else:
                sources = [_source(name, path.name == "__init__.py", node)]
            missing += [f"{name}:{node.lineno}: {source}" for source in sources if source.split(".")[0] == PACKAGE and source not in known]
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(missing)
