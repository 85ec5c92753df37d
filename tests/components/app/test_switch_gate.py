"""The switch gate script (scripts/switch_gate/gate.py): its decision, its
wait loop, and a real run resolving names through the system resolver."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.engine_model import switch_gate as gate
from tools.engine.stack_config import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "switch_gate" / "gate.py"


@pytest.mark.parametrize(
    ("target", "current", "minimum", "maximum", "expected"),
    [
        (3, 3, 3, 20, ("go", 3)),
        (9, 9, 3, 20, ("go", 9)),
        (3, 9, 3, 20, ("short", 9)),  # no traffic: green will not scale past its floor of 3
        (5, 9, 9, 20, ("wait", 9)),  # floor raised: pods are starting
        (6, 30, 6, 6, ("go", 6)),  # never more than the HPA may run
        (1, 0, 3, 20, ("go", 1)),  # nothing serves yet (a new stack): one ready pod
        (0, 0, 3, 20, ("wait", 1)),
    ],
)
def test_decide(target, current, minimum, maximum, expected):
    assert gate.decide(target, current, minimum, maximum) == expected


def test_waits_until_the_target_has_the_pods_then_goes():
    counts = {"green": iter([2, 4, 9]), "blue": iter([9, 9, 9])}
    clock = iter(range(100))
    sleeps = []
    passed, message = gate.wait_for_capacity(
        lambda host: next(counts[host]),
        "green",
        "blue",
        9,
        20,
        timeout_seconds=60,
        clock=lambda: next(clock),
        sleep=sleeps.append,
    )
    assert passed and "green has 9" in message and len(sleeps) == 2


def test_gives_up_at_the_deadline():
    clock = iter([0, 10, 61])
    passed, message = gate.wait_for_capacity(
        lambda host: 5 if host == "green" else 9,
        "green",
        "blue",
        9,
        20,
        timeout_seconds=60,
        clock=lambda: next(clock),
        sleep=lambda seconds: None,
    )
    assert not passed and "after 60s" in message and "need 9" in message


def run_gate(**env) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if key not in ("TARGET_HOST", "CURRENT_HOST")}
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_real_run_counts_resolved_addresses():
    # localhost resolves to one IPv4 address; a name under .invalid never resolves (RFC 6761).
    common = {"MIN_REPLICAS": "1", "MAX_REPLICAS": "5", "TIMEOUT_SECONDS": "0", "INTERVAL_SECONDS": "0"}
    passed = run_gate(TARGET_HOST="localhost", CURRENT_HOST="localhost", **common)
    assert passed.returncode == 0, passed.stderr
    assert "localhost has 1 ready pod(s)" in passed.stdout
    failed = run_gate(
        TARGET_HOST="green.monad-synapse.invalid", CURRENT_HOST="localhost", FIX_HINT="raise it first", **common
    )
    assert failed.returncode == 1
    assert "live traffic did not move. raise it first" in failed.stderr


def test_bad_environment_exits_2():
    result = run_gate(
        TARGET_HOST="localhost", CURRENT_HOST="localhost", MIN_REPLICAS="x", MAX_REPLICAS="1", TIMEOUT_SECONDS="1"
    )
    assert result.returncode == 2 and "bad environment" in result.stderr


def test_the_emergency_bypass_passes_at_once_and_says_why():
    """switchGate.enabled false: the Job records the switch and checks nothing
    (here the target would never resolve)."""
    result = run_gate(
        TARGET_HOST="green.monad-synapse.invalid",
        CURRENT_HOST="localhost",
        MIN_REPLICAS="1",
        MAX_REPLICAS="5",
        TIMEOUT_SECONDS="0",
        SKIP_REASON="switchGate.enabled is false",
    )
    assert result.returncode == 0, result.stderr
    assert "skipped (switchGate.enabled is false)" in result.stdout
