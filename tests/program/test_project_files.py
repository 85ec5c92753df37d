"""Pulumi.yaml and the stack files agree with the settings model."""

from __future__ import annotations

import pytest
import yaml

from settings import OPTIONAL_SECRET_KEYS, SECRET_KEYS, TOP_LEVEL_KEYS, Settings

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
    """Secrets every stack needs are `secret: true` without a default, so the
    CLI requires them. Secrets only some configurations need (databaseUrl
    with the external database, object-store keys...) have an empty default
    and the program checks they are encrypted."""
    from settings.contract import OPTIONAL_SECRET_NEEDED_BY
    from tools.engine.stack_config import SECRETS_WITH_EMPTY_DEFAULT

    for key in SECRET_KEYS:
        assert project["config"][key]["secret"] is True
        assert "default" not in project["config"][key]
    for key in OPTIONAL_SECRET_KEYS:
        assert project["config"][key]["default"] == "" and "secret" not in project["config"][key]
    # The offline renderer gives a placeholder to those the default config needs.
    assert set(SECRETS_WITH_EMPTY_DEFAULT) == {
        key for key, reason in OPTIONAL_SECRET_NEEDED_BY.items() if reason == "database.kind external"
    }


def test_the_sdk_free_tools_import_neither_the_sdk_nor_the_settings():
    import subprocess
    import sys

    code = (
        "import sys, tools.diff, tools.manifest, tools.engine.schemas, tools.engine.stack_config; "
        "print(sorted(name for name in ('pulumi', 'settings', 'pydantic') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_stack_files_hold_only_differences(project_dir, project, stack):
    config = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text())["config"]
    for full_key, value in config.items():
        namespace, _, key = full_key.partition(":")
        assert namespace == "monad-synapse" and key in TOP_LEVEL_KEYS, full_key
        assert value != project["config"][key].get("default"), f"{full_key} repeats the project default"
    assert config["monad-synapse:namespace"] == stack


def test_documentation_links_resolve(project_dir):
    """Every relative link and #anchor in the README and docs/ points somewhere."""
    import re

    def anchors(path) -> set[str]:
        text = path.read_text()
        found = set(re.findall(r'<a id="([^"]+)"></a>', text))
        for line in text.splitlines():
            if line.startswith("#"):
                found.add(re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-"))
        return found

    documents = [project_dir / "README.md", *sorted((project_dir / "docs").glob("*.md"))]
    assert len(documents) >= 5
    broken = []
    for document in documents:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            file, _, anchor = target.partition("#")
            resolved = (document.parent / file).resolve() if file else document
            if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
                broken.append(f"{document.name}: {target}")
    assert broken == []


def test_make_help_lists_the_targets(project_dir):
    import subprocess

    result = subprocess.run(["make", "--no-print-directory", "help"], cwd=project_dir, capture_output=True, text=True)
    assert result.returncode == 0
    for target in ("render", "test", "format", "scan", "diff", "bench", "deps"):
        assert f"  {target}" in result.stdout, target


def test_the_first_render_says_what_it_is_waiting_for(tmp_path, project_dir):
    """A fresh machine's first `make render` installs the pinned
    dependencies for about a minute: it says so before it starts."""
    import subprocess

    result = subprocess.run(
        ["make", "-n", "render", f"VENV={tmp_path / 'venv'}"],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stdout.splitlines()
    announce = next(index for index, line in enumerate(lines) if "installing the pinned dependencies" in line)
    assert announce < next(index for index, line in enumerate(lines) if "pip install" in line)
