"""The namespace component on its own, with fake args, under the mock engine."""

from __future__ import annotations

from components.platform.namespace import AppNamespace, AppNamespaceArgs
from tests.helpers import children_of, objects_of


def test_namespace_component_parents_its_children(run_component):
    run = run_component(lambda: AppNamespace("ns", AppNamespaceArgs(name="team-a")))
    children = children_of(run, "monad:platform:AppNamespace")
    assert sorted(child.inputs["kind"] for child in children) == ["Namespace", "ServiceAccount"]
    objects = objects_of(run)
    assert objects["ServiceAccount/monad-synapse"]["metadata"]["namespace"] == "team-a"
