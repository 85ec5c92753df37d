"""resolve_config reproduces how the Pulumi CLI assembles a stack's config."""

from __future__ import annotations

import pytest
import yaml

from tools.stack_config import (
    SECRET_PLACEHOLDER,
    ConfigInputError,
    parse_path,
    parse_path_value,
    resolve_config,
)


def test_project_defaults_then_stack_file(project_dir):
    resolved = resolve_config("staging")
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["config"]
    assert resolved.values["activeColor"] == project["activeColor"]["default"]
    assert resolved.values["namespace"] == "staging"
    assert resolved.values["autoscaling"] == {"minReplicas": 2, "maxReplicas": 4}  # stack replaces the default


def test_path_sets_create_nested_values_with_cli_typing():
    resolved = resolve_config(
        "production",
        sets=("autoscaling.maxReplicas=15", "appConfig.FLAG=true", "appConfig.CODE=007", "maintenanceMode=true"),
    )
    assert resolved.values["autoscaling"] == {"maxReplicas": 15}
    assert resolved.values["appConfig"] == {"FLAG": True, "CODE": "007"}
    # Top-level values are always strings, as `pulumi config set` stores them.
    assert resolved.values["maintenanceMode"] == "true"


def test_path_syntax():
    assert parse_path('a.b["c.d"][2]') == ["a", "b", "c.d", 2]
    for bad in ("", ".a", "a..b", "[0]", "a b"):
        with pytest.raises(ConfigInputError):
            parse_path(bad)


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("false", False), ("15", 15), ("-3", -3), ("0", 0), ("007", "007"),
                        ("1.5", "1.5"), ("yes", "yes"), ("", "")]
)
def test_path_value_typing(text, value):
    assert parse_path_value(text) == value


def test_unset_secrets_become_placeholders_with_a_warning():
    resolved = resolve_config("staging")
    assert resolved.values["databaseUrl"] == SECRET_PLACEHOLDER
    assert {"databaseUrl", "redisUrl"} <= resolved.secret_keys
    assert any("databaseUrl is not set" in warning for warning in resolved.warnings)


def test_set_secret_marks_the_key_secret_and_remembers_the_plaintext():
    resolved = resolve_config("staging", secret_sets=("databaseUrl=postgresql://u:hunter2@db:5432/app",))
    assert resolved.values["databaseUrl"] == "postgresql://u:hunter2@db:5432/app"
    assert "postgresql://u:hunter2@db:5432/app" in resolved.secret_plaintexts
    flat, secret_keys = resolved.runtime_config()
    assert "monad-synapse:databaseUrl" in secret_keys
    assert not any("databaseUrl is not set" in warning for warning in resolved.warnings)


def test_encrypted_stack_values_become_placeholders(tmp_path, project_dir):
    (tmp_path / "Pulumi.yaml").write_text((project_dir / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.enc.yaml").write_text(
        yaml.safe_dump({"config": {"monad-synapse:databaseUrl": {"secure": "v1:abcdef"}, "kubernetes:context": "kind"}})
    )
    resolved = resolve_config("enc", project_dir=tmp_path)
    assert resolved.values["databaseUrl"] == SECRET_PLACEHOLDER
    assert "databaseUrl" in resolved.secret_keys
    assert resolved.foreign == {"kubernetes:context": "kind"}
    assert any("cannot be decrypted offline" in warning for warning in resolved.warnings)


@pytest.mark.parametrize("stack", ["prod", "../etc", "staging;rm"])
def test_unknown_stack_is_named(stack):
    with pytest.raises(ConfigInputError) as caught:
        resolve_config(stack)
    assert repr(stack) in str(caught.value)
    assert "production, staging" in str(caught.value)


def test_malformed_set_flag_is_refused():
    with pytest.raises(ConfigInputError, match="PATH=VALUE"):
        resolve_config("staging", sets=("maintenanceMode",))


def test_secret_keys_must_use_set_secret():
    with pytest.raises(ConfigInputError, match="--set-secret databaseUrl=VALUE"):
        resolve_config("staging", sets=("databaseUrl=postgresql://u:p@h/db",))
