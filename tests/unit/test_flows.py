"""Every flow keeps its declarations (engine/flows/__init__.py).

For every operation type and every variant of its parameters: the flow
builds (``get_flow`` checks that each declared input is made by an
earlier step or is an operation parameter), and each step's task reads
exactly its declared inputs, through ``flows.read`` with a literal name
(found in the task's source and in the functions of its module and of
the other task modules that it calls), never ``store["results"]``
directly. A step that reads an undeclared result, or one that only a
later step makes, fails here.
"""
import ast
import inspect
import itertools
import pathlib
import sys

import pytest

from protector.engine import flows

TASKS = pathlib.Path(flows.__file__).parent.parent / "tasks"
# Every parameter that changes what a factory builds, in every
# combination (and none at all, as the API's step_names calls do).
VARIANTS = [{}] + [
    {"type": kind, "reverse_replication": reverse, "auto_network": auto}
    for kind, reverse, auto in itertools.product(
        ("planned", "unplanned"), (True, False), (True, False))]
# Step names stored with operations (doc/engine.md), kept although the
# task is named otherwise (see flows/__init__.py).
NAMED_OTHERWISE = {("*", "update_protection_group"),
                   ("test_failover", "recreate_instances")}


def _flows():
    flows._load()
    for kind in sorted(flows.REGISTRY):
        for params in VARIANTS:
            yield kind, params, flows.get_flow(kind, params)


def _function(module, name):
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def _reads(fn):
    """The names ``fn`` reads with ``flows.read``, following the calls to
    functions of its own module and of the other task modules it calls
    (``storage_tasks.wait_copies``)."""
    names, seen = set(), set()
    todo = [(sys.modules[fn.__module__], fn.__name__)]
    while todo:
        module, name = todo.pop()
        if (module.__name__, name) in seen:
            continue
        seen.add((module.__name__, name))
        node = _function(module, name)
        if node is None:
            continue
        for call in ast.walk(node):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "read" and \
                    isinstance(func.value, ast.Name) and \
                    func.value.id == "flows":
                arg = call.args[1] if len(call.args) > 1 else None
                assert isinstance(arg, ast.Constant) and \
                    isinstance(arg.value, str), (
                        "%s: flows.read needs a literal name" % name)
                names.add(arg.value)
            elif isinstance(func, ast.Name):
                todo.append((module, func.id))
            elif isinstance(func, ast.Attribute) and \
                    isinstance(func.value, ast.Name):
                other = getattr(module, func.value.id, None)
                if inspect.ismodule(other) and other.__name__.startswith(
                        "protector.engine.tasks."):
                    todo.append((other, func.attr))
    return names


def test_every_flow_builds_with_its_declarations():
    built = list(_flows())
    assert {kind for kind, _, _ in built} >= {
        "failover", "failback", "test_failover", "test_cleanup",
        "rollback", "prepare_failover", "vacate_site", "restore_source"}


@pytest.mark.parametrize("kind,params,flow", list(_flows()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_steps_read_only_what_they_declare(kind, params, flow):
    for step in flow.steps:
        reads = _reads(step.task)
        assert reads <= set(step.inputs), (
            "%s: step %s reads %s, not declared in its inputs" % (
                kind, step.name, sorted(reads - set(step.inputs))))
        assert set(step.inputs) <= reads, (
            "%s: step %s declares %s but never reads it" % (
                kind, step.name, sorted(set(step.inputs) - reads)))


def test_tasks_read_results_only_through_the_accessor():
    for path in sorted(TASKS.glob("*.py")):
        text = path.read_text()
        assert '["results"]' not in text and "['results']" not in text, (
            "%s looks up a step's result by name: declare an input and "
            "use flows.read" % path.name)


def test_step_names_are_task_names():
    for kind, _, flow in _flows():
        for step in flow.steps:
            if step.name == step.task.__name__ or \
                    (kind, step.name) in NAMED_OTHERWISE or \
                    ("*", step.name) in NAMED_OTHERWISE:
                continue
            pytest.fail("%s: step %s runs %s" % (kind, step.name,
                                                 step.task.__name__))


def test_changes_cloud_follows_the_variant():
    for kind in ("failover", "failback"):
        for planned in (True, False):
            flow = flows.get_flow(
                kind, {"type": "planned" if planned else "unplanned"})
            step = flow.step("snapshot_consistency_group")
            assert step.changes_cloud is planned
            # The promote only checks; the rebuild asks for the copies.
            assert not flow.step("promote_volumes").changes_cloud
            assert flow.step("recreate_instances").changes_cloud
            assert not flow.step("validate_sites").changes_cloud


# -- the rules themselves ------------------------------------------------

def _task(ctx, store):
    return None


def _reads_undeclared(ctx, store):
    return _helper(store)


def _helper(store):
    return flows.read(store, "volumes")


def _flow(*steps):
    return flows.Flow(name="t", steps=steps)


def test_check_refuses_a_result_no_earlier_step_makes():
    late = _flow(flows.Step("a", _task, inputs=("snapshot",)),
                 flows.Step("b", _task, outputs=("snapshot",)))
    with pytest.raises(flows.FlowError, match="b makes it later"):
        flows.check(late, {})
    missing = _flow(flows.Step("a", _task, inputs=("nothing",)))
    with pytest.raises(flows.FlowError, match="no earlier step makes"):
        flows.check(missing, {})
    # An operation parameter may be an input.
    flows.check(missing, {"nothing": 1})


def test_check_refuses_two_makers_and_two_names():
    two = _flow(flows.Step("a", _task, outputs=("v",)),
                flows.Step("b", _task, outputs=("v",)),
                flows.Step("c", _task, inputs=("v",)))
    with pytest.raises(flows.FlowError, match="a, b all make"):
        flows.check(two, {})
    with pytest.raises(flows.FlowError, match="two steps are named a"):
        flows.check(_flow(flows.Step("a", _task), flows.Step("a", _task)),
                    {})


def test_the_source_check_finds_a_read_in_a_helper():
    assert _reads(_reads_undeclared) == {"volumes"}


def test_read_refuses_an_undeclared_input():
    flow = _flow(flows.Step("a", _task, outputs=("v",)),
                 flows.Step("b", _task, inputs=("v",)))
    store = {"operation": {"parameters": {}}, "results": {"a": {"v": 1}}}
    store["inputs"] = flows.inputs_of(flow, flow.steps[1], store)
    store["step"] = "b"
    assert flows.read(store, "v") == 1
    with pytest.raises(flows.FlowError, match="step b reads 'w'"):
        flows.read(store, "w")
    # A skipped maker leaves None.
    store["results"]["a"] = {"skipped": "nothing to do"}
    assert flows.inputs_of(flow, flow.steps[1], store) == {"v": None}
