"""The offline renderer's command-line contract, exercised as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import CLOUDNATIVEPG, DR_SITE
from tools.engine.stack_config import PROJECT_DIR
from tools.manifest import CLUSTER_SCOPED_KINDS

DATABASE_URL = "postgresql://app:s3cr3t-Passw0rd@db.internal:5432/monad"
REDIS_URL = "rediss://:r3dis-Passw0rd@cache.internal:6379/0"


def run_render(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.render", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.fixture
def render_main(capsys, monkeypatch):
    """The same command line, in this process (no interpreter start-up or
    SDK import per call): exit code, stdout and stderr as a subprocess gives
    them. Tests of what reaches the terminal keep the real subprocess.

    The app's program runs once per config in the session (these tests are
    about the command around it; the subprocess above runs it afresh)."""
    from tests.helpers import cached_render
    from tools import render as renderer

    def render_once(stack, sets=(), secret_sets=(), project_dir=PROJECT_DIR):
        if project_dir != PROJECT_DIR:
            return program_render(stack, sets, secret_sets, project_dir)
        return cached_render(stack, tuple(sets), tuple(secret_sets))

    program_render = renderer.render
    monkeypatch.setattr(renderer, "render", render_once)

    def _run(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        try:
            code = renderer.main(list(args))
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(["tools.render", *args], code, captured.out, captured.err)

    return _run


def snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def staging_render(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render") / "staging"
    result = run_render(
        "staging",
        "--out",
        str(out),
        "--set-secret",
        f"databaseUrl={DATABASE_URL}",
        "--set-secret",
        f"redisUrl={REDIS_URL}",
    )
    assert result.returncode == 0, result.stderr
    assert "rendered stack staging" in result.stdout
    return out


def test_writes_the_three_files(staging_render):
    # The three files, and the mark that lets the renderer replace this directory next time.
    assert sorted(path.name for path in staging_render.iterdir()) == [
        ".monad-synapse-render",
        "manifest.yaml",
        "outputs.json",
        "resources.json",
    ]


def test_outputs_contract(staging_render):
    outputs = json.loads((staging_render / "outputs.json").read_text())
    assert outputs["activeColor"] == "blue"
    assert outputs["idleColor"] == "green"
    assert outputs["namespace"] == "staging"
    assert outputs["url"] == "https://staging.monad-synapse.com"


def test_every_namespaced_object_names_its_namespace(staging_render):
    documents = [doc for doc in yaml.safe_load_all((staging_render / "manifest.yaml").read_text()) if doc]
    assert len(documents) > 10
    for document in documents:
        namespace = document["metadata"].get("namespace")
        if document["kind"] in CLUSTER_SCOPED_KINDS:
            assert namespace is None, document["kind"]
        else:
            assert namespace == "staging", f"{document['kind']}/{document['metadata']['name']}"


def test_resources_contract(staging_render):
    resources = json.loads((staging_render / "resources.json").read_text())
    urns = {resource["urn"] for resource in resources}
    base = {"urn", "type", "name", "parent", "dependsOn", "provider", "object"}
    assert all(
        base <= set(resource) <= base | {"inputs", "secretFingerprint", "ignoreChanges", "retainOnDelete"}
        for resource in resources
    )
    # The options the engine acts on later: what a delete leaves running.
    retained = {resource["object"] for resource in resources if resource.get("retainOnDelete")}
    assert retained == {"Namespace/staging", "PersistentVolumeClaim/staging/monad-synapse-db-backups"}
    # URNs as the engine makes them: no root-stack type in a child's type chain.
    assert not any("pulumi:pulumi:Stack$" in urn for urn in urns)
    assert (
        "urn:pulumi:staging::monad-synapse::monad:app:BlueGreenApp$kubernetes:apps/v1:Deployment::"
        "monad-synapse-blue-deployment"
    ) in urns
    # Provider resources carry their non-secret inputs; objects name their provider.
    (provider,) = [resource for resource in resources if resource["type"] == "pulumi:providers:kubernetes"]
    assert (
        provider["inputs"]["enableConfigMapMutable"] == "true" and provider["inputs"]["enableSecretMutable"] == "true"
    )
    assert all(resource["provider"] == provider["urn"] for resource in resources if resource["object"])
    fingerprinted = {resource["object"] for resource in resources if "secretFingerprint" in resource}
    assert "Secret/staging/monad-synapse-secrets" in fingerprinted
    (stack,) = [resource for resource in resources if resource["type"] == "pulumi:pulumi:Stack"]
    assert stack["parent"] is None
    for resource in resources:
        if resource is not stack:
            assert resource["parent"] in urns, resource["urn"]  # every resource is parented
        assert set(resource["dependsOn"]) <= urns
    objects = {resource["object"] for resource in resources if resource["object"]}
    assert {
        "Namespace/staging",
        "Deployment/staging/monad-synapse-blue",
        "ConfigMap/staging/monad-synapse-config",
    } <= objects
    components = [resource for resource in resources if resource["type"].startswith("monad:")]
    assert components and all(resource["object"] is None for resource in components)
    random = [resource for resource in resources if resource["type"].startswith("random:")]
    assert random and random[0]["object"] is None


def test_secrets_never_reach_files_or_terminal(tmp_path):
    out = tmp_path / "out"
    result = run_render(
        "production",
        "--out",
        str(out),
        "--set-secret",
        f"databaseUrl={DATABASE_URL}",
        "--set-secret",
        f"redisUrl={REDIS_URL}",
    )
    assert result.returncode == 0, result.stderr
    everything = result.stdout + result.stderr + "".join(path.read_text() for path in out.iterdir())
    for secret in (DATABASE_URL, REDIS_URL, "s3cr3t-Passw0rd", "r3dis-Passw0rd"):
        assert secret not in everything
    secrets = {
        doc["metadata"]["name"]: doc
        for doc in yaml.safe_load_all((out / "manifest.yaml").read_text())
        if doc and doc["kind"] == "Secret"
    }
    assert secrets["monad-synapse-secrets"]["stringData"] == {
        "DATABASE_URL": "[secret]",
        "JWT_SECRET": "[secret]",
        "REDIS_URL": "[secret]",
    }
    assert set(secrets["monad-synapse-alerting"]["stringData"].values()) == {"[secret]"}


def test_same_inputs_give_byte_identical_files(tmp_path, staging_render):
    again = tmp_path / "again"
    result = run_render(
        "staging",
        "--out",
        str(again),
        "--set-secret",
        f"databaseUrl={DATABASE_URL}",
        "--set-secret",
        f"redisUrl={REDIS_URL}",
    )
    assert result.returncode == 0, result.stderr
    assert snapshot(again) == snapshot(staging_render)


def test_the_command_renders_what_the_program_renders_in_process(tmp_path, staging_render, render_main):
    """The command runs with the cyclic collector paused; that changes its
    cost, never its output: the same files as a render in this process,
    whose collector runs as usual and is left as it was."""
    import gc

    assert gc.isenabled()
    in_process = tmp_path / "in-process"
    result = render_main(
        "staging",
        "--out",
        str(in_process),
        "--set-secret",
        f"databaseUrl={DATABASE_URL}",
        "--set-secret",
        f"redisUrl={REDIS_URL}",
    )
    assert result.returncode == 0, result.stderr
    assert gc.isenabled()
    assert snapshot(in_process) == snapshot(staging_render)


def test_the_command_pauses_the_collector_and_freezes_the_heap_on_exit(monkeypatch):
    import gc

    from tools import render as renderer

    seen = {}

    def fake_main() -> int:
        seen["collector on during the render"] = gc.isenabled()
        return 2

    monkeypatch.setattr(renderer, "main", fake_main)
    frozen_before = gc.get_freeze_count()
    try:
        assert renderer.run_as_command() == 2  # main's exit code, unchanged
        assert seen == {"collector on during the render": False}
        assert gc.get_freeze_count() > frozen_before
    finally:
        # Back as the session had it: collector on, and (conftest.py) the
        # heap frozen when collection ended.
        gc.unfreeze()
        gc.enable()
        if frozen_before:
            gc.freeze()


def test_rerender_replaces_the_directory(tmp_path, render_main):
    out = tmp_path / "out"
    assert render_main("staging", "--out", str(out)).returncode == 0
    (out / "stale.txt").write_text("from an older render")
    assert render_main("staging", "--out", str(out)).returncode == 0
    assert not (out / "stale.txt").exists()


def test_a_render_from_before_the_mark_is_still_replaced(tmp_path, render_main):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("manifest.yaml", "outputs.json", "resources.json"):
        (out / name).write_text("older render\n")
    assert render_main("staging", "--out", str(out)).returncode == 0
    assert (out / ".monad-synapse-render").is_file()


def test_unset_secrets_render_with_a_warning(tmp_path, render_main):
    result = render_main("staging", "--out", str(tmp_path / "out"))
    assert result.returncode == 0
    assert "warning: secret databaseUrl is not set" in result.stderr


def test_bad_config_exits_2_with_every_error_and_withdraws_the_stale_render(tmp_path, render_main):
    """Nothing new is written; the previous render's files go (its directory
    and mark stay), so no diff compares a configuration that no longer renders."""
    out = tmp_path / "out"
    assert render_main("staging", "--out", str(out)).returncode == 0
    before = snapshot(out)
    result = render_main(
        "staging",
        "--out",
        str(out),
        "--set",
        "activeColor=purple",
        "--set",
        "autoscaling.minReplicas=9",
        "--set",
        "vpa.updateMode=Auto",
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for key in ("activeColor", "autoscaling.minReplicas", "vpa.updateMode"):
        assert key in result.stderr
    assert snapshot(out) == {name: text for name, text in before.items() if name == ".monad-synapse-render"}


def test_bad_config_does_not_create_the_directory(tmp_path, render_main):
    out = tmp_path / "never"
    result = render_main("production", "--out", str(out), "--set", "domain=https://bad")
    assert result.returncode == 2
    assert "domain" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_unknown_stack_exits_2_naming_it(tmp_path, render_main):
    result = render_main("prod", "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "unknown stack 'prod'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("stack", ["..", "../staging", "/tmp/x", "."])
def test_a_path_is_refused_as_a_stack_name_not_as_an_out_problem(tmp_path, render_main, stack):
    """The default --out is build/<stack>: a path for a stack is refused
    for what it is, without advice to create a stack of that name."""
    result = render_main(stack)
    assert result.returncode == 2
    assert "is not a stack name" in result.stderr and "--out" not in result.stderr
    assert "pulumi stack init" not in result.stderr


@pytest.mark.parametrize("args", [(), ("staging", "--set", "noequals"), ("staging", "--bogus")])
def test_bad_flags_exit_2(args, render_main):
    result = render_main(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr


def test_secret_outputs_are_shown_as_secret():
    from pulumi.runtime import rpc

    from tools.engine.mock_engine import ProgramRun
    from tools.render import build_files

    run = ProgramRun(
        resources=[],
        outputs={
            "token": rpc.wrap_rpc_secret("hunter2"),
            "nested": {"a": rpc.wrap_rpc_secret("x"), "b": 1},
            "plain": "ok",
        },
        warnings=[],
        generated_secrets=set(),
    )
    outputs = json.loads(build_files(run)["outputs.json"])
    assert outputs == {"token": "[secret]", "nested": {"a": "[secret]", "b": 1}, "plain": "ok"}


def test_unknown_top_level_key_is_refused_with_a_suggestion(tmp_path, render_main):
    # The slip `pulumi config set maxReplicas 15` (instead of --path autoscaling.maxReplicas).
    result = render_main("production", "--out", str(tmp_path / "x"), "--set", "maxReplicas=15")
    assert result.returncode == 2
    assert "maxReplicas" in result.stderr and "did you mean autoscaling.maxReplicas" in result.stderr


def test_a_refused_render_leaves_no_stale_render_to_diff(tmp_path, render_main, capsys):
    from tools.diff import main as diff_main

    out = tmp_path / "out"
    assert render_main("staging", "--out", str(out)).returncode == 0
    refused = render_main("staging", "--out", str(out), "--set", "autoscaling.minReplicas=0")
    assert refused.returncode == 2
    assert "removed the previous render" in refused.stderr
    assert not (out / "manifest.yaml").exists()
    assert diff_main([str(out), str(out)]) == 2
    assert "manifest.yaml" in capsys.readouterr().err
    # The fixed config renders into the same directory again.
    assert render_main("staging", "--out", str(out)).returncode == 0
    assert (out / "manifest.yaml").is_file()


def test_the_platform_project_renders_its_packages_and_refuses_bad_config(tmp_path, render_main):
    out = tmp_path / "platform"
    result = render_main("production", "--project", "addons", "--out", str(out))
    assert result.returncode == 0, result.stderr
    packages = yaml.safe_load((out / "charts.yaml").read_text())
    assert [entry["resource"] for entry in packages][:2] == ["gateway-crds", "metrics-server"]
    assert {entry["inputs"]["name"] for entry in packages} >= {"kube-prometheus-stack", "eg", "cert-manager"}
    refused = render_main("production", "--project", "addons", "--out", str(out), "--set", "replicas=0")
    assert refused.returncode == 2
    assert "replicas" in refused.stderr and "Traceback" not in refused.stderr
    assert not (out / "charts.yaml").exists()  # withdrawn with the rest of the stale render
    assert render_main("prod", "--project", "addons", "--out", str(tmp_path / "x")).returncode == 2


@pytest.mark.parametrize(
    "stack, sets",
    [
        ("staging", ()),
        ("production", ("maintenanceMode=true",)),
        ("production", ("edge.kind=gateway", "activeColor=green")),
        ("production", (*CLOUDNATIVEPG, *DR_SITE)),
    ],
    ids=["staging", "maintenance", "gateway", "dr-site"],
)
def test_the_manifest_parses_back_to_the_objects_it_was_written_from(stack, sets):
    """What lets the tests read a render's objects without parsing its
    manifest (tests/helpers.py rendered_objects)."""
    from tests.helpers import cached_render, rendered_objects, secrets_for
    from tools.manifest import load_objects

    rendering = cached_render(stack, sets, secrets_for(sets))
    parsed = load_objects(rendering.files["manifest.yaml"])
    assert parsed == rendered_objects(rendering)
    assert list(parsed) == list(rendered_objects(rendering))  # the same order too
