"""The app's ConfigMaps and Secret on their own, under the mock engine."""

from __future__ import annotations

import pulumi
from pulumi.runtime import rpc

from components.app.app_config import AppConfiguration, AppConfigurationArgs, config_map_data
from tests.helpers import children_of, objects_of


def test_config_map_data_managed_keys_win():
    data = config_map_data("example.com", True, {"EXTRA": "1"})
    assert data["MAINTENANCE_MODE"] == "true"
    assert data["EXTRA"] == "1"
    assert list(data) == sorted(data)


def test_app_configuration_keeps_secrets_secret_and_exposes_plain_checksums(run_component):
    captured = {}

    def build():
        component = AppConfiguration(
            "cfg",
            AppConfigurationArgs(
                namespace="team-a",
                domain="example.com",
                maintenance_mode=False,
                app_config={"FEATURE": "shared", "LEVEL": "1"},
                color_app_config={"blue": {}, "green": {"FEATURE": "staged"}},
                jwt_secret_version=3,
                database_url=pulumi.Output.secret("postgresql://u:p@h/db"),
                redis_url=pulumi.Output.secret("redis://h:6379"),
            ),
        )
        captured["checksum"] = component.secret_checksum
        captured["config"] = component.config_checksums

    run = run_component(build)
    # The shared ConfigMap, one per color, Secret, the JWT RandomPassword and the checksum salt.
    assert len(children_of(run, "monad:app:AppConfiguration")) == 6
    objects = objects_of(run)
    assert objects["ConfigMap/monad-synapse-config-green"]["data"] == {"FEATURE": "staged"}
    assert objects["ConfigMap/monad-synapse-config-blue"].get("data") in (None, {})
    # Each color's checksum is of what its pods see: folding green's overlay
    # into the shared map later leaves green's checksum (and pods) alone.
    from components.app.app_config import config_map_data
    from components.common.checksums import checksum

    folded = config_map_data("example.com", False, {"FEATURE": "staged", "LEVEL": "1"})
    assert captured["config"]["green"] == checksum(folded) != captured["config"]["blue"]
    (secret,) = [r for r in run.resources if r.type == "kubernetes:core/v1:Secret"]
    assert rpc.is_rpc_secret(secret.inputs["stringData"])
    (password,) = [r for r in run.resources if r.type.startswith("random:") and r.name.endswith("jwt-secret")]
    assert password.inputs["keepers"] == {"jwtSecretVersion": "3"}
    assert password.inputs["length"] >= 64
    from pulumi.runtime.sync_await import _sync_await

    checksum_output = captured["checksum"]
    assert _sync_await(checksum_output.is_secret()) is False
    value = _sync_await(checksum_output.future())
    assert value is not None and len(value) == 64
