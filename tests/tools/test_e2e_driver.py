"""tools.e2e, the end-to-end workflow's driver, against stand-in `pulumi` and
`kubectl` (the suite has no cluster): the steps in order, the failure it provokes
on purpose, the switch-back, and that it stops at the first step whose
outcome is wrong. The real run is .github/workflows/e2e.yml on kind."""

from __future__ import annotations

import shutil
import sys
import textwrap

import pytest
import yaml

from tools import e2e
from tools.engine.stack_config import PROJECT_DIR

# A `pulumi` that keeps the stack file as the CLI would (written as JSON, which
# is YAML too: the stand-in starts about 50 times, and importing PyYAML would
# be most of each start) and a "cluster" (the live color) in $STATE: `up`
# fails when the analysis would judge against an unreachable Prometheus (as
# it fails closed), else moves live traffic to activeColor. $BREAK names a
# behaviour to get wrong.
FAKE_PULUMI = textwrap.dedent(f"""\
    #!{sys.executable}
    import json, os, sys
    args, calls = sys.argv[1:], os.environ["CALLS"]
    open(calls, "a").write(" ".join(args) + "\\n")
    state = json.load(open(os.environ["STATE"])) if os.path.exists(os.environ["STATE"]) else {{}}
    stack = args[args.index("-s") + 1] if "-s" in args else (args[-1] if args[:2] == ["stack", "init"] else "")
    path = f"Pulumi.{{stack}}.yaml"
    if args[:2] == ["stack", "init"]:
        json.dump({{"config": {{}}}}, open(path, "w"))
    elif args[:2] == ["config", "set"]:
        words = [word for word in args[2:] if word not in ("--path", "--secret")]
        key, value = words[0], ({{"secure": "v1:ZmFrZQ=="}} if "--secret" in args else words[1])
        document = json.load(open(path))
        node, parts = document["config"], key.split(".")
        parts[0] = "monad-synapse:" + parts[0]
        for part in parts[:-1]:
            node = node.setdefault(part, {{}})
        node[parts[-1]] = value
        json.dump(document, open(path, "w"))
    elif args[0] == "up":
        config = json.load(open(path))["config"]
        color = config.get("monad-synapse:activeColor", "blue")
        promotion = config.get("monad-synapse:promotion", {{}})
        analysis = promotion.get("analysis", {{}})
        judged = analysis.get("enabled") == "true" and promotion.get("skipAnalysis") != "true"
        moving = color != state.get("live", color)
        if judged and moving and "no-prometheus" in analysis.get("prometheusUrl", ""):
            sys.exit(255)
        if os.environ.get("BREAK") == "switch-back-up" and promotion.get("skipAnalysis") == "true":
            sys.exit(255)
        state["live"] = color
        json.dump(state, open(os.environ["STATE"], "w"))
    """)
FAKE_KUBECTL = textwrap.dedent(f"""\
    #!{sys.executable}
    import json, os, sys
    open(os.environ["CALLS"], "a").write("kubectl " + " ".join(sys.argv[1:]) + "\\n")
    if sys.argv[1] == "get":
        state = json.load(open(os.environ["STATE"])) if os.path.exists(os.environ["STATE"]) else {{}}
        print(state.get("live", ""))
    """)


@pytest.fixture
def project(tmp_path, monkeypatch):
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in (("pulumi", FAKE_PULUMI), ("kubectl", FAKE_KUBECTL)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("CALLS", str(tmp_path / "calls"))
    monkeypatch.setenv("STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'backend'}")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def calls(project) -> list[str]:
    return (project / "calls").read_text().splitlines()


def test_the_run_switches_fails_a_promotion_switches_back_and_destroys(project):
    e2e.run_e2e("e2e", project_dir=project)
    made = calls(project)
    assert (project / "backend").is_dir()
    assert sum(call.startswith("kubectl apply --server-side -f https://") for call in made) == len(e2e.CRDS)
    ups = [index for index, call in enumerate(made) if call.startswith("up ")]
    assert len(ups) == 5  # first, switch, failed promotion, switch-back, carry on
    switch_back = made.index("config set --path promotion.skipAnalysis true -s e2e")
    assert ups[2] < switch_back < ups[3]
    assert made[-2:] == ["destroy --yes --skip-preview -s e2e", "stack rm --yes e2e"]
    config = yaml.safe_load((project / "Pulumi.e2e.yaml").read_text())["config"]
    assert config["monad-synapse:activeColor"] == "green"


def test_a_broken_switch_back_stops_the_run_and_still_cleans_up(project, monkeypatch):
    monkeypatch.setenv("BREAK", "switch-back-up")
    with pytest.raises(e2e.StepFailed):
        e2e.run_e2e("e2e", project_dir=project)
    assert calls(project)[-1] == "stack rm --yes e2e"


@pytest.mark.parametrize("stack", ["production", "staging", "../x", "E2E"])
def test_it_never_runs_on_a_real_stack_or_a_bad_name(stack, capsys):
    assert e2e.main(["--stack", stack]) == 2
    assert "never staging or production" in capsys.readouterr().err
