"""Valid but worth a warning: what `pulumi up` should say about a stack's
settings before it declares anything (a takeover left on, a cold idle
color, the retired ingress-nginx edge, a limit the chosen edge cannot enforce)."""

from __future__ import annotations

from settings.edge import RateLimit
from settings.model import Settings


def advice(settings: Settings) -> list[str]:
    """Every warning the settings deserve, each with the command that settles it."""
    said = []
    if settings.adopt_existing_objects:
        said.append(
            "adoptExistingObjects is on: every create takes over an existing object of the same name and forces its "
            "fields to this program's values. Keep it for the first `pulumi up` over the hand-made objects only, "
            f"then: pulumi config rm adoptExistingObjects -s {settings.stack} && pulumi up"
        )
    if settings.toolbox.enabled:
        said.append(
            "the debugging toolbox is on: Deployment monad-synapse-toolbox can reach the database and Redis with the "
            "app's credentials. Turn it off when the incident is over: pulumi config set --path toolbox.enabled false "
            f"-s {settings.stack} && pulumi up"
        )
    if settings.idle_is_cold:
        said.append(
            f"the idle color {settings.idle_color} keeps {settings.warm_idle_replicas} pod(s), fewer than the live "
            f"minimum of {settings.autoscaling.min_replicas}: switching activeColor now would send live traffic to a "
            f"cold color. Warm it first: pulumi config set idleReplicas auto -s {settings.stack} && pulumi up"
        )
    if settings.edge.kind == "ingress-nginx":
        said.append(
            "edge.kind ingress-nginx: ingress-nginx was retired in March 2026 and gets no releases or security "
            "fixes, and this stack faces the internet on it. Move to the Gateway API (Envoy Gateway 1.9+) without "
            "an outage, keeping the Ingresses until DNS moves: pulumi config set --path edge.kind gateway "
            f"-s {settings.stack} && pulumi config set --path edge.keepIngressDuringMigration true -s {settings.stack} "
            "&& pulumi up (docs/operations.md, Migration order)"
        )
    elif settings.edge.keep_ingress_during_migration:
        said.append(
            "edge.keepIngressDuringMigration is on: the retired ingress-nginx still serves beside the Gateway. Once "
            "DNS points at the Gateway's address and ingress-nginx sees no traffic: pulumi config set --path "
            f"edge.keepIngressDuringMigration false -s {settings.stack} && pulumi up"
        )
    if settings.edge.kind == "gateway" and settings.rate_limit.connections != RateLimit().connections:
        # Envoy Gateway has no per-client connection limit (components/edge/app_edge.py).
        said.append(
            f"rateLimit.connections ({settings.rate_limit.connections}) has no effect with edge.kind gateway; "
            f"in DDoS mode lower rateLimit.rps, and cap all connections with edge.gateway.maxConnections"
        )
    return said
