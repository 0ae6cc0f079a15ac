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
    assert any(rel(p) == "scorecard/metrics.py" for p in MODULES)


@pytest.mark.parametrize("path", [p for p in MODULES if "tui" not in p.parts], ids=rel)
def test_only_tui_imports_textual(path: Path) -> None:
    names = imported(path)
    assert not uses(names, "textual"), f"{rel(path)} imports textual"
    assert not uses(names, "scorecard.tui") or rel(path) == "scorecard/cli.py"


@pytest.mark.parametrize("name", ["metrics", "scoring", "bands", "model"])
def test_pure_modules_do_no_io(name: str) -> None:
    names = imported(PACKAGE / f"{name}.py")
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


def test_metrics_never_groupby_apply() -> None:
    text = (PACKAGE / "metrics.py").read_text(encoding="utf-8")
    assert ".apply(" not in text
