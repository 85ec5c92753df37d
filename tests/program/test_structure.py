"""The floor plan: areas, layers and modules as the architecture draws them.

Settings, then components (by area), then the program and the tools; no
import circle anywhere; one concern per module, said in its docstring;
`__main__.py` a short story."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
PACKAGES = ("settings", "components", "tools", "policy", "addons")
AREAS = ("common", "platform", "app", "edge", "data", "observability")
# Type tokens are part of every URN and never change; the network policies'
# token predates the platform area that now holds them.
TOKEN_AREAS = {"network": "platform"}


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project."""
    found = {"__main__": PROJECT_DIR / "__main__.py", "platform_contract": PROJECT_DIR / "platform_contract.py"}
    for package in PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            if "venv" in path.relative_to(PROJECT_DIR).parts:
                continue
            parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules a module imports, at any depth (function-local
    and type-checking imports too: a circle is a circle)."""
    imported = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    imported.add(f"{base}.{alias.name}")
                elif base in modules:
                    imported.add(base)
    return imported - {name}


@pytest.fixture(scope="module")
def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle_anywhere(import_graph):
    assert circles(import_graph) == []


# Settings, then components, then the program and the tools: nothing reaches up.
NEVER_IMPORTS = {
    "settings": {"components", "tools", "policy", "addons"},
    "components": {"tools", "policy", "addons"},
    # The two Pulumi projects share only platform_contract.
    "addons": {"settings", "components", "tools", "policy", "__main__"},
    "platform_contract": {"settings", "components", "tools", "policy", "addons", "__main__"},
}


@pytest.mark.parametrize("package", sorted(NEVER_IMPORTS))
def test_layers_import_only_downwards(import_graph, package):
    upward = {
        module: sorted(other for other in imported if other.split(".")[0] in NEVER_IMPORTS[package])
        for module, imported in import_graph.items()
        if module.split(".")[0] == package
    }
    assert {module: names for module, names in upward.items() if names} == {}


def test_components_live_in_their_areas():
    top = sorted(path.name for path in (PROJECT_DIR / "components").glob("*.py"))
    assert top == ["__init__.py"]
    assert sorted(
        path.name for path in (PROJECT_DIR / "components").iterdir() if path.is_dir() and path.name != "__pycache__"
    ) == sorted(AREAS)


def test_each_component_sits_in_the_area_its_type_names():
    """`monad:<area>:<Component>` is declared under components/<area>/."""
    misplaced = []
    for path in (PROJECT_DIR / "components").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("monad:"):
                area = node.value.split(":")[1]
                if TOKEN_AREAS.get(area, area) != path.parent.name:
                    misplaced.append(f"{node.value} in {path.relative_to(PROJECT_DIR)}")
    assert misplaced == []


def test_areas_build_on_common_and_read_other_areas_only_through_their_outputs(import_graph):
    """An area imports `common`, the settings and itself; the only other
    import is a type an area's output carries (the exporters and the
    debugging toolbox read the database access the data area describes)."""
    allowed = {("observability", "data.database_access"), ("platform", "data.database_access")}
    crossing = set()
    for module, imported in import_graph.items():
        parts = module.split(".")
        if parts[0] != "components" or len(parts) < 3:
            continue
        for other in imported:
            other_parts = other.split(".")
            if other_parts[0] == "components" and other_parts[1] not in ("common", parts[1]):
                if (parts[1], ".".join(other_parts[1:])) not in allowed:
                    crossing.add(f"{module} -> {other}")
    assert sorted(crossing) == []


def test_every_module_says_its_concern():
    silent = [
        name
        for name, path in module_files().items()
        if not (ast.get_docstring(ast.parse(path.read_text())) or "").strip()
    ]
    assert silent == []


# Not a cap: a module past this is worth a second look for a second concern.
SIZE_WORTH_A_LOOK = 600


def oversized(limit: int) -> dict[str, int]:
    return {
        name: lines for name, path in module_files().items() if (lines := len(path.read_text().splitlines())) > limit
    }


def test_the_size_look_finds_large_modules():
    assert "__main__" in oversized(10) and oversized(10_000) == {}


def test_modules_past_a_generous_size_are_flagged():
    """A warning in the test report, never a failure: size alone says nothing."""
    if large := oversized(SIZE_WORTH_A_LOOK):
        warnings.warn(f"worth a look for a second concern: {large}", stacklevel=1)


MAIN_MAX_LINES = 180


def test_main_is_a_short_story():
    """Settings in, one call per area, outputs out: no decisions of its own."""
    source = (PROJECT_DIR / "__main__.py").read_text()
    assert len(source.splitlines()) <= MAIN_MAX_LINES
    tree = ast.parse(source)
    branches = [ast.unparse(node.test) for node in ast.walk(tree) if isinstance(node, (ast.If, ast.IfExp))]
    assert [test for test in branches if "database" in test or "in_cluster" in test] == []


def test_every_component_is_built_alone_with_fake_args():
    """Each component class is constructed in at least one test that runs it
    on its own under the mock engine (the `run_component` fixture), not only
    through whole-stack renders."""
    components = {
        node.name
        for path in (PROJECT_DIR / "components").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base) == "pulumi.ComponentResource" for base in node.bases)
    }
    built_alone = set()
    for path in (PROJECT_DIR / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and "run_component" in {arg.arg for arg in node.args.args}:
                built_alone |= {
                    call.func.id
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                }
    assert len(components) >= 9
    assert sorted(components - built_alone) == []


ENGINE_MODELS = (
    "stack_file",
    "stack_config",
    "provider_rules",
    "replay",
    "live",
    "admission",
    "schemas",
    "network_policy",
    "operator_pods",
    "operator_rollouts",
    "exporter_metrics",
)


def test_the_engine_is_one_package_and_its_models_need_no_sdk():
    """The offline engine is `tools.engine`; its models are pure (only the
    mock engine runs the SDK), so they load without Pulumi installed."""
    import subprocess
    import sys

    engine = sorted(path.stem for path in (PROJECT_DIR / "tools" / "engine").glob("*.py") if path.stem != "__init__")
    assert engine == sorted((*ENGINE_MODELS, "mock_engine"))
    code = (
        f"import sys; import {', '.join('tools.engine.' + name for name in ENGINE_MODELS)}; "
        "print(sorted(name for name in ('pulumi', 'pulumi_kubernetes', 'settings') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_DIR)
    assert result.stdout.strip() == "[]"


def test_tests_mirror_the_code():
    """A component's tests are found by its module's name, in its area's folder."""
    unmatched = []
    for path in (PROJECT_DIR / "components").rglob("*.py"):
        tree = ast.parse(path.read_text())
        if not any(
            isinstance(node, ast.ClassDef) and any(ast.unparse(b) == "pulumi.ComponentResource" for b in node.bases)
            for node in ast.walk(tree)
        ):
            continue
        folder = PROJECT_DIR / "tests" / path.relative_to(PROJECT_DIR).parent
        if not list(folder.glob(f"test_{path.stem}*.py")):
            unmatched.append(str(path.relative_to(PROJECT_DIR)))
    assert unmatched == []
    for package in ("settings", "tools", "tools/engine", "policy", "addons"):
        assert list((PROJECT_DIR / "tests" / package).glob("test_*.py")), package
