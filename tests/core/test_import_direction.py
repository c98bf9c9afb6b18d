"""Imports run one way: capabilities use ``core`` and ``orgs``, never the reverse, and no two capabilities
use each other (DESIGN.md, "Two programs, one repository").

Checked on the source, without importing anything: every import statement of every module, those inside
functions too. Imports under ``if TYPE_CHECKING:`` never run and are left out: a service names the acting
:class:`~certsvc.accounts.models.Account` in its annotations wherever it sits.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "certsvc"

#: What ``core`` may import: itself and leaf modules that import nothing of the package.
LEAVES = frozenset({"certsvc.errors", "certsvc.timeutil"})
#: Subpackages that are not capabilities: ``core`` (pure helpers), ``ui`` (what the pages share),
#: ``audit`` (the log every state change writes; it imports no capability either, see below).
BASE = frozenset({"certsvc.core", "certsvc.ui", "certsvc.audit"})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (a package's module when ``from package import module``)
    line: int

    def __str__(self) -> str:
        return f"{self.module} -> {self.target} (line {self.line})"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(top: str) -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((ROOT / top).rglob("*.py"))}


MODULES = _sources("certsvc")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, at any depth, except those of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _statements_of(other)
            continue
        yield from _statements_of(child)


def _statements_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _statements(node)


def imports_of(module: str, path: Path, known: dict[str, Path] = MODULES) -> list[Import]:
    """The imports of ``module`` (absolute names; a relative import resolved against its package)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for statement in _statements(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(statement, ast.Import):
            found += [Import(module, alias.name, statement.lineno) for alias in statement.names]
            continue
        base = statement.module or ""
        if statement.level:
            anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in statement.names:
            submodule = f"{base}.{alias.name}"
            found.append(Import(module, submodule if submodule in known else base, statement.lineno))
    return list(dict.fromkeys(found))  # ``from x import a, b`` is one import of x


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _subpackage(name: str) -> str | None:
    """``certsvc.<subpackage>`` that ``name`` is in, None for a top-level module of ``certsvc``."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "certsvc" or not (PACKAGE / parts[1]).is_dir():
        return None
    return ".".join(parts[:2])


def _package_imports() -> list[Import]:
    return [
        imp for module, path in MODULES.items() for imp in imports_of(module, path) if _within(imp.target, "certsvc")
    ]


ALL = _package_imports()


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it started, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return [*path[path.index(successor) :], successor]
            if successor not in state and (cycle := visit(successor)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def _explain(cycle: list[str], edges: dict[tuple[str, str], list[Import]]) -> str:
    steps = [f"  {edges[step][0]}" for step in itertools.pairwise(cycle)]
    return " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_function_level_and_relative_imports_are_seen():
    probe = ROOT / "certsvc" / "requests" / "papers" / "letter.py"
    assert any(
        imp.target == "certsvc.requests.papers.text" for imp in imports_of("certsvc.requests.papers.letter", probe)
    )  # ``from .text import ...``
    assert any(imp.module == "certsvc.cli" and imp.target == "certsvc" for imp in ALL)  # inside a function


def test_core_imports_only_core_and_leaf_modules():
    allowed = {"certsvc.core", *LEAVES}
    wrong = [
        imp
        for imp in ALL
        if _within(imp.module, "certsvc.core") and not any(_within(imp.target, name) for name in allowed)
    ]
    assert not wrong, "core must use no other part of certsvc:\n" + "\n".join(map(str, wrong))
    leaf_imports = [imp for imp in ALL if imp.module in LEAVES]
    assert not leaf_imports, "leaf modules must import nothing of certsvc:\n" + "\n".join(map(str, leaf_imports))


def test_core_knows_nothing_of_the_web():
    web = [
        imp
        for module, path in MODULES.items()
        if _within(module, "certsvc.core")
        for imp in imports_of(module, path)
        if imp.target.split(".")[0] in {"flask", "flask_login", "wtforms"}
    ]
    assert not web, "web-specific code belongs in certsvc.ui:\n" + "\n".join(map(str, web))


def test_the_audit_log_imports_no_capability():
    """Every capability, orgs too, records into the audit log: the log must not use them back."""
    wrong = [
        imp
        for imp in ALL
        if _within(imp.module, "certsvc.audit")
        and _subpackage(imp.target) not in {None, "certsvc.core", "certsvc.audit"}
    ]
    assert not wrong, "\n".join(map(str, wrong))


def test_orgs_imports_no_capability():
    wrong = [
        imp
        for imp in ALL
        if _within(imp.module, "certsvc.orgs") and _subpackage(imp.target) not in {None, "certsvc.orgs", *BASE}
    ]
    assert not wrong, "orgs is used by the capabilities, it must not use them:\n" + "\n".join(map(str, wrong))


def _graph(edges: dict[tuple[str, str], list[Import]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    return graph


def test_no_cycle_between_packages():
    edges: dict[tuple[str, str], list[Import]] = {}
    for imp in ALL:
        source, target = _subpackage(imp.module), _subpackage(imp.target)
        if source and target and source != target:
            edges.setdefault((source, target), []).append(imp)
    cycle = _find_cycle(_graph(edges))
    assert cycle is None, "packages import each other:\n" + _explain(cycle, edges)


def test_no_cycle_between_modules():
    """Not even through an import inside a function, nor through a top-level module such as certsvc.cli."""
    edges: dict[tuple[str, str], list[Import]] = {}
    for imp in ALL:
        if imp.target in MODULES and imp.target != imp.module:
            edges.setdefault((imp.module, imp.target), []).append(imp)
    cycle = _find_cycle(_graph(edges))
    assert cycle is None, "modules import each other:\n" + _explain(cycle, edges)


def test_token_agent_never_imports_certsvc():
    agent = _sources("token_agent")
    wrong = [
        imp
        for module, path in agent.items()
        for imp in imports_of(module, path, agent)
        if _within(imp.target, "certsvc")
    ]
    assert not wrong, "\n".join(map(str, wrong))


def test_revisions_import_only_the_ddl_helpers():
    """Revisions never import the app (migrations/env.py): only certsvc.db_guard, which imports nothing."""
    revisions = {path.stem: path for path in sorted((ROOT / "migrations" / "versions").glob("*.py"))}
    used = {
        imp.target
        for name, path in revisions.items()
        for imp in imports_of(name, path, {})
        if _within(imp.target, "certsvc")
    }
    assert used <= {"certsvc.db_guard"}
    assert not [imp for imp in ALL if imp.module == "certsvc.db_guard"]
