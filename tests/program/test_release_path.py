"""The release path under failure, replayed `up` after `up` on the cluster
model (tools.engine.live), which is as pessimistic as the real engine: a create of
an existing name fails, a failed Job stays with init errors and is
re-awaited, a replaced object under a new name stays as a pending delete
until an `up` ends without errors, and nothing is deleted after a failure.

Every switch that fails (at the gate, the analysis or the verification)
must end, after the documented switch-back, with live traffic on the last
good color and a stack the next `up` carries on from."""

from __future__ import annotations

import pytest

from tests.engine_model import ModelStack

NAMESPACE = "production"
LIVE = f"Service/{NAMESPACE}/monad-synapse"
PREVIEW = f"Service/{NAMESPACE}/monad-synapse-preview"
RULE = f"PrometheusRule/{NAMESPACE}/monad-synapse"
SWITCH_BACK = ("promotion.skipAnalysis=true",)  # tools.switch_back's emergency switch
VERIFY = "promotion.verification.enabled=true"


def live_color(stack: ModelStack) -> str:
    return stack.cluster.objects[LIVE]["spec"]["selector"]["monad-synapse.com/color"]


def preview_color(stack: ModelStack) -> str:
    return stack.cluster.objects[PREVIEW]["spec"]["selector"]["monad-synapse.com/color"]


def failures(result) -> list[str]:
    return [f"{step.identity}: {step.detail}" for step in result.failures()]


def production(render_stack, *sets: str):
    return render_stack("production", VERIFY, *sets)


def released_on_blue(render_stack, *sets: str) -> ModelStack:
    """Production live on blue, green carrying a new image (the release)."""
    stack = ModelStack()
    assert not (first := stack.up(production(render_stack, *sets))).failed, failures(first)
    stack.settle()
    return stack


NEW_IMAGE = "colors.green.image=ghcr.io/monad-synapse/monad-synapse:1.5.0"


@pytest.mark.parametrize("stage", ["gate", "analysis", "verification"])
def test_a_failed_switch_then_the_switch_back_ends_on_the_last_good_color(render_stack, stage):
    stack = released_on_blue(render_stack, NEW_IMAGE)
    switch = (NEW_IMAGE, "activeColor=green")
    if stage == "gate":
        stack.cluster.load_replicas["monad-synapse-blue"] = 9  # blue serves 9 pods; green has 3
        stack.settle()
    elif stage == "analysis":
        stack.analysis = "error ratio 0.2 above 0.01"
    else:
        stack.verification = "error ratio 0.3 above 0.01"
    failed = stack.up(production(render_stack, *switch))
    assert failed.failed
    stack.analysis = stack.verification = None

    back = stack.up(production(render_stack, NEW_IMAGE, "activeColor=blue", *SWITCH_BACK))
    assert not back.failed, failures(back)
    assert live_color(stack) == "blue"
    assert not back.state.init_errors and not back.state.pending_deletes

    # Not wedged: the emergency flag goes, then the same release goes live.
    assert not (tidy := stack.up(production(render_stack, NEW_IMAGE))).failed, failures(tidy)
    stack.cluster.load_replicas.clear()
    stack.settle()
    capacity = ("autoscaling.minReplicas=9",) if stage == "gate" else ()
    again = stack.up(production(render_stack, *switch, *capacity))
    assert not again.failed, failures(again)
    assert live_color(stack) == "green"


def test_switching_back_and_forth_recreates_no_name_that_still_exists(render_stack):
    """Every switch, repeated: the promotion Jobs of a color are its own, so
    a switch never creates a name a pending delete still holds."""
    stack = released_on_blue(render_stack)
    for color in ("green", "blue", "green", "blue"):
        stack.settle()
        result = stack.up(production(render_stack, f"activeColor={color}"))
        assert not result.failed, failures(result)
        assert live_color(stack) == color
        assert not result.state.pending_deletes


@pytest.mark.parametrize("stage", ["gate", "analysis"])
def test_a_retry_after_fixing_the_cause_runs_the_check_again(render_stack, stage):
    stack = released_on_blue(render_stack)
    if stage == "gate":
        stack.cluster.load_replicas["monad-synapse-blue"] = 9
        stack.settle()
        fixed = ("activeColor=green", "autoscaling.minReplicas=9")
    else:
        stack.analysis = "p95 latency 2.1 s above 1 s"
        fixed = ("activeColor=green",)
    assert stack.up(production(render_stack, "activeColor=green")).failed
    runs = len(stack.cluster.job_runs)

    # The same config again re-awaits the same failed Job: still red, and says so.
    if stage == "analysis":
        still = stack.up(production(render_stack, "activeColor=green"))
        assert still.failed and "p95 latency" in " ".join(failures(still))
    stack.analysis = None
    retry = stack.up(production(render_stack, *fixed))
    assert not retry.failed, failures(retry)
    assert len(stack.cluster.job_runs) > runs  # the failed check ran again
    assert live_color(stack) == "green"


def test_a_switch_from_a_cold_idle_color_never_leaves_live_traffic_without_pods(render_stack):
    stack = released_on_blue(render_stack, "idleReplicas=0")
    assert stack.cluster.ready_replicas(NAMESPACE, "monad-synapse-green") == 0
    empty = []

    def observe(step, cluster):
        color = cluster.objects[LIVE]["spec"]["selector"]["monad-synapse.com/color"]
        if cluster.ready_replicas(NAMESPACE, f"monad-synapse-{color}") == 0:
            empty.append(f"after {step.op} {step.identity}")

    result = stack.up(production(render_stack, "idleReplicas=0", "activeColor=green"), observe)
    assert not result.failed, failures(result)
    assert empty == []
    assert live_color(stack) == "green"
    stack.settle()
    assert stack.cluster.ready_replicas(NAMESPACE, "monad-synapse-blue") == 0  # cold once traffic left


def test_the_preview_and_the_live_alerts_move_only_with_live_traffic(render_stack):
    stack = released_on_blue(render_stack)
    rule_on_blue = stack.cluster.objects[RULE]["spec"]
    stack.analysis = "error ratio 0.2 above 0.01"
    assert stack.up(production(render_stack, "activeColor=green")).failed
    # Testers still reach the candidate through the preview; the alerts still watch blue.
    assert (live_color(stack), preview_color(stack)) == ("blue", "green")
    assert stack.cluster.objects[RULE]["spec"] == rule_on_blue

    stack.analysis = None
    assert not stack.up(production(render_stack, "activeColor=green")).failed
    assert (live_color(stack), preview_color(stack)) == ("green", "blue")
    assert stack.cluster.objects[RULE]["spec"] != rule_on_blue


@pytest.mark.parametrize(
    "change",
    [
        ("autoscaling.minReplicas=5", "autoscaling.maxReplicas=30"),
        ("idleReplicas=14",),
        ("appConfig.FEATURE_FLAG=on",),
        ("switchGate.timeoutSeconds=900", "promotion.analysis.maxErrorRatio=0.02"),
        ("maintenanceMode=true",),
        ("jwtSecretVersion=2",),
    ],
    ids=lambda change: change[0].split("=")[0],
)
def test_a_change_that_is_not_a_switch_runs_no_check(render_stack, change):
    stack = released_on_blue(render_stack)
    stack.cluster.load_replicas["monad-synapse-blue"] = 4
    stack.settle()
    runs = list(stack.cluster.job_runs)
    result = stack.up(production(render_stack, *change))
    assert not result.failed, failures(result)
    assert stack.cluster.job_runs == runs


def test_the_backup_volume_moves_to_another_storage_class(render_stack):
    stack = ModelStack()
    assert not stack.up(render_stack("production")).failed
    moved = stack.up(render_stack("production", "backup.storage.storageClassName=premium-rwo"))
    assert not moved.failed, failures(moved)
    claims = {key for key in stack.cluster.objects if key.startswith("PersistentVolumeClaim/")}
    # The old volume (and its dumps) stays; the jobs write to the new one.
    assert len(claims) == 2


def rolled(result) -> set[str]:
    return {
        step.identity.rsplit("/", 1)[1]
        for step in result.steps
        if step.identity.startswith("Deployment/") and step.op == "update"
    }


def test_a_staged_config_change_is_released_by_the_switch(render_stack):
    """colors.<color>.appConfig: a config change goes to the idle color
    first, is judged at the switch, and the old config stays warm on the
    other color; folding it into the shared map later rolls only that one."""
    stack = released_on_blue(render_stack)
    staged = ("colors.green.appConfig.FEATURE_X=on",)
    assert rolled(stack.up(production(render_stack, *staged))) == {"monad-synapse-green"}
    runs = len(stack.cluster.job_runs)
    switch = stack.up(production(render_stack, *staged, "activeColor=green"))
    assert not switch.failed, failures(switch)
    assert live_color(stack) == "green"
    assert any("promotion-analysis-green" in run for run in stack.cluster.job_runs[runs:])
    assert rolled(switch) == set()  # blue keeps the old config, warm for a rollback
    folded = stack.up(production(render_stack, "appConfig.FEATURE_X=on", "activeColor=green"))
    assert not folded.failed, failures(folded)
    assert rolled(folded) == {"monad-synapse-blue"}


def test_a_shared_config_change_still_reaches_both_colors_at_once(render_stack):
    """The runbook's "patch the ConfigMap and restart both": appConfig and
    maintenance mode are shared, and judge nothing after the fact."""
    stack = released_on_blue(render_stack)
    runs = list(stack.cluster.job_runs)
    for change in ("appConfig.FEATURE_X=on", "maintenanceMode=true"):
        result = stack.up(production(render_stack, change))
        assert rolled(result) == {"monad-synapse-blue", "monad-synapse-green"}
    assert stack.cluster.job_runs == runs


def documented_rollbacks() -> list[str]:
    """Every rollback command the docs give (a `pulumi config set activeColor`
    chain ending in `pulumi up` within a sentence about rolling back)."""
    import re

    from tools.engine.stack_config import PROJECT_DIR

    commands = []
    for page in sorted((PROJECT_DIR / "docs").glob("*.md")) + [PROJECT_DIR / "README.md"]:
        text = " ".join(page.read_text().split())
        for match in re.finditer(
            r"pulumi config set activeColor \S+(?: && pulumi config set [^&`]+)* && pulumi up", text
        ):
            if re.search(r"roll(ing)? ?back", text[max(0, match.start() - 300) : match.start()], re.IGNORECASE):
                commands.append(match.group(0))
    return commands


def config_sets(command: str, previous: str) -> tuple[str, ...]:
    sets = []
    for part in command.split("&&"):
        words = part.split()
        if words[:3] == ["pulumi", "config", "set"]:
            key, value = [word for word in words[3:] if word != "--path"][:2]
            sets.append(f"{key}={previous if value.startswith('<') else value}")
    return tuple(sets)


def test_every_documented_rollback_works_in_production_as_written(render_stack):
    """Released to green and live; green goes bad. The idle blue has no
    traffic, so in production an analysis of it is inconclusive and fails:
    a rollback that ran it would fail while production burns."""
    commands = documented_rollbacks()
    assert len(commands) >= 2, commands  # docs/operations.md and docs/alerts.md
    for command in commands:
        stack = released_on_blue(render_stack, NEW_IMAGE)
        assert not stack.up(production(render_stack, NEW_IMAGE, "activeColor=green")).failed
        stack.settle()
        stack.analysis = "inconclusive: 0 requests to blue in the window (fail in production)"
        result = stack.up(production(render_stack, NEW_IMAGE, *config_sets(command, "blue")))
        assert not result.failed, (command, failures(result))
        assert live_color(stack) == "blue", command


def test_the_restart_lever_rolls_one_color_and_nothing_else(render_stack):
    """The runbook's `kubectl rollout restart` (to reset database
    connections) as config: colors.<color>.restart rolls that color's pods,
    runs no check, and changes nothing else."""
    stack = released_on_blue(render_stack)
    runs = list(stack.cluster.job_runs)
    result = stack.up(production(render_stack, "colors.blue.restart=2026-12-03T23:00"))
    assert not result.failed, failures(result)
    assert rolled(result) == {"monad-synapse-blue"}
    assert {step.identity for step in result.steps if step.op != "same"} == {"Deployment/production/monad-synapse-blue"}
    assert stack.cluster.job_runs == runs
    both = stack.up(
        production(render_stack, "colors.blue.restart=2026-12-03T23:30", "colors.green.restart=2026-12-03T23:30")
    )
    assert rolled(both) == {"monad-synapse-blue", "monad-synapse-green"}
