"""The layout holds: no module of the domain imports a module that imports it back.

Tasks import services and services queue tasks by name (lib.tasks), so the graph of imports
between the project's own modules, function-level imports included, has no cycle.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("audiences", "campaigns", "lib")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its body (a package's own __init__ aside)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return {target for target in found if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_imports_a_module_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_the_check_sees_a_cycle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_graph_sees_function_level_imports(tmp_path):
    module = tmp_path / "services.py"
    module.write_text("def start():\n    from campaigns.delivery import tasks\n")
    modules = {"campaigns.delivery.tasks": module, "campaigns.delivery": module}
    assert "campaigns.delivery.tasks" in imports_of("campaigns.delivery.services", module, modules)


def test_services_do_not_import_their_tasks():
    graph = import_graph()
    assert "campaigns.delivery.services" in graph["campaigns.delivery.tasks"]
    assert "campaigns.printing.services" in graph["campaigns.printing.tasks"]
    for services in ("campaigns.delivery.services", "campaigns.printing.services", "campaigns.analytics.services"):
        assert not [name for name in graph[services] if name.startswith("campaigns.") and name.endswith(".tasks")]


def test_each_capability_keeps_its_own_tables():
    from django.apps import apps

    owners = {model.__name__: model.__module__ for model in apps.get_app_config("campaigns").get_models()}
    assert owners["Asset"] == "campaigns.plan.models"
    assert owners["Delivery"] == "campaigns.delivery.models"
    assert owners["Booking"] == "campaigns.landing.models"
    assert owners["PrintRender"] == "campaigns.printing.models"
    assert owners["DashboardFigure"] == "campaigns.analytics.models"
    assert owners["ChangeProject"] == "campaigns.projects.models"
    assert owners["TeamTalk"] == "campaigns.cascade.models"
    assert {module.split(".")[1] for module in owners.values()} == {
        "projects",
        "plan",
        "delivery",
        "landing",
        "printing",
        "analytics",
        "cascade",
    }
