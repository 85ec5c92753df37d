"""After a failed `pulumi up` in the deploy workflow: switch live traffic back
to the color that was live before it, and say what to revert in git.

    python -m tools.switch_back STACK --deployed-color COLOR

COLOR is the stack's `activeColor` output captured before the failed up
(empty on a stack's first deploy). When this commit moved `activeColor`
away from it, the failure may have left live traffic on a color that failed
its verification (promotion.verification); if the gate or the analysis
failed instead, traffic never moved and this changes nothing live. It runs

    pulumi config set activeColor COLOR -s STACK
    pulumi config set --path promotion.skipAnalysis true -s STACK
    pulumi up --yes --skip-preview --policy-pack policy -s STACK

in the workflow's own checkout (the emergency switch: no analysis, which would
block the rollback). The repository still says the new color, so the next push
would try again: the summary says which line to revert.

The summary goes to $GITHUB_STEP_SUMMARY (stdout elsewhere). The exit code is
always non-zero, so the job stays red: 1 after a switch-back (done or failed)
or when there was nothing to switch back, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Optional

from tools.engine.stack_config import PROJECT_DIR, ConfigInputError, resolve_config

COLORS = ("blue", "green")


def _run(command: list[str], project_dir: Path) -> int:
    print("+ " + shlex.join(command), flush=True)
    try:
        return subprocess.run(command, cwd=project_dir, check=False).returncode
    except FileNotFoundError:
        print(f"error: {command[0]} is not installed or not on PATH", file=sys.stderr)
        return 127


def switch_back(stack: str, deployed_color: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """Switch back when the commit moved traffic; the job summary's lines."""
    deployed_color = deployed_color.strip()
    if deployed_color not in ("", *COLORS):
        raise ConfigInputError(
            f"--deployed-color {deployed_color!r} is not a color: give blue or green (the stack's activeColor "
            f"output before the deploy), or an empty value on a stack's first deploy"
        )
    target = resolve_config(stack, project_dir=project_dir).values.get("activeColor")
    sha = os.environ.get("GITHUB_SHA", "")[:12] or "HEAD"
    heading = f"## `pulumi up` failed on stack {stack}"
    if not deployed_color:
        return [
            heading,
            "",
            "Nothing switched back: the stack had no `activeColor` output before this deploy (its first `up`, "
            "or outputs unreadable). Live traffic is on whatever color the failed `up` reached; check with "
            "`kubectl -n <namespace> get service monad-synapse -o jsonpath='{.spec.selector}'`.",
        ]
    if target == deployed_color:
        return [
            heading,
            "",
            f"Nothing switched back: this commit keeps `activeColor: {deployed_color}`, the color that was live "
            f"before it, so live traffic did not move. Read the `up` step's log for the failure; fix forward, "
            f"or revert commit {sha}.",
        ]
    commands = [
        ["pulumi", "config", "set", "activeColor", deployed_color, "-s", stack],
        ["pulumi", "config", "set", "--path", "promotion.skipAnalysis", "true", "-s", stack],
        ["pulumi", "up", "--yes", "--skip-preview", "--policy-pack", "policy", "-s", stack],
    ]
    failed: Optional[list[str]] = None
    for command in commands:
        if _run(command, project_dir) != 0:
            failed = command
            break
    steps = "\n".join(f"    {shlex.join(command)}" for command in commands)
    revert = (
        f"**Revert in git:** set `activeColor: {deployed_color}` in `Pulumi.{stack}.yaml` (or revert commit {sha}); "
        f"until then every push to main switches to {target} again. The switch-back ran with "
        f"`promotion.skipAnalysis: true` in this run only, so nothing else needs reverting."
    )
    if failed is None:
        return [
            heading,
            "",
            f"This commit switched live traffic from **{deployed_color}** to **{target}**, and the `up` failed "
            f"(the verification after the switch, or the gate or analysis before it). The workflow switched "
            f"live traffic back to **{deployed_color}**, without analysis:",
            "",
            steps,
            "",
            f"`{shlex.join(commands[-1])}` succeeded: live traffic is on {deployed_color}. "
            f"{target} keeps running for inspection (`kubectl logs -l monad-synapse.com/color={target}`).",
            "",
            revert,
        ]
    return [
        heading,
        "",
        f"This commit switched live traffic from **{deployed_color}** to **{target}**, and the `up` failed. "
        f"**Switching back also failed** at `{shlex.join(failed)}`: live traffic may still be on {target}. "
        f"Switch back by hand now (the emergency switch):",
        "",
        steps,
        "",
        revert,
    ]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.switch_back", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="stack name (a Pulumi.STACK.yaml must exist)")
    parser.add_argument(
        "--deployed-color",
        required=True,
        help="the stack's activeColor output before the failed up (blue, green or empty)",
    )
    args = parser.parse_args(argv)
    try:
        lines = switch_back(args.stack, args.deployed_color, PROJECT_DIR)
    except ConfigInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = "\n".join(lines) + "\n"
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as summary:
            summary.write(text)
    print(text)
    return 1  # the job stays red, whatever happened


if __name__ == "__main__":
    sys.exit(main())
