"""What `pulumi up` warns about valid settings, with the command that settles it."""

from __future__ import annotations

from settings import advice, settings_from_raw
from tests.helpers import VALID_SETTINGS as BASE


def warnings_for(**overrides) -> list[str]:
    return advice(settings_from_raw({**BASE, **overrides}, "production"))


def test_the_gateway_edge_says_nothing():
    assert warnings_for() == []


def test_the_retired_ingress_nginx_edge_warns_and_says_how_to_move():
    (warning,) = warnings_for(edge={"kind": "ingress-nginx"})
    assert "retired in March 2026" in warning
    assert "pulumi config set --path edge.kind gateway -s production" in warning
    assert "edge.keepIngressDuringMigration true" in warning


def test_an_unfinished_migration_says_how_to_finish():
    (warning,) = warnings_for(edge={"keepIngressDuringMigration": True})
    assert "edge.keepIngressDuringMigration false -s production" in warning


def test_the_committed_stacks_render_a_gateway_and_say_the_move_is_unfinished(stack_objects, render_stack):
    for stack in ("staging", "production"):
        kinds = {key.split("/")[0] for key in stack_objects(stack)}
        assert {"Gateway", "HTTPRoute", "Ingress"} <= kinds
        assert any("keepIngressDuringMigration false" in warning for warning in render_stack(stack).warnings)
