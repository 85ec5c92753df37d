"""Drift: whether the cluster still matches a stack, and an issue when not.

    python -m tools.drift STACK [--no-issue]

Runs `pulumi preview --refresh --expect-no-changes --json -s STACK` (read
only: it refreshes the state in memory and plans, changing nothing), then
sorts every planned change:

* controller-owned: fields a controller writes by design (an HPA-managed
  Deployment's `spec.replicas`, a Service's allocated cluster IP, `status`,
  the Deployment controller's revision annotation). Listed, not reported;
* drift: anything else, i.e. someone changed the cluster by hand (`kubectl
  patch`, `scale`, `rollout restart`, `edit`). The next `pulumi up` would
  undo it.

With drift it opens one GitHub issue per stack (label `drift`, title
"Drift on stack STACK"), or comments on the open one, through the `gh` CLI
(GH_TOKEN), and exits 1. No drift: exit 0. The preview failing or printing
no plan: exit 2. The report also goes to $GITHUB_STEP_SUMMARY.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from tools.engine.stack_config import PROJECT_DIR, ConfigInputError, available_stacks

LABEL = "drift"
CHANGING_OPS = frozenset({"create", "update", "replace", "delete", "create-replacement", "delete-replaced"})
# (resource type, or "*"; field path prefix; who writes it). Paths as the
# engine prints them in detailedDiff (`spec.replicas`, `metadata.annotations["a/b"]`).
CONTROLLER_OWNED = (
    ("kubernetes:apps/v1:Deployment", "spec.replicas", "the HPA controller (the replica count is the HPA's)"),
    (
        "kubernetes:apps/v1:Deployment",
        'metadata.annotations["deployment.kubernetes.io/revision"]',
        "the Deployment controller",
    ),
    ("kubernetes:core/v1:Service", "spec.clusterIP", "the API server's IP allocator"),
    ("*", "status", "the object's controller"),
    ("*", "metadata.managedFields", "the API server"),
    ("*", "metadata.resourceVersion", "the API server"),
    ("*", "metadata.generation", "the API server"),
)


@dataclass(frozen=True)
class Difference:
    urn: str
    op: str
    path: str
    owner: Optional[str]  # the controller that writes it, or None: drift

    @property
    def resource(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


def _owner(resource_type: str, path: str) -> Optional[str]:
    for owned_type, prefix, owner in CONTROLLER_OWNED:
        if owned_type in ("*", resource_type) and (path == prefix or path.startswith((prefix + ".", prefix + "["))):
            return owner
    return None


def differences(preview: dict[str, Any]) -> list[Difference]:
    """Every planned change of a `pulumi preview --json` document, by field."""
    found = []
    for step in preview.get("steps") or []:
        op = step.get("op", "")
        if op not in CHANGING_OPS:
            continue
        urn = step.get("urn", "")
        resource_type = urn.split("::")[2].split("$")[-1] if urn.count("::") >= 3 else ""
        paths = (
            sorted((step.get("detailedDiff") or {}).keys())
            or sorted(step.get("diffReasons") or [])
            or ["(whole object)"]
        )
        if op != "update":
            paths = [f"({op})"]  # a created or deleted object is drift whatever its fields
        found += [Difference(urn, op, path, _owner(resource_type, path) if op == "update" else None) for path in paths]
    return found


def report(stack: str, found: list[Difference]) -> str:
    drift = [item for item in found if item.owner is None]
    owned = [item for item in found if item.owner is not None]
    lines = [f"## Drift on stack {stack}", ""]
    if drift:
        lines += [
            "The cluster differs from the stack; the next `pulumi up` would undo these changes. Either make "
            "them config (a reviewed change) or let `pulumi up` restore the stack's values.",
            "",
            "| resource | operation | field |",
            "|---|---|---|",
        ]
        lines += [f"| `{item.resource}` | {item.op} | `{item.path}` |" for item in drift]
    else:
        lines.append("No drift: the cluster matches the stack.")
    if owned:
        lines += ["", "Written by controllers by design (not drift):", ""]
        lines += [f"- `{item.resource}` `{item.path}`: {item.owner}" for item in owned]
    return "\n".join(lines) + "\n"


def _gh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["gh", *args], capture_output=True, text=True, check=False)


def file_issue(stack: str, body: str) -> str:
    """Comment on the open drift issue of the stack, or open one. Returns what it did."""
    title = f"Drift on stack {stack}"
    listed = _gh(
        "issue",
        "list",
        "--state",
        "open",
        "--label",
        LABEL,
        "--search",
        f'"{title}" in:title',
        "--json",
        "number,title",
    )
    issues = json.loads(listed.stdout or "[]") if listed.returncode == 0 else []
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as handle:
        handle.write(body)
    try:
        existing = next((item["number"] for item in issues if item.get("title") == title), None)
        if existing is not None:
            result = _gh("issue", "comment", str(existing), "--body-file", handle.name)
            done = f"commented on issue #{existing}"
        else:
            result = _gh("issue", "create", "--title", title, "--label", LABEL, "--body-file", handle.name)
            done = "opened an issue"
    finally:
        os.unlink(handle.name)
    if result.returncode != 0:
        return f"could not file the issue: {result.stderr.strip()}"
    return done


def _preview(stack: str, project_dir: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["pulumi", "preview", "--refresh", "--expect-no-changes", "--json", "-s", stack],
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    # --expect-no-changes exits non-zero on changes; only an unreadable plan is an error.
    match = re.search(r"\{.*\}", result.stdout, re.DOTALL)
    try:
        document = json.loads(match.group(0)) if match else None
    except ValueError:
        document = None
    if not isinstance(document, dict) or "steps" not in document:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ConfigInputError(
            f"pulumi preview of {stack} gave no plan (exit {result.returncode}): " + " | ".join(tail)
        )
    return document


def main(argv: Optional[Sequence[str]] = None, project_dir: Path = PROJECT_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack")
    parser.add_argument("--no-issue", action="store_true", help="only print the report")
    args = parser.parse_args(argv)
    try:
        if args.stack not in available_stacks(project_dir):
            raise ConfigInputError(
                f"unknown stack {args.stack!r}: give one of {', '.join(available_stacks(project_dir))}"
            )
        found = differences(_preview(args.stack, project_dir))
    except ConfigInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = report(args.stack, found)
    drifted = any(item.owner is None for item in found)
    if drifted and not args.no_issue:
        text += f"\n_{file_issue(args.stack, text)}_\n"
    sys.stdout.write(text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as handle:
            handle.write(text)
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
