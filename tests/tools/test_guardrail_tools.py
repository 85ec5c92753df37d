"""Workflow files, the base-branch diff and the benchmark's report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.engine.stack_config import PROJECT_DIR

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))


def test_workflows_validate_against_the_github_schema():
    checker = Path(sys.executable).parent / "check-jsonschema"
    assert WORKFLOWS
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_schema_check_can_fail(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps: nope\n")
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(broken)], capture_output=True
    )
    assert result.returncode != 0


def load(name: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / name).read_text())


def test_pull_requests_test_diff_offline_and_preview_only_with_credentials():
    jobs = load("pull-request.yml")["jobs"]
    assert any("make test" in step.get("run", "") for step in jobs["test"]["steps"])
    assert any("make scan" in step.get("run", "") for step in jobs["test"]["steps"])
    assert any("GITHUB_STEP_SUMMARY" in step.get("run", "") for step in jobs["offline-diff"]["steps"])
    assert "head.repo.full_name == github.repository" in jobs["preview"]["if"]  # forks: no secrets
    (preview,) = [step for step in jobs["preview"]["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
    assert preview["with"]["command"] == "preview" and preview["with"]["comment-on-pr"] is True
    assert preview["with"]["policyPacks"] == "policy"
    assert jobs["preview"]["strategy"]["matrix"]["stack"] == ["staging", "production"]


def test_main_deploys_staging_then_production_behind_an_environment():
    jobs = load("deploy.yml")["jobs"]
    assert jobs["staging"]["needs"] == "test" and jobs["production"]["needs"] == "staging"
    assert jobs["production"]["environment"] == "production"
    for stack in ("staging", "production"):
        steps = jobs[stack]["steps"]
        (up,) = [step for step in steps if step.get("with", {}).get("command") == "up"]
        assert up["with"]["stack-name"] == stack and up["id"] == "up"
        # A failed promotion switches back to the color captured before the up.
        order = [step.get("id") or step.get("name") for step in steps]
        (switch_back,) = [step for step in steps if "tools.switch_back" in step.get("run", "")]
        assert order.index("deployed") < order.index("up") < steps.index(switch_back)
        assert "pulumi stack output activeColor" in steps[order.index("deployed")]["run"]
        assert switch_back["if"] == "failure() && steps.up.outcome == 'failure'"
        assert switch_back["env"]["DEPLOYED_COLOR"] == "${{ steps.deployed.outputs.color }}"
        # The color reaches the script as data, never spliced into the shell.
        assert "${{" not in switch_back["run"] and f"tools.switch_back {stack} " in switch_back["run"]


@pytest.mark.skipif(shutil.which("git") is None or not (PROJECT_DIR / ".git").exists(), reason="needs the git checkout")
def test_branch_diff_renders_base_and_head(tmp_path, capsys):
    from tools import branch_diff

    out = tmp_path / "diff"
    # In this process (the base still renders in a process of its own); the
    # hazard test below runs the command as a process.
    code = branch_diff.main(["--base", "HEAD", "--stack", "staging", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "==> staging" in printed.out
    assert (out / "base" / "staging" / "manifest.yaml").is_file()
    assert (out / "head" / "staging" / "manifest.yaml").is_file()
    # It only ever deletes a directory it made: here, tmp_path is not one.
    (tmp_path / "keep.txt").write_text("mine")
    refused = subprocess.run(
        [sys.executable, "-m", "tools.branch_diff", "--base", "HEAD", "--out", str(tmp_path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and (tmp_path / "keep.txt").read_text() == "mine"
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=PROJECT_DIR, capture_output=True, text=True).stdout
    assert "monad-synapse-base-" not in worktrees  # cleaned up


def test_branch_diff_refuses_an_unknown_ref():
    result = subprocess.run(
        [sys.executable, "-m", "tools.branch_diff", "--base", "no-such-branch-x"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unknown git ref" in result.stderr


@pytest.mark.parametrize("stack", ["../../staging", "/tmp/elsewhere", "..", "no-such-stack"])
def test_branch_diff_refuses_a_stack_that_is_not_one_before_touching_anything(tmp_path, stack):
    """A stack name becomes a path under --out: ../../staging once replaced
    build/staging with an empty render."""
    out = tmp_path / "diff"
    result = subprocess.run(
        [sys.executable, "-m", "tools.branch_diff", "--base", "HEAD", "--stack", stack, "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "is not a stack of this checkout" in result.stderr
    assert not out.exists()


def test_bench_reports_every_operation(capsys, monkeypatch):
    from tests.helpers import cached_render
    from tools import bench
    from tools.operations import OPERATIONS

    # The renders the other tests of the session made already.
    monkeypatch.setattr(
        bench, "render", lambda stack, sets=(), secrets=(): cached_render(stack, tuple(sets), tuple(secrets))
    )
    # Timings are the benchmark's business, not a test's: the commands are
    # built, their seconds stand in.
    timed = []
    monkeypatch.setattr(bench, "_seconds", lambda command, check=True: timed.append(command) or 1.0)
    assert bench.main(["--runs", "1", "--stack", "production", "--suite-runs", "0"]) == 0
    report = capsys.readouterr().out
    assert "render / floor" in report
    assert any(command[1:3] == ["-m", "tools.render"] for command in timed)
    for operation in OPERATIONS:
        assert operation.name in report


def steps_before_pulumi(job: dict) -> list[str]:
    runs = []
    for step in job["steps"]:
        if step.get("uses", "").startswith("pulumi/actions@") and "command" in step.get("with", {}):
            return runs
        runs.append(step.get("run", ""))
    raise AssertionError("no pulumi/actions step")


def test_every_pulumi_job_checks_stack_secrets_first():
    jobs = {
        **{f"deploy/{name}": job for name, job in load("deploy.yml")["jobs"].items()},
        "pull-request/preview": load("pull-request.yml")["jobs"]["preview"],
    }
    checked = [
        name
        for name, job in jobs.items()
        if any(step.get("uses", "").startswith("pulumi/actions@") for step in job["steps"])
    ]
    assert sorted(checked) == ["deploy/production", "deploy/staging", "pull-request/preview"]
    for name in checked:
        assert any("tools.stack_secrets" in run for run in steps_before_pulumi(jobs[name])), name


def run_stack_secrets(*args, cwd=PROJECT_DIR) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.stack_secrets", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_committed_stacks_are_told_which_secrets_to_set(stack):
    result = run_stack_secrets(stack)
    assert result.returncode == 2
    for key in ("databaseUrl", "redisUrl", "alertSlackWebhookUrl", "alertPagerdutyRoutingKey"):
        assert f"pulumi config set --secret {key} " in result.stderr and f"-s {stack}" in result.stderr
    assert "ESC" in result.stderr and "Traceback" not in result.stderr


def test_stack_secrets_pass_when_encrypted_or_from_an_environment(tmp_path):
    from tools.stack_secrets import missing_secrets

    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    encrypted = "".join(
        f"  monad-synapse:{key}:\n    secure: AAABAE5vdA==\n"
        for key in ("databaseUrl", "redisUrl", "alertSlackWebhookUrl", "alertPagerdutyRoutingKey")
    )
    (tmp_path / "Pulumi.ready.yaml").write_text("config:\n" + encrypted)
    assert missing_secrets("ready", tmp_path) == ([], False)
    (tmp_path / "Pulumi.esc.yaml").write_text(
        "environment:\n  - monad-synapse/esc\nconfig:\n  monad-synapse:namespace: x\n"
    )
    missing, uses_esc = missing_secrets("esc", tmp_path)
    assert len(missing) == 4 and uses_esc
    assert run_stack_secrets("no-such-stack").returncode == 2


@pytest.mark.parametrize(
    "stack_file",
    [
        "config:\n  monad-synapse:redisUrl:\n    secure: 5\n",
        "config:\n  monad-synapse:redisUrl:\n    secure: ''\n",
        "environment: 7\nconfig: {}\n",
    ],
    ids=["secure-number", "secure-empty", "environment-not-a-list"],
)
def test_values_the_cli_cannot_use_do_not_count_as_set(tmp_path, stack_file):
    """`pulumi preview` stops on these as on a missing secret: the check says so."""
    from tools.stack_secrets import missing_secrets

    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.odd.yaml").write_text(stack_file)
    missing, uses_esc = missing_secrets("odd", tmp_path)
    assert "redisUrl" in missing and not uses_esc


def test_an_in_cluster_database_stack_needs_object_store_keys_not_a_url(tmp_path):
    from tools.stack_secrets import missing_secrets

    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    encrypted = "".join(
        f"  monad-synapse:{key}:\n    secure: AAABAE5vdA==\n"
        for key in ("redisUrl", "alertSlackWebhookUrl", "alertPagerdutyRoutingKey")
    )
    database = "  monad-synapse:database:\n    kind: cloudnativepg\n"
    (tmp_path / "Pulumi.cluster.yaml").write_text("config:\n" + encrypted + database)
    assert missing_secrets("cluster", tmp_path) == (["databaseS3AccessKeyId", "databaseS3SecretAccessKey"], False)
    dr_site = database + "    replica:\n      enabled: true\n"
    (tmp_path / "Pulumi.dr.yaml").write_text("config:\n" + encrypted + dr_site)
    assert missing_secrets("dr", tmp_path)[0] == [
        "databaseS3AccessKeyId",
        "databaseS3SecretAccessKey",
        "databaseAppPassword",
    ]


@pytest.mark.skipif(shutil.which("git") is None or not (PROJECT_DIR / ".git").exists(), reason="needs the git checkout")
def test_branch_diff_fails_on_a_hazard_and_says_how_to_split_it(tmp_path):
    """A pull request that turns maintenance mode on and requests a restore in
    one change: the offline diff (CI's check) names the hazard and exits 3.
    A stack the change leaves unable to render is shown refused, exit 2."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_DIR), str(clone)], check=True)
    # The clone's base is this working tree, uncommitted edits and new files included.
    edits = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=PROJECT_DIR, capture_output=True, check=True).stdout
    if edits:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=clone, input=edits, check=True)
    new_files = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in new_files:
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / name, clone / name)
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "base"],
        cwd=clone,
        check=True,
    )
    stack_file = clone / "Pulumi.staging.yaml"
    stack_file.write_text(
        stack_file.read_text()
        + "  monad-synapse:maintenanceMode: true\n"
        + "  monad-synapse:restore:\n    fromBackup: latest\n    confirm: staging\n    requestId: incident-1\n"
    )
    command = [sys.executable, "-m", "tools.branch_diff", "--base", "HEAD", "--markdown", "--stack"]
    result = subprocess.run([*command, "staging"], cwd=clone, capture_output=True, text=True, timeout=180)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "**hazard:** restore Job" in result.stdout and "in the next" in result.stdout
    # Only a stack file changed: the base's code is this code.
    assert SAME_CODE in result.stdout

    production = clone / "Pulumi.production.yaml"
    production.write_text(production.read_text() + "  monad-synapse:autoscaling:\n    minReplicas: 0\n")
    # With a code change too, the base renders with its own code, in its checkout.
    with (clone / "components" / "__init__.py").open("a") as module:
        module.write("# changed\n")
    refused = subprocess.run([*command, "production"], cwd=clone, capture_output=True, text=True, timeout=180)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "This change does not render" in refused.stdout and "autoscaling.minReplicas" in refused.stdout
    assert SAME_CODE not in refused.stdout
    assert "kind: Deployment" in (clone / "build" / "diff" / "base" / "production" / "manifest.yaml").read_text()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_only_stack_file_changes_let_the_base_render_with_this_code(tmp_path):
    from tools.branch_diff import only_stack_files_differ

    checkout = tmp_path / "checkout"
    (checkout / "addons").mkdir(parents=True)
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "addons/Pulumi.staging.yaml", "module.py"):
        (checkout / name).write_text("a: 1\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=checkout, check=True)
    subprocess.run([*git, "add", "-A"], cwd=checkout, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=checkout, check=True)
    assert only_stack_files_differ("HEAD", checkout)
    for name in ("Pulumi.staging.yaml", "addons/Pulumi.staging.yaml", "Pulumi.production.yaml"):
        (checkout / name).write_text("a: 2\n")
    assert only_stack_files_differ("HEAD", checkout)
    (checkout / "new_module.py").write_text("")  # untracked code counts
    assert not only_stack_files_differ("HEAD", checkout)
    (checkout / "new_module.py").unlink()
    (checkout / "Pulumi.yaml").write_text("a: 2\n")  # the project file is no stack file
    assert not only_stack_files_differ("HEAD", checkout)
    subprocess.run(["git", "checkout", "-q", "Pulumi.yaml"], cwd=checkout, check=True)
    (checkout / "module.py").write_text("a: 2\n")
    assert not only_stack_files_differ("HEAD", checkout)


SAME_CODE = "only stack files changed: the base renders with this code"


def test_a_base_with_this_code_renders_its_own_stack_files_here(tmp_path):
    """The in-process path of the base render: the base's stack file, never
    the working tree's, and a stack the base lacks is compared with nothing."""
    from tests.helpers import cached_render
    from tools.branch_diff import _render_base

    base = tmp_path / "base"
    base.mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", base / "Pulumi.yaml")
    staging = (PROJECT_DIR / "Pulumi.staging.yaml").read_text()
    (base / "Pulumi.staging.yaml").write_text(staging + "  monad-synapse:maintenanceMode: true\n")
    assert _render_base(base, "staging", tmp_path / "out" / "staging", same_code=True)
    written = (tmp_path / "out" / "staging" / "manifest.yaml").read_text()
    assert written == cached_render("staging", ("maintenanceMode=true",), ()).files["manifest.yaml"]
    assert not _render_base(base, "production", tmp_path / "out" / "production", same_code=True)
    assert not (tmp_path / "out" / "production").exists()
