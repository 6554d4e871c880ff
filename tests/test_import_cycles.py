"""No import cycle among the modules of `layers` (issue 20): the import loop lives in
layers/importing/pipeline.py, the reading processes start from importing/child.py, and the Celery task
is registered with the actions at start-up instead of being imported by them. Imports inside
functions count too (grimp reads them all)."""

from __future__ import annotations

import grimp


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), among `package`'s modules."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges[v]:
                found.append(sorted(component))

    for m in modules:
        if m not in index:
            visit(m)
    return found


def test_no_import_cycle_in_layers():
    graph = grimp.build_graph("layers", cache_dir=None)
    assert _cycles(graph, "layers") == []


def test_the_import_machinery_never_imports_the_actions_or_tasks():
    graph = grimp.build_graph("layers", cache_dir=None)
    for module in graph.find_children("layers.importing"):
        for above in ("layers.actions", "layers.tasks"):
            assert not graph.chain_exists(importer=module, imported=above), (module, above)


def test_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph, "p") == [["p.a", "p.b"]]
