"""The folders are the layers: every import of every module points down, and nothing imports in
a circle. The allowed directions are written once, here (docs/architecture.md draws them)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each layer and the layers it may import directly; it may also import what those may import.
# `datalab` is the project's core (settings, env, errors, api); `datalab.wiring` is the project's
# top (URLs, ASGI routing, the start page, its management commands), which sees everything.
MAY_IMPORT: dict[str, set[str]] = {
    "eventstore": set(),
    "datalab": set(),
    "accounts": {"datalab"},
    "outbox": {"accounts"},
    "orgs": {"outbox"},
    "apps_registry": {"orgs"},
    "funnels": {"apps_registry"},
    "tokens": {"funnels"},
    "ingest": {"tokens", "eventstore"},
    "archive": {"funnels", "eventstore"},
    "insights": {"funnels", "eventstore"},
    "demo": {"ingest"},
    "live": {"tokens"},
    "datalab.wiring": {"demo", "archive", "insights", "live"},
}
WIRING = ("datalab.urls", "datalab.asgi", "datalab.routing", "datalab.views", "datalab.management")
LAYERED = sorted({name.split(".")[0] for name in MAY_IMPORT})


def _closure(layer: str) -> set[str]:
    allowed, todo = set(), [layer]
    while todo:
        for lower in MAY_IMPORT[todo.pop()]:
            if lower not in allowed:
                allowed.add(lower)
                todo.append(lower)
    return allowed


def _layer_of(module: str) -> str | None:
    top = module.split(".")[0]
    if top not in LAYERED:
        return None
    if top == "datalab" and module.startswith(WIRING):
        return "datalab.wiring"
    return top


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for top in LAYERED:
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _resolve(name: str) -> str:
    """The longest module of ours that `name` (a module, or a name in a module) is."""
    while name and name not in _modules():
        name = name.rpartition(".")[0]
    return name


def _imports(module: str) -> set[str]:
    """Every module of ours that `module` imports, at the top or inside a function."""
    path = _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for name in names if (target := _resolve(name)))
    return found - {module}


def test_every_import_points_to_a_lower_layer():
    wrong = []
    for module in sorted(_modules()):
        layer = _layer_of(module)
        allowed = _closure(layer) | {layer}
        for target in sorted(_imports(module)):
            if _layer_of(target) not in allowed:
                wrong.append(f"{module} ({layer}) imports {target} ({_layer_of(target)})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_module_imports_itself_through_a_circle():
    graph = {module: _imports(module) for module in _modules()}
    circles = []
    for start in sorted(graph):
        path = _circle_from(graph, start)
        if path and min(path) == start:  # report each circle once
            circles.append(" -> ".join([*path, start]))
    assert not circles, "import circles:\n" + "\n".join(circles)


def _circle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, if there is one (depth-first)."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for target in sorted(graph[node]):
            if target == start:
                return path
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_the_allowed_directions_form_no_circle():
    for layer in MAY_IMPORT:
        assert layer not in _closure(layer), f"{layer} may import itself through other layers"


def test_the_layering_test_sees_an_upward_import(tmp_path, monkeypatch):
    """The walk finds imports inside functions too (a lower layer reaching up there is the
    classic way to dodge a circle)."""
    probe = ROOT / "outbox" / "_layering_probe.py"
    probe.write_text("def sneaky():\n    from live import realtime\n")
    try:
        _modules.cache_clear()
        assert "live.realtime" in _imports("outbox._layering_probe")
        assert "live" not in _closure("outbox")
    finally:
        probe.unlink()
        _modules.cache_clear()
