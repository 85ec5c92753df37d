"""Pulumi.yaml and the stack files agree with the settings model."""

from __future__ import annotations

import pytest
import yaml

from settings import SECRET_KEYS, TOP_LEVEL_KEYS, Settings

SCALAR_TYPES = {
    "activeColor": "string",
    "maintenanceMode": "boolean",
    "jwtSecretVersion": "integer",
    "domain": "string",
    "namespace": "string",
}


@pytest.fixture(scope="module")
def project(project_dir) -> dict:
    return yaml.safe_load((project_dir / "Pulumi.yaml").read_text())


def test_project_identity(project):
    assert project["name"] == "monad-synapse"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"


def test_every_key_the_program_reads_is_declared_with_a_description(project):
    declared = project["config"]
    assert set(declared) == set(TOP_LEVEL_KEYS)
    for key, declaration in declared.items():
        assert len(declaration.get("description", "")) > 20, key


def test_scalar_keys_carry_type_and_model_default(project):
    for key, type_name in SCALAR_TYPES.items():
        declaration = project["config"][key]
        assert declaration["type"] == type_name
        field = next(f for f in Settings.model_fields.values() if f.alias == key)
        if field.is_required():
            assert "default" not in declaration, key  # required for every stack
        else:
            assert declaration["default"] == field.default, key


def test_secrets_are_declared_secret_without_default(project):
    for key in SECRET_KEYS:
        assert project["config"][key]["secret"] is True
        assert "default" not in project["config"][key]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_files_hold_only_differences(project_dir, project, stack):
    config = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text())["config"]
    for full_key, value in config.items():
        namespace, _, key = full_key.partition(":")
        assert namespace == "monad-synapse" and key in TOP_LEVEL_KEYS, full_key
        assert value != project["config"][key].get("default"), f"{full_key} repeats the project default"
    assert config["monad-synapse:namespace"] == stack
