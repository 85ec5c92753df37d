"""Rendered objects are valid for Kubernetes: core kinds with
kubernetes-validate --strict, custom resources against their upstream CRDs."""

from __future__ import annotations

import functools

import kubernetes_validate
import kubernetes_validate.utils
import pytest

from tests.helpers import CLOUDNATIVEPG, DR_SITE, RECOVERY, secrets_for
from tools.engine.schemas import is_core_object, validate_custom_resource

# kubernetes-validate reads its schema files (the definitions are megabytes)
# and lists its schema folders twice, again for every object; they never
# change, so read each once. Validation itself is unchanged.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(kubernetes_validate.utils.schema_contents)
kubernetes_validate.utils.all_versions = functools.lru_cache(maxsize=None)(kubernetes_validate.utils.all_versions)

# Oldest supported (sleep preStop action, unhealthyPodEvictionPolicy GA) and newest.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
VARIANTS = [
    ("staging",),
    ("production",),
    ("production", "activeColor=green", "idleReplicas=0", "promotion.verification.enabled=true"),
    ("production", "maintenanceMode=true", "vpa.updateMode=Initial", "appConfig.FEATURE_X=on"),
    ("production", "edge.kind=gateway", "rateLimit.allowlistCidrs[0]=203.0.113.0/24"),
    ("staging", "edge.kind=gateway", "edge.gateway.shared.name=public", "edge.gateway.shared.namespace=gateways"),
    (
        "production",
        "backup.storage.kind=s3",
        "backup.storage.s3.bucket=monad-backups",
        "maintenanceMode=true",
        "restore.fromBackup=latest",
        "restore.confirm=production",
        "restore.requestId=incident-4711",
    ),
    ("production", *CLOUDNATIVEPG, "toolbox.enabled=true"),
    ("production", *CLOUDNATIVEPG, *RECOVERY, "database.cloudnativepg.objectStore.endpoint=https://minio.example.com"),
    (
        "staging",
        *CLOUDNATIVEPG,
        *DR_SITE,
        "database.cloudnativepg.instances=1",
        "database.cloudnativepg.postgresql.parameters.max_connections=300",
        "database.replica.minApplyDelay=30m",
    ),
]


def objects_of(stack_objects, variant) -> dict:
    return stack_objects(*variant, secrets=secrets_for(variant))


# Custom resources whose CRD is not among the upstream schemas we carry;
# they are checked by the tests that build them instead.
WITHOUT_UPSTREAM_SCHEMA: set[str] = set()
ONLY_IN_RELEASE_FOLDERS = {"HTTPRouteFilter"}


@pytest.mark.parametrize("variant", VARIANTS, ids=["-".join(v) for v in VARIANTS])
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_core_objects_pass_strict_schema(stack_objects, variant, version):
    core = [obj for obj in objects_of(stack_objects, variant).values() if is_core_object(obj)]
    assert len(core) >= 10
    for obj in core:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {error.message} at {list(error.path)}")


# The edge's floor, the oldest releases the program supports: a field newer
# than these fails here even when the newest CRDs above accept it.
EDGE_FLOOR = ("envoy-gateway-v1.9.0", "gateway-api-v1.6.1")
EDGE_GROUPS = ("gateway.networking.k8s.io/", "gateway.envoyproxy.io/")
GATEWAY_VARIANTS = [variant for variant in VARIANTS if "edge.kind=gateway" in variant]


@pytest.mark.parametrize("variant", GATEWAY_VARIANTS, ids=["-".join(v) for v in GATEWAY_VARIANTS])
@pytest.mark.parametrize("floor", EDGE_FLOOR)
def test_edge_resources_pass_the_floor_releases_crds(stack_objects, crds, variant, floor):
    from tools.engine.schemas import UnknownCustomResource

    folder = crds / "versions" / floor
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    validated = set()
    for obj in objects_of(stack_objects, variant).values():
        if obj["apiVersion"].startswith(EDGE_GROUPS):
            try:
                validate_custom_resource(obj, folder)
            except UnknownCustomResource:
                continue  # the other project's release
            validated.add(obj["kind"])
    expected = (
        {"HTTPRoute"}
        if floor.startswith("gateway-api")
        else {"BackendTrafficPolicy", "HTTPRouteFilter", "SecurityPolicy"}
    )
    assert expected <= validated


@pytest.mark.parametrize("variant", VARIANTS, ids=["-".join(v) for v in VARIANTS])
def test_custom_resources_pass_their_crd_schema(stack_objects, crds, variant):
    custom = [obj for obj in objects_of(stack_objects, variant).values() if not is_core_object(obj)]
    assert {obj["kind"] for obj in custom} >= {
        "VerticalPodAutoscaler",
        "Certificate",
        "PrometheusRule",
        "ServiceMonitor",
        "AlertmanagerConfig",
    }
    for obj in custom:
        if obj["kind"] in WITHOUT_UPSTREAM_SCHEMA:
            continue
        # Kinds newer than the default-branch snapshots are in the releases' folders.
        folder = crds / "versions" / EDGE_FLOOR[0] if obj["kind"] in ONLY_IN_RELEASE_FOLDERS else crds
        validate_custom_resource(obj, folder)


def test_crd_validation_catches_a_bad_field(stack_objects, crds):
    import jsonschema

    vpa = dict(stack_objects("production")["VerticalPodAutoscaler/production/monad-synapse-blue-vpa"])
    vpa["spec"] = {**vpa["spec"], "updatePolicy": {"updateMode": "Sometimes"}}
    with pytest.raises(jsonschema.ValidationError):
        validate_custom_resource(vpa, crds)
    vpa["spec"] = {**vpa["spec"], "updatePolicy": {"updateMode": "Off"}, "unknownField": 1}
    with pytest.raises(jsonschema.ValidationError):
        validate_custom_resource(vpa, crds)


def test_strict_validation_catches_a_bad_field(stack_objects):
    service = dict(stack_objects("production")["Service/production/monad-synapse"])
    service["spec"] = {**service["spec"], "selectr": {}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, KUBERNETES_VERSIONS[-1], strict=True)
