"""Stack files are read the way the Pulumi CLI reads them (gopkg.in/yaml.v3
scalars, top-level values as their source text, the secret check), not with
PyYAML's YAML 1.1 rules."""

from __future__ import annotations

import shutil

import pytest

from settings import OPTIONAL_SECRET_KEYS, SECRET_KEYS, Settings, SettingsError, settings_from_raw
from tools.engine.stack_config import ConfigInputError, load_stack_yaml, resolve_config, resolve_plain_scalar


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),  # YAML 1.1 booleans are strings
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("~", None),
        ("null", None),
        ("15", 15),
        ("-3", -3),
        ("0755", 493),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", 1000),
        ("0b101", 5),
        ("1.5", 1.5),
        ("09", 9.0),
        ("1e3", 1000.0),
        ("1.2.3", "1.2.3"),
        ("12:30", "12:30"),  # YAML 1.1 would make 750 of 12:30 (base 60)
    ],
)
def test_nested_scalars_resolve_like_yaml_v3(text, value):
    assert resolve_plain_scalar(text) == value


def test_values_take_the_clis_round_trip():
    """pulumi config.Value.UnmarshalYAML decodes every value into `any`
    (yaml.v3), then object.MarshalString keeps strings and writes numbers and
    bools as JSON, and nested values go through JSON too
    (pulumi/sdk/go/common/resource/config/object.go)."""
    document = load_stack_yaml(
        "config:\n"
        "  p:maintenanceMode: on\n"
        "  p:count: 0755\n"
        "  p:hex: 0x10\n"
        "  p:octal: 010\n"
        "  p:ratio: 1.0\n"
        "  p:many: 1e3\n"
        "  p:flag: true\n"
        "  p:quoted: '0755'\n"
        "  p:empty: ~\n"
        "  p:appConfig:\n"
        "    FEATURE_X: yes\n"
        "    QUOTED: '0755'\n"
        "    OCTAL: 0755\n"
        "    WHOLE: 1.0\n"
        "    THOUSAND: 1e3\n"
        "    HALF: 1.5\n"
        "    HUGE: 1e21\n"
        "  p:vpa:\n"
        "    updateMode: Off\n"
    )["config"]
    assert document["p:maintenanceMode"] == "on"
    assert (document["p:count"], document["p:hex"], document["p:octal"]) == ("493", "16", "8")
    assert (document["p:ratio"], document["p:many"], document["p:flag"]) == ("1", "1000", "true")
    assert document["p:quoted"] == "0755" and document["p:empty"] == ""
    assert document["p:appConfig"] == {
        "FEATURE_X": "yes",
        "QUOTED": "0755",
        "OCTAL": 493,
        "WHOLE": 1,
        "THOUSAND": 1000,
        "HALF": 1.5,
        "HUGE": 1e21,
    }
    assert document["p:vpa"] == {"updateMode": "Off"}


def test_an_unquoted_time_becomes_gos_text_for_it():
    """yaml.v3 resolves it to a time.Time and Pulumi keeps time.Time.String()."""
    document = load_stack_yaml(
        "config:\n"
        "  p:at: 2026-11-30T01:55:00Z\n"
        "  p:day: 2026-11-30\n"
        "  p:database:\n"
        "    recovery:\n"
        "      targetTime: 2026-11-30T01:55:00.250Z\n"
        "      quoted: '2026-11-30T01:55:00Z'\n"
    )["config"]
    assert document["p:at"] == "2026-11-30 01:55:00 +0000 UTC"
    assert document["p:day"] == "2026-11-30 00:00:00 +0000 UTC"
    assert document["p:database"]["recovery"] == {
        "targetTime": "2026-11-30 01:55:00.25 +0000 UTC",
        "quoted": "2026-11-30T01:55:00Z",
    }


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("  p:at: 2026-11-30T01:55:00+01:00\n", "time zone"),
        ("  p:nested:\n    at: 2026-11-30T01:55:00-05:00\n", "time zone"),
        ("  p:forever: .inf\n", "JSON"),
        ("  maintenanceMode: true\n", "<namespace>:<name>"),
        ("  p:sub:key: x\n", "<namespace>:<name>"),
        ("  p:key: a\n  p:config:key: b\n", "same key"),
    ],
)
def test_what_the_cli_reads_differently_or_refuses_is_refused_with_the_reason(line, reason):
    with pytest.raises(ConfigInputError, match=reason):
        load_stack_yaml("config:\n" + line)


def test_the_legacy_config_form_names_the_project_key():
    assert load_stack_yaml("config:\n  p:config:maintenanceMode: 'true'\n")["config"] == {"p:maintenanceMode": "true"}


def test_an_unquoted_target_time_is_refused_with_a_hint_to_quote_it(project):
    resolved = project(
        "  monad-synapse:database:\n    kind: cloudnativepg\n    recovery:\n      targetTime: 2026-11-30T01:55:00Z\n"
    )
    with pytest.raises(SettingsError) as caught:
        settings_of(resolved)
    problem = next(p for p in caught.value.problems if p.path == "database.recovery.targetTime")
    assert "quote" in str(problem)


@pytest.fixture
def project(tmp_path, project_dir):
    shutil.copy(project_dir / "Pulumi.yaml", tmp_path / "Pulumi.yaml")

    def with_stack(body: str):
        base = (project_dir / "Pulumi.staging.yaml").read_text()
        (tmp_path / "Pulumi.staging.yaml").write_text(base + body)
        return resolve_config("staging", project_dir=tmp_path)

    return with_stack


def settings_of(resolved) -> Settings:
    """Validate what the program reads as plain config (secrets come apart)."""
    raw = {
        key: value
        for key, value in resolved.values.items()
        if key not in SECRET_KEYS and key not in OPTIONAL_SECRET_KEYS
    }
    return settings_from_raw(raw, "staging")


def test_maintenance_mode_on_is_refused_as_the_cli_does(project):
    resolved = project("  monad-synapse:maintenanceMode: on\n")
    with pytest.raises(SettingsError) as caught:
        settings_of(resolved)
    assert "maintenanceMode" in {problem.path for problem in caught.value.problems}


def test_app_config_yes_stays_yes_and_vpa_off_is_accepted(project):
    resolved = project("  monad-synapse:appConfig:\n    FEATURE_X: yes\n  monad-synapse:vpa:\n    updateMode: Off\n")
    settings = settings_of(resolved)
    assert settings.app_config["FEATURE_X"] == "yes"
    assert settings.vpa.update_mode == "Off"


def test_a_plaintext_value_under_a_secret_key_is_refused_without_showing_it(project):
    with pytest.raises(ConfigInputError) as caught:
        project("  monad-synapse:redisUrl: rediss://:hunter2@cache:6379/0\n")
    message = str(caught.value)
    assert "redisUrl" in message and "must be encrypted" in message
    assert "pulumi config set --secret redisUrl" in message
    assert "hunter2" not in message


def test_an_encrypted_value_is_accepted(project):
    resolved = project("  monad-synapse:databaseUrl:\n    secure: AAABAHZ0Ym9yaW5n\n")
    assert "databaseUrl" in resolved.secret_keys
