"""The debugging toolbox: off by default; when on, a restricted pod that reaches the database and Redis, and nothing else."""

from __future__ import annotations

import pytest

from settings import SettingsError
from tests.helpers import CLOUDNATIVEPG, secrets_for
from tools.engine.network_policy import Address, Cluster, Pod, selects
from tools.engine.operator_pods import instance_pod

TOOLBOX = ("toolbox.enabled=true",)
IN_CLUSTER = (*CLOUDNATIVEPG, *TOOLBOX)


def toolbox_of(objects: dict) -> dict:
    (deployment,) = [
        obj
        for obj in objects.values()
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "monad-synapse-toolbox"
    ]
    return deployment


def toolbox_pod(objects: dict) -> Pod:
    return Pod("production", toolbox_of(objects)["spec"]["template"]["metadata"]["labels"])


def test_there_is_no_toolbox_unless_it_is_turned_on(stack_objects):
    objects = stack_objects("production")
    assert not [name for name in objects if "toolbox" in name]


def test_the_toolbox_is_restricted_and_is_not_the_app(stack_objects):
    objects = stack_objects("production", *TOOLBOX)
    pod = toolbox_of(objects)["spec"]["template"]
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == "monad-synapse-toolbox"
    spec = pod["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
        assert security["readOnlyRootFilesystem"] is True
    assert {container["name"] for container in spec["containers"]} == {"psql", "redis-cli"}
    # The runbook's read-only commands (`-l app.kubernetes.io/name=monad-synapse`)
    # and the app's Services, PDBs and policies never select it.
    labels = pod["metadata"]["labels"]
    for obj in objects.values():
        selector = (obj.get("spec") or {}).get("selector")
        if obj["kind"] == "Service" and selector:
            assert not selects({"matchLabels": selector}, labels), obj["metadata"]["name"]
        if obj["kind"] == "PodDisruptionBudget":
            assert not selects(selector, labels), obj["metadata"]["name"]


def test_the_toolbox_reaches_the_in_cluster_database_and_redis_and_nothing_else(stack_objects):
    objects = stack_objects("production", *IN_CLUSTER, secrets=secrets_for(IN_CLUSTER))
    network = Cluster().add_policies(objects.values())
    toolbox = toolbox_pod(objects)
    primary = instance_pod("production", "monad-synapse-db", 1, primary=True, inherited={"app": "postgresql"})
    app = Pod("production", {"app.kubernetes.io/name": "monad-synapse", "monad-synapse.com/color": "blue"})
    assert network.allows(toolbox, primary, 5432)
    assert network.allows(toolbox, Address("10.1.2.3"), 6379)  # Redis, in network.redis
    for target, port in ((primary, 8000), (app, 3000), (Address("169.254.169.254"), 80), (Address("8.8.8.8"), 443)):
        assert not network.allows(toolbox, target, port), (target, port)
    # Nothing connects to it.
    assert not network.allows(app, toolbox, 5432)


def test_the_database_admits_the_toolbox_only_while_it_is_on(stack_objects):
    on = stack_objects("production", *IN_CLUSTER, secrets=secrets_for(IN_CLUSTER))
    off = stack_objects("production", *CLOUDNATIVEPG, secrets=secrets_for(CLOUDNATIVEPG))
    primary = instance_pod("production", "monad-synapse-db", 1, primary=True, inherited={"app": "postgresql"})
    toolbox = toolbox_pod(on)
    assert Cluster().add_policies(on.values()).allows(toolbox, primary, 5432)
    assert not Cluster().add_policies(off.values()).allows(toolbox, primary, 5432)


def test_the_toolbox_reaches_the_external_database(stack_objects):
    objects = stack_objects("production", *TOOLBOX)
    network = Cluster().add_policies(objects.values())
    assert network.allows(toolbox_pod(objects), Address("10.0.5.5"), 5432)  # network.postgres


def test_the_toolbox_reads_the_apps_urls_from_its_secret(stack_objects):
    containers = {
        container["name"]: container
        for container in toolbox_of(stack_objects("production", *TOOLBOX))["spec"]["template"]["spec"]["containers"]
    }
    database = {entry["name"]: entry for entry in containers["psql"]["env"]}["DATABASE_URL"]
    redis = {entry["name"]: entry for entry in containers["redis-cli"]["env"]}["REDIS_URL"]
    assert database["valueFrom"]["secretKeyRef"] == {"name": "monad-synapse-secrets", "key": "DATABASE_URL"}
    assert redis["valueFrom"]["secretKeyRef"] == {"name": "monad-synapse-secrets", "key": "REDIS_URL"}


def test_an_unpinned_toolbox_image_is_refused(render_stack):
    with pytest.raises(SettingsError, match="toolbox.postgresImage"):
        render_stack("production", *TOOLBOX, "toolbox.postgresImage=postgres:latest")


def test_a_toolbox_left_on_is_warned_about(render_stack):
    warnings = render_stack("production", *TOOLBOX).warnings
    assert any("toolbox" in warning and "toolbox.enabled false" in warning for warning in warnings)


def test_the_component_alone_composes_the_in_cluster_url_from_the_credentials(run_component):
    """With the DR topology's shared credentials the URL is composed from them
    (the dumps' access): the component takes whatever access it is given."""
    from components.data.database_access import cluster_access
    from components.platform.toolbox import DebugToolbox, ToolboxArgs
    from settings import settings_from_raw
    from tests.helpers import VALID_SETTINGS, objects_of

    settings = settings_from_raw({**VALID_SETTINGS, "toolbox": {"enabled": True}}, "staging")
    access = cluster_access("monad-synapse-db", "team-a", credentials_secret="monad-synapse-db-app-shared")
    run = run_component(lambda: DebugToolbox("toolbox", ToolboxArgs("team-a", settings, access, "app-secret")))
    objects = objects_of(run)
    assert set(objects) == {"Deployment/monad-synapse-toolbox", "NetworkPolicy/monad-synapse-toolbox"}
    (psql, redis) = objects["Deployment/monad-synapse-toolbox"]["spec"]["template"]["spec"]["containers"]
    env = {entry["name"]: entry for entry in psql["env"]}
    assert env["DATABASE_URL"]["value"].startswith(
        "postgresql://$(MONAD_SYNAPSE_DB_USER):$(MONAD_SYNAPSE_DB_PASSWORD)@"
    )
    assert list(env).index("MONAD_SYNAPSE_DB_PASSWORD") < list(env).index("DATABASE_URL")  # $(VAR) needs it first
    egress = objects["NetworkPolicy/monad-synapse-toolbox"]["spec"]["egress"]
    assert egress[0]["to"] == [{"podSelector": access.egress[0]["to"][0]["podSelector"]}]
    assert egress[1]["ports"] == [{"protocol": "TCP", "port": 6379}]
