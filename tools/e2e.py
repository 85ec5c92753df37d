"""The end-to-end run on a throwaway cluster (kind), driven step by step:

    python -m tools.e2e [--stack e2e] [--keep]

On a cluster the current kubectl context points at, with a local Pulumi
backend (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE set by the caller):

1. installs the CRDs the program declares objects of (CRDS: pinned upstream
   release files). Their controllers are not installed: kind cannot issue
   certificates or route a Gateway, and no Prometheus runs, so
   Certificates, Gateways and monitors are accepted and left alone;
2. creates stack STACK from staging's settings, with a stand-in app image
   that answers every path on $PORT (APP_IMAGE), the Gateway API edge, no
   dumps and no promotion analysis (nothing to judge without Prometheus);
3. `pulumi up`: blue live; checks the live Service selects blue;
4. switches to green, `pulumi up`, checks green is live;
5. fails a promotion on purpose: turns the analysis on against a Prometheus
   that does not exist (it fails closed) and switches back to blue; the
   `up` must fail with live traffic still on green; then runs the deploy
   workflow's switch-back (tools.switch_back, in process) and checks green
   is live (the last good color) and the next `pulumi up` succeeds;
6. `pulumi destroy` and `pulumi stack rm` (unless --keep).

Every command is printed before it runs; the first unexpected outcome stops
the run with exit code 1 and says which step.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

from tools.engine.stack_config import PROJECT_DIR, ConfigInputError
from tools.switch_back import switch_back

# Answers 200 on every path, listens on $PORT (the app ConfigMap sets 3000),
# runs as any non-root UID with a read-only root filesystem.
APP_IMAGE = "ealen/echo-server:0.9.2"
CRDS = (
    # prometheus-operator v0.86.1: ServiceMonitor, PodMonitor, PrometheusRule, AlertmanagerConfig.
    *(
        f"https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/v0.86.1/example/"
        f"prometheus-operator-crd/monitoring.coreos.com_{name}.yaml"
        for name in ("servicemonitors", "podmonitors", "prometheusrules", "alertmanagerconfigs")
    ),
    "https://github.com/cert-manager/cert-manager/releases/download/v1.19.1/cert-manager.crds.yaml",
    "https://raw.githubusercontent.com/kubernetes/autoscaler/vertical-pod-autoscaler-1.5.1/"
    "vertical-pod-autoscaler/deploy/vpa-v1-crd-gen.yaml",
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.0/standard-install.yaml",
    "https://github.com/envoyproxy/gateway/releases/download/v1.6.0/install.yaml",
)
SETTINGS = (
    ("namespace", "{stack}"),
    ("domain", "{stack}.monad-synapse.test"),
    ("colors.blue.image", APP_IMAGE),
    ("colors.green.image", APP_IMAGE),
    ("edge.kind", "gateway"),
    ("backup.enabled", "false"),
    ("promotion.analysis.enabled", "false"),
    ("priorityClass.name", "monad-synapse-{stack}"),
    ("priorityClass.create", "true"),
)
SECRETS = (
    ("databaseUrl", "postgresql://app:e2e@postgres.invalid:5432/app"),
    ("redisUrl", "redis://:e2e@redis.invalid:6379/0"),
)
UNREACHABLE_PROMETHEUS = (
    "http://no-prometheus.monitoring.svc:9090"  # in the namespace the policy allows; no such Service
)


class StepFailed(Exception):
    pass


class Runner:
    def __init__(self, stack: str, project_dir: Path = PROJECT_DIR):
        self.stack, self.project_dir = stack, project_dir

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        print("+ " + shlex.join(command), flush=True)
        result = subprocess.run(command, cwd=self.project_dir, capture_output=True, text=True, check=False)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if check and result.returncode != 0:
            raise StepFailed(f"{shlex.join(command)} exited {result.returncode}")
        return result

    def config(self, key: str, value: str, secret: bool = False) -> None:
        self.run(
            "pulumi",
            "config",
            "set",
            *(["--secret"] if secret else []),
            "--path",
            key,
            value.format(stack=self.stack),
            "-s",
            self.stack,
        )

    def up(self) -> subprocess.CompletedProcess:
        return self.run("pulumi", "up", "--yes", "--skip-preview", "-s", self.stack, check=False)

    def live_color(self) -> str:
        jsonpath = r"{.spec.selector.monad-synapse\.com/color}"
        return self.run(
            "kubectl", "get", "service", "monad-synapse", "-n", self.stack, "-o", f"jsonpath={jsonpath}"
        ).stdout.strip()

    def expect_live(self, color: str, step: str) -> None:
        live = self.live_color()
        if live != color:
            raise StepFailed(f"{step}: live traffic is on {live or 'nothing'}, expected {color}")
        print(f"ok: {step}: live traffic on {color}", flush=True)


def run_e2e(stack: str, keep: bool = False, project_dir: Path = PROJECT_DIR) -> None:
    runner = Runner(stack, project_dir)
    backend = os.environ.get("PULUMI_BACKEND_URL", "")
    if backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    for url in CRDS:
        runner.run("kubectl", "apply", "--server-side", "-f", url)
    runner.run("pulumi", "stack", "init", stack)
    try:
        for key, value in SETTINGS:
            runner.config(key, value)
        for key, value in SECRETS:
            runner.config(key, value, secret=True)

        if runner.up().returncode != 0:
            raise StepFailed("first up failed")
        runner.expect_live("blue", "first up")

        runner.config("activeColor", "green")
        if runner.up().returncode != 0:
            raise StepFailed("the switch to green failed")
        runner.expect_live("green", "switch")

        runner.config("promotion.analysis.enabled", "true")
        runner.config("promotion.analysis.prometheusUrl", UNREACHABLE_PROMETHEUS)
        runner.config("activeColor", "blue")
        if runner.up().returncode == 0:
            raise StepFailed("a promotion judged against an unreachable Prometheus passed")
        runner.expect_live("green", "failed promotion")
        # The deploy workflow's step: the color captured before the failed up was green.
        try:
            print("\n".join(switch_back(stack, "green", project_dir)), flush=True)
        except ConfigInputError as error:
            raise StepFailed(f"tools.switch_back refused: {error}") from None
        runner.expect_live("green", "switch-back")
        if runner.up().returncode != 0:
            raise StepFailed("the up after the switch-back failed: the stack is wedged")
        runner.expect_live("green", "carry on")
    finally:
        if not keep:
            runner.run("pulumi", "destroy", "--yes", "--skip-preview", "-s", stack, check=False)
            runner.run("pulumi", "stack", "rm", "--yes", stack, check=False)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.e2e", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="e2e", help="stack (and namespace) to create; default e2e")
    parser.add_argument("--keep", action="store_true", help="leave the stack and its objects for inspection")
    args = parser.parse_args(argv)
    if args.stack in ("staging", "production") or not args.stack.replace("-", "").isalnum() or not args.stack.islower():
        print(
            f"error: --stack {args.stack!r}: give a new, lower-case name of letters, digits and '-' "
            f"(never staging or production: the run destroys it)",
            file=sys.stderr,
        )
        return 2
    try:
        run_e2e(args.stack, args.keep)
    except StepFailed as error:
        print(f"e2e FAILED: {error}", file=sys.stderr)
        return 1
    print("e2e passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
