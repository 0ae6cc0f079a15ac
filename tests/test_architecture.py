"""Import hygiene: dependencies point one way (see README "Architecture").

- nothing outside scorecard/tui imports textual;
- metrics and scoring do no I/O (no store, sync, sources, httpx, keyring, os);
- only secrets.py touches keyring;
- the core never imports the TUI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scorecard"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (top level or lazily)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def uses(names: set[str], prefix: str) -> bool:
    return any(n == prefix or n.startswith(prefix + ".") for n in names)


def test_modules_found() -> None:
    assert any(rel(p) == "scorecard/metrics/__init__.py" for p in MODULES)


def module_files(name: str) -> list[Path]:
    """The files of scorecard module ``name``: one file, or every file of its package."""
    single = PACKAGE / f"{name}.py"
    return [single] if single.exists() else sorted((PACKAGE / name).glob("*.py"))


PURE = ("metrics", "classes", "scoring", "bands", "model")
PURE_FILES = [path for name in PURE for path in module_files(name)]


@pytest.mark.parametrize("path", [p for p in MODULES if "tui" not in p.parts], ids=rel)
def test_only_tui_imports_textual(path: Path) -> None:
    names = imported(path)
    assert not uses(names, "textual"), f"{rel(path)} imports textual"
    assert not uses(names, "scorecard.tui") or rel(path) == "scorecard/cli.py"


@pytest.mark.parametrize("path", PURE_FILES, ids=rel)
def test_pure_modules_do_no_io(path: Path) -> None:
    name = rel(path)
    names = imported(path)
    for forbidden in (
        "scorecard.store",
        "scorecard.sync",
        "scorecard.sources",
        "scorecard.secrets",
        "scorecard.export",
        "scorecard.service",
        "httpx",
        "keyring",
        "os",
        "shutil",
        "pyarrow",
    ):
        assert not uses(names, forbidden), f"{name}.py imports {forbidden}"


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_only_secrets_touches_keyring(path: Path) -> None:
    if rel(path) != "scorecard/secrets.py":
        assert not uses(imported(path), "keyring")


@pytest.mark.parametrize("path", list((PACKAGE / "sources").glob("*.py")), ids=rel)
def test_sources_do_not_reach_up(path: Path) -> None:
    names = imported(path)
    for upward in ("scorecard.scoring", "scorecard.metrics", "scorecard.export", "scorecard.sync"):
        assert not uses(names, upward), f"{rel(path)} imports {upward}"


@pytest.mark.parametrize("path", PURE_FILES, ids=rel)
def test_metrics_never_groupby_apply(path: Path) -> None:
    assert ".apply(" not in path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- size and shape

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 60

LONG_FUNCTIONS: dict[str, int] = {}
"""Functions allowed over MAX_FUNCTION_LINES for now ("module:qualname" -> lines):
a short list that may only shrink."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULE_NAMES = {module_name(p): p for p in MODULES}


def functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    """(qualified name, lines) of every function and method, nested ones too."""
    found: list[tuple[str, int]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{node.name}"
            found.append((name, (node.end_lineno or node.lineno) - node.lineno + 1))
            found.extend(functions(node, name + "."))
        elif isinstance(node, ast.ClassDef):
            found.extend(functions(node, f"{prefix}{node.name}."))
    return found


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_files_are_at_most_600_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES, f"{rel(path)} has {lines} lines: split it by responsibility"


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_functions_are_at_most_60_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    too_long = []
    for name, lines in functions(tree):
        allowed = LONG_FUNCTIONS.get(f"{module_name(path)}:{name}", MAX_FUNCTION_LINES)
        if lines > allowed:
            too_long.append(f"{name} ({lines} lines)")
    assert not too_long, f"{rel(path)}: over {MAX_FUNCTION_LINES} lines: {', '.join(too_long)}"


def test_long_function_allow_list_is_current() -> None:
    """Every allow-listed function still exists and still needs its allowance."""
    actual = {
        f"{module_name(p)}:{name}": lines
        for p in MODULES
        for name, lines in functions(ast.parse(p.read_text(encoding="utf-8")))
    }
    for key, allowed in LONG_FUNCTIONS.items():
        assert key in actual, f"{key} is allow-listed but gone: remove it from LONG_FUNCTIONS"
        assert MAX_FUNCTION_LINES < actual[key] <= allowed, f"{key}: update LONG_FUNCTIONS"


# --------------------------------------------------------------------------- private names


def private_uses(path: Path) -> list[str]:
    """Private names (``_x``) this module takes from another scorecard module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}  # local name -> scorecard module it stands for
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("scorecard"):
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in MODULE_NAMES:
                    aliases[alias.asname or alias.name] = full
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("scorecard") and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{aliases[node.value.id]}.{node.attr}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_no_private_names_across_modules(path: Path) -> None:
    assert not private_uses(path), f"{rel(path)} uses private names: {private_uses(path)}"


# --------------------------------------------------------------------------- import graph


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs: all of the file but ``if TYPE_CHECKING:`` blocks."""
    nodes: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def with_packages(modules: set[str]) -> set[str]:
    """``modules`` plus the packages importing them runs (``a.b.c`` runs ``a/b/__init__``)."""
    out = set(modules)
    for module in modules:
        parts = module.split(".")
        out.update(".".join(parts[:i]) for i in range(2, len(parts)))
    return {m for m in out if m in MODULE_NAMES}


def resolved_imports(path: Path) -> set[str]:
    """The scorecard modules importing this file runs, at import time or inside
    functions (imports only for type checking left out), with their packages."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULE_NAMES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULE_NAMES:
                    found.add(full)
                elif base in MODULE_NAMES:
                    found.add(base)
    found = with_packages(found)
    found.discard(name)
    return {m for m in found if not name.startswith(m + ".")}


GRAPH = {name: resolved_imports(path) for name, path in MODULE_NAMES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_even_lazy() -> None:
    assert not cycles(GRAPH), f"import cycles: {cycles(GRAPH)}"


# The documented layers, lowest first (README "Development"). A module may import
# modules of its own layer or of lower layers only. Patterns match module names;
# the first pattern that matches decides.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "scorecard",
            "scorecard.errors",
            "scorecard.text",
            "scorecard.fs",
            "scorecard.options",
            "scorecard.status",
            "scorecard.request",
            "scorecard.model",
            "scorecard.bands",
            "scorecard.demo_events",
            "scorecard.demo_stories",
        ),
    ),
    ("secrets", ("scorecard.secrets",)),
    ("sources", ("scorecard.sources*",)),
    ("config", ("scorecard.config*", "scorecard.discovery*")),
    ("store", ("scorecard.store*", "scorecard.snapshots", "scorecard.shared_cache")),
    ("metrics", ("scorecard.metrics*", "scorecard.classes*", "scorecard.scoring*")),
    ("summary", ("scorecard.summary*", "scorecard.demo")),
    ("sync", ("scorecard.sync*",)),
    ("service", ("scorecard.export*", "scorecard.service*", "scorecard.reports*")),
    ("tui", ("scorecard.tui*",)),
    (
        "cli",
        (
            "scorecard.cli",
            "scorecard.cli_progress",
            "scorecard.__main__",
            "scorecard.report_cli",
            "scorecard.serve",
            "scorecard.shared_cache_cli",
        ),
    ),
)


def layer_of(module: str) -> int:
    for rank, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if pattern.endswith("*"):
                stem = pattern[:-1]
                if module == stem or module.startswith(stem + "."):
                    return rank
            elif module == pattern:
                return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and the README)")


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down_the_layers(name: str) -> None:
    upward = sorted(t for t in GRAPH[name] if layer_of(t) > layer_of(name))
    assert not upward, f"{name} ({LAYERS[layer_of(name)][0]}) imports higher layers: " + ", ".join(
        f"{t} ({LAYERS[layer_of(t)][0]})" for t in upward
    )
