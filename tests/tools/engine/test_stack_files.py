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
        ("2001-12-14", "2001-12-14"),  # timestamps stay text
        ("1.2.3", "1.2.3"),
        ("12:30", "12:30"),  # YAML 1.1 would make 750 of 12:30 (base 60)
    ],
)
def test_nested_scalars_resolve_like_yaml_v3(text, value):
    assert resolve_plain_scalar(text) == value


def test_top_level_values_keep_their_text_and_nested_ones_resolve():
    document = load_stack_yaml(
        "config:\n"
        "  p:maintenanceMode: on\n"
        "  p:count: 0755\n"
        "  p:empty: ~\n"
        "  p:appConfig:\n"
        "    FEATURE_X: yes\n"
        "    QUOTED: '0755'\n"
        "    OCTAL: 0755\n"
        "  p:vpa:\n"
        "    updateMode: Off\n"
    )["config"]
    assert document["p:maintenanceMode"] == "on" and document["p:count"] == "0755" and document["p:empty"] == ""
    assert document["p:appConfig"] == {"FEATURE_X": "yes", "QUOTED": "0755", "OCTAL": 493}
    assert document["p:vpa"] == {"updateMode": "Off"}


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
