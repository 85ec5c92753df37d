"""tools.drift: a preview's planned changes sorted into drift and fields
controllers write by design, and one issue per stack, against stand-in
`pulumi` and `gh` commands (the drift workflow runs it for real)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tools import drift
from tools.engine.stack_config import PROJECT_DIR

DEPLOYMENT = "urn:pulumi:production::monad-synapse::monad:app:BlueGreenApp$kubernetes:apps/v1:Deployment::blue"
CONFIG_MAP = "urn:pulumi:production::monad-synapse::monad:app:AppConfiguration$kubernetes:core/v1:ConfigMap::config"
SERVICE = "urn:pulumi:production::monad-synapse::monad:app:BlueGreenApp$kubernetes:core/v1:Service::live"


def plan(*steps: dict) -> dict:
    return {
        "steps": [{"op": "same", "urn": "urn:pulumi:production::monad-synapse::pulumi:pulumi:Stack::x"}, *steps],
        "changeSummary": {},
    }


def update(urn: str, *paths: str) -> dict:
    return {"op": "update", "urn": urn, "detailedDiff": {path: {"kind": "update"} for path in paths}}


def test_controller_owned_fields_are_not_drift_and_hand_edits_are():
    found = drift.differences(
        plan(
            update(
                DEPLOYMENT, "spec.replicas", 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]'
            ),
            update(CONFIG_MAP, 'data["MAINTENANCE_MODE"]'),
            update(SERVICE, "spec.clusterIP"),
            {"op": "delete", "urn": CONFIG_MAP},
        )
    )
    owned = {(item.resource, item.path) for item in found if item.owner}
    drifted = {(item.resource, item.path) for item in found if item.owner is None}
    assert owned == {("blue", "spec.replicas"), ("live", "spec.clusterIP")}
    assert drifted == {
        ("blue", 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]'),
        ("config", 'data["MAINTENANCE_MODE"]'),
        ("config", "(delete)"),
    }
    text = drift.report("production", found)
    assert "kubectl.kubernetes.io/restartedAt" in text and "the HPA controller" in text


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """Stand-ins: `pulumi` prints $FAKE_PLAN (and exits 255 as with changes); `gh` records its calls."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text('#!/bin/sh\necho "warning: stray line"\ncat "$FAKE_PLAN"\nexit 255\n')
    (bin_dir / "gh").write_text(
        '#!/bin/sh\nprintf "%s\\n" "$*" >> "$GH_CALLS"\n'
        'case "$*" in "issue list"*) printf "%s" "$FAKE_ISSUES" ;; esac\n'
    )
    for tool in ("pulumi", "gh"):
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("GH_CALLS", str(tmp_path / "gh-calls"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    def run(preview: dict, issues: str = "[]") -> tuple[int, list[str]]:
        (tmp_path / "plan.json").write_text(json.dumps(preview))
        monkeypatch.setenv("FAKE_PLAN", str(tmp_path / "plan.json"))
        monkeypatch.setenv("FAKE_ISSUES", issues)
        code = drift.main(["production"], project_dir=tmp_path)
        calls = tmp_path / "gh-calls"
        return code, calls.read_text().splitlines() if calls.exists() else []

    return run


def test_drift_opens_one_issue_then_comments_on_it(fake_tools):
    code, calls = fake_tools(plan(update(CONFIG_MAP, 'data["MAINTENANCE_MODE"]')))
    assert code == 1
    assert calls[0].startswith("issue list --state open --label drift")
    assert calls[1].startswith("issue create --title Drift on stack production --label drift --body-file ")
    code, calls = fake_tools(
        plan(update(CONFIG_MAP, 'data["MAINTENANCE_MODE"]')),
        issues='[{"number": 7, "title": "Drift on stack production"}]',
    )
    assert code == 1 and calls[-1].startswith("issue comment 7 --body-file ")


def test_only_controller_fields_is_no_drift_and_files_nothing(fake_tools):
    code, calls = fake_tools(plan(update(DEPLOYMENT, "spec.replicas")))
    assert code == 0 and calls == []


def test_a_preview_without_a_plan_is_an_error_not_a_clean_bill(fake_tools, capsys):
    code, calls = fake_tools({"error": "cannot connect"})
    assert code == 2 and calls == [] and "gave no plan" in capsys.readouterr().err


def test_an_unknown_stack_is_refused_before_any_command(fake_tools, capsys, tmp_path):
    assert drift.main(["../etc"], project_dir=tmp_path) == 2
    assert "unknown stack" in capsys.readouterr().err
