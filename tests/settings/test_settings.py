"""Validation rules of the settings package: each accepts good values and refuses bad
ones with a message naming the key, the value and the fix."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from settings import Settings, SettingsError, parse_quantity, settings_from_raw
from tests.helpers import VALID_SETTINGS

VALID = VALID_SETTINGS


def settings_with(**overrides: Any) -> Settings:
    return settings_from_raw({**VALID, **overrides}, "production")


def problems_of(**overrides: Any) -> dict[str, str]:
    """path -> full problem text, for a config that must be refused."""
    with pytest.raises(SettingsError) as caught:
        settings_with(**overrides)
    return {problem.path: str(problem) for problem in caught.value.problems}


def test_defaults_are_production_values():
    settings = settings_with()
    assert settings.active_color == "blue"
    assert settings.idle_color == "green"
    assert (settings.autoscaling.min_replicas, settings.autoscaling.max_replicas) == (3, 20)
    assert (settings.autoscaling.cpu_utilization, settings.autoscaling.memory_utilization) == (70, 80)
    assert settings.vpa.update_mode == "Off"
    assert settings.maintenance_mode is False
    assert settings.warm_idle_replicas == 3  # 'auto' follows the live minimum
    assert settings.idle_is_cold is False


def test_settings_are_immutable():
    settings = settings_with()
    with pytest.raises(ValidationError, match="frozen"):
        settings.active_color = "green"
    with pytest.raises(TypeError):
        settings.app_config["NEW"] = "x"  # type: ignore[index]


@pytest.mark.parametrize("color", ["blue", "green"])
def test_active_color_accepts_both_colors(color):
    settings = settings_with(activeColor=color)
    assert settings.active_color == color
    assert settings.idle_color != color


@pytest.mark.parametrize("color", ["red", "Blue", ""])
def test_unknown_color_is_refused(color):
    problem = problems_of(activeColor=color)["activeColor"]
    assert "'blue' or 'green'" in problem
    assert "pulumi config set activeColor blue -s production" in problem


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/monad-synapse/monad-synapse:1.4.2",
        "registry.local:5000/team/app:v2",
        "nginx:1.27",
        "ghcr.io/monad-synapse/monad-synapse@sha256:" + "a" * 64,
        "ghcr.io/monad-synapse/monad-synapse:latest@sha256:" + "b" * 64,
    ],
)
def test_pinned_images_are_accepted(image):
    assert settings_with(colors={**VALID["colors"], "green": {"image": image}}).image_of("green") == image


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ghcr.io/monad-synapse/monad-synapse", "no tag or digest"),
        ("ghcr.io/monad-synapse/monad-synapse:latest", "'latest' tag is mutable"),
        ("ghcr.io/Monad/App:1", "not an image reference"),
        ("https://ghcr.io/app:1", "not an image reference"),
    ],
)
def test_bad_images_are_refused(image, reason):
    problem = problems_of(colors={**VALID["colors"], "blue": {"image": image}})["colors.blue.image"]
    assert reason in problem
    assert "--path colors.blue.image" in problem


def test_missing_colors_says_how_to_set_both_images():
    with pytest.raises(SettingsError) as caught:
        settings_from_raw({"domain": "monad-synapse.com", "namespace": "production"}, "production")
    (problem,) = caught.value.problems
    assert problem.path == "colors"
    assert "colors.blue.image" in problem.fix and "colors.green.image" in problem.fix


@pytest.mark.parametrize(("minimum", "maximum"), [(1, 1), (3, 20), (8, 15)])
def test_replica_bounds_accepted(minimum, maximum):
    settings = settings_with(autoscaling={"minReplicas": minimum, "maxReplicas": maximum})
    assert (settings.autoscaling.min_replicas, settings.autoscaling.max_replicas) == (minimum, maximum)


@pytest.mark.parametrize(
    ("field", "value"), [("minReplicas", 0), ("maxReplicas", 0), ("minReplicas", -2), ("maxReplicas", "many")]
)
def test_non_positive_replicas_are_refused(field, value):
    problem = problems_of(autoscaling={field: value})[f"autoscaling.{field}"]
    assert f"--path autoscaling.{field}" in problem


def test_min_above_max_is_refused_naming_min_and_suggesting_max():
    problem = problems_of(autoscaling={"minReplicas": 8, "maxReplicas": 5})["autoscaling.minReplicas"]
    assert "above maxReplicas 5" in problem
    assert "pulumi config set --path autoscaling.minReplicas 5 -s production" in problem


@pytest.mark.parametrize("field", ["cpuUtilization", "memoryUtilization"])
@pytest.mark.parametrize("value", [0, 101, -5])
def test_utilization_outside_1_to_100_is_refused(field, value):
    assert f"autoscaling.{field}" in problems_of(autoscaling={field: value})


@pytest.mark.parametrize("value", [1, 100, "55"])
def test_utilization_inside_range_accepted(value):
    assert settings_with(autoscaling={"cpuUtilization": value}).autoscaling.cpu_utilization == int(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", 0.25), ("1", 1), ("1.5", 1.5), ("2Gi", 2 * 2**30), ("512Mi", 512 * 2**20), ("1e3", 1000), ("1k", 1000)],
)
def test_parse_quantity(text, value):
    assert float(parse_quantity(text)) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "10 Mi", "5X", "Mi"])
def test_parse_quantity_refuses_garbage(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_setting_one_resource_keeps_the_other_defaults():
    settings = settings_with(resources={"limits": {"memory": "2Gi"}})
    assert settings.resources.limits.memory == "2Gi"
    assert settings.resources.limits.cpu == "1"
    assert settings.resources.requests.memory == "512Mi"
    assert settings.resources.memory_limit_mebibytes == 2048


def test_numeric_cpu_from_path_config_is_a_quantity():
    assert settings_with(resources={"limits": {"cpu": 2}}).resources.limits.cpu == "2"


@pytest.mark.parametrize(
    ("resources", "path", "reason"),
    [
        ({"limits": {"memory": "lots"}}, "resources.limits.memory", "not a Kubernetes quantity"),
        ({"requests": {"cpu": "0"}}, "resources.requests.cpu", "greater than zero"),
        ({"requests": {"memory": "512m"}}, "resources.requests.memory", "milli-bytes"),
        ({"requests": {"cpu": "2"}}, "resources.requests.cpu", "above limits.cpu"),
        ({"limits": {"memory": "256Mi"}}, "resources.requests.memory", "above limits.memory 256Mi"),
    ],
)
def test_bad_resources_are_refused(resources, path, reason):
    problem = problems_of(resources=resources)[path]
    assert reason in problem
    assert f"--path {path}" in problem


@pytest.mark.parametrize("mode", ["Off", "Initial"])
def test_vpa_modes_that_do_not_evict_are_accepted(mode):
    assert settings_with(vpa={"updateMode": mode}).vpa.update_mode == mode


@pytest.mark.parametrize("mode", ["Auto", "Recreate", "InPlaceOrRecreate", "InPlace"])
def test_vpa_modes_that_fight_the_hpa_are_refused(mode):
    problem = problems_of(vpa={"updateMode": mode})["vpa.updateMode"]
    assert "HPA" in problem and "Off" in problem


def test_unknown_vpa_mode_is_refused():
    assert "must be Off or Initial" in problems_of(vpa={"updateMode": "Sometimes"})["vpa.updateMode"]


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), ("true", True), ("FALSE", False)])
def test_maintenance_mode_accepts_booleans(value, expected):
    assert settings_with(maintenanceMode=value).maintenance_mode is expected


@pytest.mark.parametrize("value", ["yes", "1", "on", "maybe", 1])
def test_non_boolean_maintenance_mode_is_refused(value):
    assert "true or false" in problems_of(maintenanceMode=value)["maintenanceMode"]


@pytest.mark.parametrize(("value", "expected"), [("auto", 3), (0, 0), ("2", 2), (5, 5)])
def test_idle_replicas(value, expected):
    settings = settings_with(idleReplicas=value)
    assert settings.warm_idle_replicas == expected
    assert settings.idle_is_cold is (expected < 3)


@pytest.mark.parametrize("value", [-1, "-3", "some", True])
def test_bad_idle_replicas_are_refused(value):
    assert "'auto' or a whole number from 0 to 1000" in problems_of(idleReplicas=value)["idleReplicas"]


@pytest.mark.parametrize("value", [0, 1, "7"])
def test_jwt_secret_version_accepts_non_negative(value):
    assert settings_with(jwtSecretVersion=value).jwt_secret_version == int(value)


@pytest.mark.parametrize("value", [-1, "two"])
def test_bad_jwt_secret_version_is_refused(value):
    assert "jwtSecretVersion" in problems_of(jwtSecretVersion=value)


def test_app_config_values_become_strings_sorted():
    settings = settings_with(appConfig={"NEW_CONFIG_KEY": "new_value", "FEATURE_FLAG": True, "LIMIT": 3})
    assert dict(settings.app_config) == {"FEATURE_FLAG": "true", "LIMIT": "3", "NEW_CONFIG_KEY": "new_value"}


def test_every_bad_app_config_key_is_reported():
    problems = problems_of(appConfig={"MAINTENANCE_MODE": "x", "JWT_SECRET": "y", "lower": "z", "STRIPE_API_KEY": "k"})
    assert "collides with a key the program manages" in problems["appConfig.MAINTENANCE_MODE"]
    assert "collides with a key the program manages" in problems["appConfig.JWT_SECRET"]
    assert "not an environment variable name" in problems["appConfig.lower"]
    assert "looks like a secret" in problems["appConfig.STRIPE_API_KEY"]


def test_nested_app_config_value_is_refused():
    assert "give a plain value" in problems_of(appConfig={"NESTED": {"a": 1}})["appConfig.NESTED"]


@pytest.mark.parametrize("domain", ["monad-synapse.com", "staging.monad-synapse.com", "a-b.example.co.uk"])
def test_host_names_accepted(domain):
    assert settings_with(domain=domain).domain == domain


@pytest.mark.parametrize(
    "domain",
    [
        "https://monad-synapse.com",
        "monad-synapse.com/",
        "*.monad-synapse.com",
        "Monad-Synapse.com",
        "localhost",
        "monad_synapse.com",
        "-bad.com",
        "monad-synapse.com:443",
        "10.0.0.1",
        "a" * 64 + ".com",
    ],
)
def test_bad_domains_are_refused(domain):
    problem = problems_of(domain=domain)["domain"]
    assert "not a valid host name" in problem
    assert "pulumi config set domain monad-synapse.com -s production" in problem


@pytest.mark.parametrize("namespace", ["Production", "prod_1", "", "-x", "a" * 64])
def test_bad_namespaces_are_refused(namespace):
    assert "namespace" in problems_of(namespace=namespace)


def test_network_targets_keep_defaults_and_refuse_bad_cidrs():
    settings = settings_with(network={"postgres": {"port": 6432}})
    assert settings.network.postgres.port == 6432
    assert "10.0.0.0/8" in settings.network.postgres.cidrs
    problems = problems_of(network={"redis": {"cidrs": ["10.0.0.1/8"]}, "rpc": {"port": 70000}})
    assert "host bits set" in problems["network.redis.cidrs"]
    assert "network.rpc.port" in problems


def test_unknown_nested_key_suggests_the_right_one():
    problem = problems_of(autoscaling={"maxReplica": 15})["autoscaling.maxReplica"]
    assert "did you mean autoscaling.maxReplicas" in problem
    assert "pulumi config rm --path autoscaling.maxReplica" in problem


def test_unknown_top_level_key_that_belongs_in_a_section_is_explained():
    problem = problems_of(maxReplicas="15")["maxReplicas"]
    assert "did you mean autoscaling.maxReplicas" in problem


def test_all_problems_are_reported_at_once_with_value_and_fix():
    with pytest.raises(SettingsError) as caught:
        settings_with(activeColor="red", autoscaling={"maxReplicas": 0}, maintenanceMode="maybe", domain="x")
    error = caught.value
    assert {problem.path for problem in error.problems} == {
        "activeColor",
        "autoscaling.maxReplicas",
        "maintenanceMode",
        "domain",
    }
    text = str(error)
    assert "4 problem(s)" in text and "nothing was deployed" in text
    assert 'activeColor = "red"' in text
    assert text.count("fix: pulumi config") == 4


# --- edge ------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("connections", 0), ("rps", -1), ("burstMultiplier", 0)])
def test_non_positive_rate_limits_are_refused(field, value):
    assert f"rateLimit.{field}" in problems_of(rateLimit={field: value})


def test_unknown_edge_kind_is_refused():
    problem = problems_of(edge={"kind": "traefik"})["edge.kind"]
    assert "'ingress-nginx' or 'gateway'" in problem


def test_preview_host_outside_the_domain_is_refused():
    problem = problems_of(edge={"preview": {"host": "preview.example.org"}})["edge.preview.host"]
    assert "not under domain monad-synapse.com" in problem
    assert "edge.preview.host preview.monad-synapse.com" in problem


@pytest.mark.parametrize("cidrs", [[], ["0.0.0.0/0"], ["10.0.0.0/8", "::/0"]])
def test_production_preview_open_to_everyone_is_refused(cidrs):
    assert "edge.preview.allowCidrs" in problems_of(edge={"preview": {"allowCidrs": cidrs}})


def test_open_preview_is_fine_outside_production_and_when_disabled():
    staging = settings_from_raw({**VALID, "namespace": "staging", "edge": {"preview": {"allowCidrs": []}}}, "staging")
    assert staging.edge.preview.allow_cidrs == ()
    assert settings_with(edge={"preview": {"enabled": False, "allowCidrs": []}}).edge.preview.enabled is False


def test_edge_names_and_sources():
    production = settings_with()
    assert (production.edge_environment, production.preview_host, production.edge_namespaces) == (
        "prod",
        "preview.monad-synapse.com",
        ("envoy-gateway-system",),
    )
    assert settings_with(edge={"kind": "ingress-nginx"}).edge_namespaces == ("ingress-nginx",)
    migrating = settings_with(edge={"kind": "gateway", "keepIngressDuringMigration": True})
    assert migrating.edge_namespaces == ("ingress-nginx", "envoy-gateway-system")
    assert settings_with(network={"ingressNamespace": "edge"}).edge_namespaces == ("edge",)


def test_keeping_ingresses_needs_gateway_mode():
    problem = problems_of(edge={"kind": "ingress-nginx", "keepIngressDuringMigration": True})[
        "edge.keepIngressDuringMigration"
    ]
    assert "edge.kind gateway" in problem


@pytest.mark.parametrize("size", ["8mb", "0", "-1m", "big"])
def test_bad_body_size_is_refused(size):
    assert "edge.proxyBodySize" in problems_of(edge={"proxyBodySize": size})


# --- backups -----------------------------------------------------------------------

from settings import max_interval_seconds  # noqa: E402


@pytest.mark.parametrize(
    ("schedule", "gap"), [("0 * * * *", 3600), ("*/15 * * * *", 900), ("30 2 * * *", 86400), ("0 4 1 * *", 31 * 86400)]
)
def test_longest_gap_of_a_schedule(schedule, gap):
    assert max_interval_seconds(schedule) == gap


@pytest.mark.parametrize("schedule", ["every hour", "* * * *", "61 * * * *", "0 0 * * * *", ""])
def test_bad_cron_schedules_are_refused(schedule):
    problem = problems_of(backup={"schedule": schedule})["backup.schedule"]
    assert "cron schedule" in problem
    assert "'0 * * * *'" in problem  # quoted for the shell


def test_restore_needs_a_request_id_confirmation_and_maintenance():
    problem = problems_of(restore={"fromBackup": "latest"})["restore.requestId"]
    assert "restore.requestId incident-4711" in problem
    problem = problems_of(restore={"fromBackup": "latest", "requestId": "r1"})["restore.confirm"]
    assert "restore.confirm production" in problem
    problem = problems_of(restore={"fromBackup": "latest", "confirm": "production", "requestId": "r1"})[
        "maintenanceMode"
    ]
    assert "pulumi config set maintenanceMode true" in problem
    settings = settings_with(
        maintenanceMode=True, restore={"fromBackup": "latest", "confirm": "production", "requestId": 4711}
    )
    assert settings.restore.from_backup == "latest"
    assert settings.restore.request_id == "4711"  # `--path restore.requestId 4711` stores a number


@pytest.mark.parametrize("name", ["backup.sql", "../x.dump", "monad-synapse-2026.dump"])
def test_restore_from_unknown_file_names_is_refused(name):
    assert "restore.fromBackup" in problems_of(restore={"fromBackup": name})


def test_backup_image_must_match_the_server_major():
    assert "not PostgreSQL 15" in problems_of(backup={"image": "postgres:16-alpine"})["backup.image"]
    assert settings_with(backup={"image": "postgres:16.4", "postgresMajorVersion": 16}).backup.image == "postgres:16.4"


def test_liveness_must_not_ask_what_readiness_asks():
    problem = problems_of(probes={"livenessPath": "/api/health", "readinessPath": "/api/health"})["probes.livenessPath"]
    assert "restart every pod" in problem and "/api/live" in problem
    assert problems_of(probes={"livenessPath": "api/live"})["probes.livenessPath"]


@pytest.mark.parametrize(
    ("resources", "key", "fix"),
    [
        ({"requests": {"memory": "256Mi"}}, "resources.requests.memory", "280Mi"),
        ({"requests": {"memory": "160Mi"}, "limits": {"memory": "160Mi"}}, "resources.requests.memory", "280Mi"),
        ({"requests": {"memory": "300Mi"}, "limits": {"memory": "160Mi"}}, "resources.requests.memory", None),
    ],
)
def test_memory_that_cannot_hold_a_heap_under_the_hpa_target_is_refused(resources, key, fix):
    problems = problems_of(resources=resources)
    assert key in problems
    if fix:
        assert f"--path {key} {fix}" in problems[key]


def test_a_heap_budget_that_fits_is_accepted_at_full_utilization():
    settings = settings_with(
        resources={"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}, autoscaling={"memoryUtilization": 100}
    )
    assert settings.node_heap_mebibytes == 768


def test_heap_settles_under_the_memory_target_by_default():
    settings = settings_with()
    request_mib = 512
    assert settings.node_heap_mebibytes + 96 <= request_mib * settings.autoscaling.memory_utilization / 100


def test_priority_class_is_off_unless_named_and_create_needs_a_name():
    assert settings_with().priority_class.name is None
    assert "priorityClass.name" in problems_of(priorityClass={"create": True})
    assert (
        settings_with(priorityClass={"name": "monad-synapse-production", "create": True}).priority_class.value == 100000
    )


def test_an_egress_allowance_needs_at_least_one_cidr():
    """Only a stack file can give an empty list (`--set` cannot)."""
    problem = problems_of(network={"redis": {"cidrs": []}})["network.redis.cidrs"]
    assert "at least one CIDR" in problem


@pytest.mark.parametrize(
    "overrides, path",
    [
        (
            {"database": {"kind": "cloudnativepg", "cloudnativepg": {"objectStore": {"bucket": "wal", "cidrs": []}}}},
            "database.cloudnativepg.objectStore.cidrs",
        ),
        (
            {
                "database": {
                    "kind": "cloudnativepg",
                    "cloudnativepg": {"objectStore": {"bucket": "wal"}, "apiServerCidrs": []},
                }
            },
            "database.cloudnativepg.apiServerCidrs",
        ),
        ({"backup": {"storage": {"kind": "s3", "s3": {"bucket": "dumps", "cidrs": []}}}}, "backup.storage.s3.cidrs"),
    ],
    ids=["object-store", "api-server", "backup-store"],
)
def test_every_egress_list_needs_a_cidr(overrides, path):
    """An empty egress list (only a stack file can write one) failed with a
    traceback while resources were built, or, for the backup store, became
    a rule without destinations."""
    problems = problems_of(**overrides)
    assert "needs at least one CIDR" in problems[path]


def test_independent_cross_section_problems_are_reported_together():
    """One run names every rule that spans sections, not the first to fail:
    a restore without maintenance mode and without a request id, a
    single-instance production database, and an open production preview."""
    problems = problems_of(
        backup={"enabled": True},
        restore={"fromBackup": "latest", "confirm": "production"},
        database={
            "kind": "cloudnativepg",
            "cloudnativepg": {"instances": 1, "objectStore": {"bucket": "monad-synapse-wal"}},
        },
        edge={"preview": {"enabled": True, "allowCidrs": ["0.0.0.0/0"]}},
    )
    assert {
        "restore.requestId",
        "maintenanceMode",
        "database.cloudnativepg.instances",
        "edge.preview.allowCidrs",
    } <= set(problems), problems


# --- fix lines move toward what the user meant -----------------------------------------


@pytest.mark.parametrize(
    ("overrides", "path", "meant"),
    [
        ({"maintenanceMode": "yes"}, "maintenanceMode", "pulumi config set maintenanceMode true"),
        ({"maintenanceMode": "off"}, "maintenanceMode", "pulumi config set maintenanceMode false"),
        ({"adoptExistingObjects": "enabled"}, "adoptExistingObjects", "pulumi config set adoptExistingObjects true"),
        ({"activeColor": "Green"}, "activeColor", "pulumi config set activeColor green"),
        ({"activeColor": "gren"}, "activeColor", "pulumi config set activeColor green"),
        ({"vpa": {"updateMode": "initial"}}, "vpa.updateMode", "vpa.updateMode Initial"),
    ],
)
def test_a_fix_keeps_the_meaning_of_a_mistyped_value(overrides, path, meant):
    assert meant in problems_of(**overrides)[path]


@pytest.mark.parametrize("key", ["stripe-api-key", "jwt-secret", "node-env"])
def test_a_renamed_key_is_never_one_the_rules_refuse(key):
    """`stripe-api-key` would become STRIPE_API_KEY (secret-looking) and
    `jwt-secret` JWT_SECRET (managed): suggesting either repeats a refusal."""
    problem = problems_of(appConfig={key: "1"})[f"appConfig.{key}"]
    fix = problem.split("fix: ")[1]
    assert f"appConfig.{key.upper().replace('-', '_')}" not in fix
    assert f"pulumi config rm --path appConfig.{key}" in fix


def test_a_restore_left_after_maintenance_is_removed_not_maintenance_turned_back_on():
    problem = problems_of(
        backup={"enabled": True}, restore={"fromBackup": "latest", "confirm": "production", "requestId": "inc-1"}
    )["maintenanceMode"]
    fix = problem.split("fix: ")[1]
    assert fix.startswith("pulumi config rm restore -s production")
    assert "maintenanceMode true" in problem.split("fix: ")[0]  # the other way is said, not the default
