"""The workflows' hardening, read from the files (zizmor and actionlint run
in `make scan`): pinned actions, no credentials where pull-request code
runs them unless the environment holds a preview-scoped one, no fallback
between credentials, no expression spliced into a shell, the CLI at the
SDK's version."""

from __future__ import annotations

import re

import pytest
import yaml

from tools.engine.stack_config import PROJECT_DIR

WORKFLOWS = {
    path.name: yaml.safe_load(path.read_text()) for path in (PROJECT_DIR / ".github" / "workflows").glob("*.yml")
}
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
SECRET = re.compile(r"secrets\.(\w+)")


def steps():
    for workflow, document in WORKFLOWS.items():
        for job_name, job in document["jobs"].items():
            for step in job["steps"]:
                yield workflow, job_name, job, step


def test_there_are_pull_request_deploy_drift_and_e2e_workflows():
    assert set(WORKFLOWS) == {"pull-request.yml", "deploy.yml", "drift.yml", "e2e.yml"}


def test_every_action_is_pinned_to_a_commit_with_its_version_said():
    text = {name: (PROJECT_DIR / ".github" / "workflows" / name).read_text() for name in WORKFLOWS}
    for workflow, job, _, step in steps():
        if "uses" in step:
            assert PINNED.match(step["uses"]), f"{workflow}/{job}: {step['uses']} is not pinned to a commit"
            line = next(line for line in text[workflow].splitlines() if step["uses"] in line)
            assert re.search(r"#\s*v\d+\.\d+\.\d+", line), f"{workflow}: say the version beside {step['uses']}"


def test_checkouts_keep_no_credentials():
    for workflow, job, _, step in steps():
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{workflow}/{job}"


def test_no_expression_is_spliced_into_a_shell():
    for workflow, job, _, step in steps():
        assert "${{" not in step.get("run", ""), f"{workflow}/{job}: pass it through env"


def test_workflows_and_jobs_grant_only_what_they_need():
    for workflow, document in WORKFLOWS.items():
        assert document["permissions"] == {}, workflow
        for name, job in document["jobs"].items():
            assert "contents" in job.get("permissions", {}), f"{workflow}/{name} must say its permissions"


def test_credentials_come_only_from_the_job_environment_and_never_fall_back():
    for workflow, document in WORKFLOWS.items():
        for name, job in document["jobs"].items():
            used = {
                match
                for step in job["steps"]
                for value in (step.get("env") or {}).values()
                for match in SECRET.findall(str(value))
            }
            if not used:
                continue
            environment = job.get("environment", "")
            assert environment, f"{workflow}/{name} reads {used} outside an environment"
            for step in job["steps"]:
                for value in (step.get("env") or {}).values():
                    assert "||" not in str(value) or "secrets." not in str(value), f"{workflow}/{name}: a fallback"
            if workflow in ("pull-request.yml", "drift.yml"):
                # Pull-request code runs here: only the preview-scoped environment's credentials.
                assert environment.endswith("-preview"), f"{workflow}/{name}: {environment}"
                assert used <= {"KUBECONFIG", "PULUMI_ACCESS_TOKEN"}, used


def test_the_pulumi_cli_is_the_sdk_version():
    (sdk,) = re.findall(r"^pulumi==([\d.]+)$", (PROJECT_DIR / "requirements.txt").read_text(), re.MULTILINE)
    pulumi_steps = [step for *_, step in steps() if step.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi_steps and all(str(step["with"]["pulumi-version"]) == sdk for step in pulumi_steps)


@pytest.mark.parametrize("job_name, work_dir", [("preview", None), ("platform-preview", "addons")])
def test_a_failed_preview_says_so_on_the_pull_request(job_name, work_dir):
    job = WORKFLOWS["pull-request.yml"]["jobs"][job_name]
    (comment,) = [step for step in job["steps"] if "gh pr comment" in step.get("run", "")]
    assert comment["if"] == "failure()"
    (preview,) = [step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
    assert preview["with"].get("work-dir") == work_dir
    assert (PROJECT_DIR / (work_dir or ".") / "Pulumi.yaml").is_file()


@pytest.mark.parametrize("workflow, command", [("drift.yml", "tools.drift"), ("e2e.yml", "tools.e2e")])
def test_drift_and_e2e_run_on_a_schedule_with_their_tested_drivers(workflow, command):
    assert WORKFLOWS[workflow][True]["schedule"]  # PyYAML reads the key `on` as True
    assert any(command in step.get("run", "") for name, _, _, step in steps() if name == workflow)


def test_no_ci_render_names_a_recovery_target_that_will_age_out():
    """A fixed targetTime falls out of objectStore.retention a month later,
    and from then on every scan would fail: CI computes it from today."""
    texts = [(PROJECT_DIR / "Makefile").read_text(), (PROJECT_DIR / ".ci" / "run").read_text()]
    texts += [path.read_text() for path in (PROJECT_DIR / ".github" / "workflows").glob("*.yml")]
    assert [match for text in texts for match in re.findall(r"targetTime[= ]+[0-9]{4}-", text)] == []
    assert "RECOVERY_TARGET" in texts[0]


def test_every_test_run_installs_the_system_tools_the_tests_require():
    """One script installs them; .ci/run and every workflow job that runs
    `make test` call it first, and it covers every tool a test requires."""
    script = (PROJECT_DIR / "scripts" / "ci" / "system-packages.sh").read_text()
    required = {
        match
        for path in (PROJECT_DIR / "tests").rglob("*.py")
        for match in re.findall(r'require_tool\("([\w-]+)"\)', path.read_text())
    }
    assert required >= {"promtool", "prometheus", "prometheus-alertmanager", "amtool"}
    assert [tool for tool in sorted(required) if f"command -v {tool}" not in script] == []
    assert "bin/initdb" in script  # the PostgreSQL server (tests.helpers.postgres_bin)
    ci_run = (PROJECT_DIR / ".ci" / "run").read_text()
    assert ci_run.index("scripts/ci/system-packages.sh") < ci_run.index("make test")
    for workflow, document in WORKFLOWS.items():
        for name, job in document["jobs"].items():
            runs = [step.get("run", "") for step in job["steps"]]
            if any("make test" in run for run in runs):
                first_test = next(index for index, run in enumerate(runs) if "make test" in run)
                assert any("scripts/ci/system-packages.sh" in run for run in runs[:first_test]), f"{workflow}/{name}"
