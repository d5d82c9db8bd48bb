"""No import cycle between protector's top-level packages.

The layering contract (``[tool.importlinter]`` in pyproject.toml,
doc/architecture.md "Layers") says which way imports go; this test says
the stronger thing that holds whatever the layers are: no package reaches
back, directly or around a loop, to one that imports it. Imports inside
functions count (grimp reads them all): a lazy import that dodges a cycle
at import time is still a cycle.
"""
import grimp


def _package_edges():
    graph = grimp.build_graph("protector")
    edges = {}
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = (".".join(m.split(".")[:2]) for m in (importer, imported))
            if a != b and "protector" not in (a, b):
                edges.setdefault(a, {}).setdefault(b, (importer, imported))
    return edges


def _cycles(edges):
    """One path per package that can reach itself (depth-first)."""
    found = []
    for start in sorted(edges):
        stack = [(start, [start])]
        seen = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    found.append(path + [start])
                    stack = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return found


def test_no_cycle_between_top_level_packages():
    edges = _package_edges()
    cycles = _cycles(edges)
    detail = ["%s (%s)" % (" -> ".join(c), ", ".join(
        "%s imports %s" % edges[a][b] for a, b in zip(c, c[1:])))
        for c in cycles]
    assert not cycles, "import cycles:\n" + "\n".join(detail)


def test_the_check_finds_a_cycle():
    assert _cycles({"p.a": {"p.b": 1}, "p.b": {"p.a": 1}}) == [
        ["p.a", "p.b", "p.a"], ["p.b", "p.a", "p.b"]]
    assert _cycles({"p.a": {"p.b": 1}, "p.b": {"p.c": 1}}) == []
