"""The code's layout keeps its promises (docs/design.md, "Code layout"): imports between stage folders point one
way, each concept has one home, and components get what they need from the run context, not the spider."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "crawler"


def modules() -> dict[str, ast.Module]:
    return {str(path.relative_to(PACKAGE)): ast.parse(path.read_text(encoding="utf-8")) for path in PACKAGE.rglob("*.py")}


def unit(module: str) -> str:
    """A module's folder (``fetch``), or the module itself at the package's top (``cli``)."""
    parts = module.split(".")
    return parts[0]


def runtime_imports(tree: ast.Module) -> set[str]:
    """The crawler modules a module imports when it runs (imports under ``if TYPE_CHECKING:`` are for types only)."""
    skipped = {id(node) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for child in ast.walk(node) if child is not node for node in [child]}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("crawler."):
            found.add(node.module[len("crawler."):])
        elif isinstance(node, ast.Import):
            found.update(alias.name[len("crawler."):] for alias in node.names if alias.name.startswith("crawler."))
    return found


def folder_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path, tree in modules().items():
        source = unit(path.removesuffix(".py").replace("/", "."))
        graph.setdefault(source, set()).update(unit(target) for target in runtime_imports(tree))
    for source, targets in graph.items():
        targets.discard(source)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the path that closes it, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target] if target in path else path + [target]
            if target not in state and (found := visit(target, path + [target])):
                return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [node])):
            return found
    return None


def test_imports_between_folders_have_no_cycle():
    graph = folder_graph()
    assert {"fetch", "distributed", "state", "dedup", "reporting"} <= set(graph)  # the graph is the real one
    assert cycle(graph) is None, " -> ".join(cycle(graph))


def test_the_cycle_check_finds_a_cycle():
    assert cycle({"fetch": {"distributed"}, "distributed": {"reporting"}, "reporting": {"fetch"}}) is not None
    assert cycle({"fetch": {"distributed"}, "distributed": {"reporting"}}) is None


def source_lines(pattern: str, allowed: set[str] = frozenset()) -> list[str]:
    """``file:line`` of every line of the package matching ``pattern``, outside the ``allowed`` files."""
    hits = []
    for path in PACKAGE.rglob("*.py"):
        name = str(path.relative_to(PACKAGE))
        if name in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                hits.append(f"{name}:{number}: {line.strip()}")
    return hits


def test_components_never_read_the_run_off_the_spider():
    assert source_lines(r"spider\.(store|profile|run_id|run_name|output_dir|redis_run|discoveries|mirrors)\b") == []
    assert source_lines(r"(getattr|hasattr)\((self\.)?(crawler\.)?spider\b") == []


def test_stats_keys_are_spelt_in_one_module():
    assert source_lines(r"""["']newsmirror/(?![{\d])""", {"reporting/stats.py"}) == []  # not "newsmirror/0.1"


def test_redis_clients_come_from_one_factory():
    assert source_lines(r"Redis\.from_url|redis\.Redis\(|Redis\(", {"distributed/client.py", "farm/redis_server.py"}) == []


def test_redis_keys_are_built_in_one_module():
    assert source_lines(r"""["']newsmirror:[a-z{]""", {"distributed/keys.py"}) == []
