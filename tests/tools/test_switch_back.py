"""The deploy workflow's switch-back after a failed promotion (tools.switch_back),
run against a stand-in `pulumi` that records its arguments: the real CLI and
a cluster are not available to tests. The workflow wiring is checked in
test_guardrail_tools.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tools import switch_back
from tools.engine.stack_config import PROJECT_DIR

FAKE_PULUMI = """#!/bin/sh
printf '%s\\n' "$*" >> "$PULUMI_CALLS"
case "$*" in up*) exit "${FAKE_UP_EXIT:-0}" ;; esac
exit 0
"""


@pytest.fixture
def project(tmp_path):
    """A copy of the project's stack files (switch-back edits them with `pulumi config set`)."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    return tmp_path


def run(monkeypatch, project: Path, *args: str, up_exit: int = 0, sets: str = "") -> tuple[int, list[str], str]:
    if sets:
        with open(project / "Pulumi.production.yaml", "a") as stack_file:
            stack_file.write(sets)
    calls, summary = project / "calls", project / "summary.md"
    monkeypatch.setattr(switch_back, "PROJECT_DIR", project)
    for key, value in {
        "PATH": f"{project / 'bin'}:{os.environ['PATH']}",
        "PULUMI_CALLS": str(calls),
        "FAKE_UP_EXIT": str(up_exit),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SHA": "0123456789abcdef",
    }.items():
        monkeypatch.setenv(key, value)
    code = switch_back.main(list(args))
    return (
        code,
        calls.read_text().splitlines() if calls.exists() else [],
        summary.read_text() if summary.exists() else "",
    )


def green_commit() -> str:
    return "  monad-synapse:activeColor: green\n"


def test_a_failed_switch_goes_back_without_analysis_and_stays_red(monkeypatch, project):
    code, calls, summary = run(monkeypatch, project, "production", "--deployed-color", "blue", sets=green_commit())
    assert code == 1
    assert calls == [
        "config set activeColor blue -s production",
        "config set --path promotion.skipAnalysis true -s production",
        "up --yes --skip-preview --policy-pack policy -s production",
    ]
    assert "from **blue** to **green**" in summary and "succeeded: live traffic is on blue" in summary
    assert "set `activeColor: blue` in `Pulumi.production.yaml` (or revert commit 0123456789ab)" in summary


def test_a_failed_switch_back_says_to_do_it_by_hand(monkeypatch, project):
    code, calls, summary = run(
        monkeypatch, project, "production", "--deployed-color", "blue", up_exit=255, sets=green_commit()
    )
    assert code == 1
    assert len(calls) == 3
    assert "Switching back also failed" in summary and "pulumi up --yes --skip-preview" in summary


@pytest.mark.parametrize("deployed", ["green", ""], ids=["no-switch-in-commit", "first-deploy"])
def test_nothing_is_switched_when_the_commit_did_not_move_traffic(monkeypatch, project, deployed):
    code, calls, summary = run(monkeypatch, project, "production", "--deployed-color", deployed, sets=green_commit())
    assert code == 1  # the job stays red either way
    assert calls == []
    assert "Nothing switched back" in summary


@pytest.mark.parametrize(
    "args, message",
    [
        (("production", "--deployed-color", "purple; rm -rf /"), "is not a color: give blue or green"),
        (("../etc", "--deployed-color", "blue"), "'../etc' is not a stack name"),
    ],
)
def test_bad_arguments_are_refused_before_any_command(monkeypatch, project, capsys, args, message):
    code, calls, summary = run(monkeypatch, project, *args)
    assert code == 2 and message in capsys.readouterr().err
    assert calls == [] and summary == ""
