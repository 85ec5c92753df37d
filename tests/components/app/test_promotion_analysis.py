"""The promotion analysis script against a real Prometheus scraping
stand-in colors (tests/analysis_scenario.py, which the session starts in the
background: each scenario is seconds of waiting on real measurements)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests import analysis_scenario
from tests.analysis_scenario import run_analysis
from tests.helpers import free_port, require_tool


@pytest.fixture(scope="module")
def colors_server():
    with analysis_scenario.colors_server() as url:
        yield url


@pytest.fixture(scope="module")
def outcomes() -> dict[str, subprocess.CompletedProcess]:
    """Each scenario's outcome: the session's background run, or one run here."""
    background = os.environ.get(analysis_scenario.DIRECTORY_VARIABLE)
    if background:
        return analysis_scenario.wait_for(Path(background))
    return analysis_scenario.run(require_tool("prometheus"))


def test_a_healthy_color_passes(outcomes):
    result = outcomes["healthy"]
    assert result.returncode == 0, result.stderr
    assert "PASSED: 2 of 2 measurements passed" in result.stdout


def test_errors_above_the_ratio_fail(outcomes):
    result = outcomes["failing"]
    assert result.returncode == 1
    # 10 of 50 requests a second fail; Prometheus' rate() extrapolates, so about 0.2.
    ratio = re.search(r"error ratio ([0-9.]+) above 0.01", result.stderr)
    assert ratio and 0.15 < float(ratio[1]) < 0.25, result.stderr
    assert "live traffic did not move" in result.stderr


def test_slow_responses_fail(outcomes):
    result = outcomes["slow"]
    assert result.returncode == 1
    assert "p95" in result.stderr and "above 2.0s" in result.stderr


@pytest.mark.parametrize(("policy", "code"), [("fail", 1), ("pass", 0)])
def test_no_traffic_is_inconclusive_and_handled_as_configured(outcomes, policy, code):
    result = outcomes[f"quiet-{policy}"]
    assert result.returncode == code, result.stdout + result.stderr
    assert "inconclusive" in result.stdout + result.stderr


def test_a_failing_smoke_request_fails(outcomes):
    result = outcomes["smoke"]
    assert result.returncode == 1 and "smoke: /api/missing: 404, expected 200" in result.stderr


def test_prometheus_unreachable_fails_closed(colors_server):
    result = run_analysis(f"http://127.0.0.1:{free_port()}", colors_server, "healthy")
    assert result.returncode == 1
    assert "FAILED CLOSED: Prometheus is unreachable" in result.stderr


def test_bad_environment_exits_2(colors_server):
    result = run_analysis("http://127.0.0.1:1", colors_server, "healthy", COUNT="many")
    assert result.returncode == 2 and "bad environment" in result.stderr


def test_a_skip_passes_at_once_and_says_why(colors_server):
    """The emergency switch and maintenance mode: the Job records the switch,
    judges nothing (Prometheus here is unreachable), and says why."""
    result = run_analysis(
        f"http://127.0.0.1:{free_port()}", colors_server, "broken", SKIP_REASON="promotion.skipAnalysis is true"
    )
    assert result.returncode == 0, result.stderr
    assert "SKIPPED (promotion.skipAnalysis is true)" in result.stdout
