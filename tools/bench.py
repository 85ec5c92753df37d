"""Benchmark: render cost against the floor of importing the Pulumi SDKs, the
wall time of the whole test suite on every core, and the blast radius of each
runbook operation. Prints tables; asserts nothing.

    python -m tools.bench [--runs N] [--suite-runs N]

Times are medians of N fresh processes (machines are noisy; compare ratios).
Targets: a render within 1.5x the floor; the suite within 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from settings import SettingsError
from tools.diff import diff_directories
from tools.engine.stack_config import PROJECT_DIR
from tools.manifest import load_objects
from tools.operations import OPERATIONS
from tools.render import render, write_atomically

# What rendering cannot do without: the SDKs and the Kubernetes API modules
# the program declares resources from, and the mock engine.
SDK_IMPORTS = (
    "import pulumi, pulumi.runtime.mocks, pulumi_random, pulumi_kubernetes;"
    "import pulumi_kubernetes.apps.v1, pulumi_kubernetes.autoscaling.v2, pulumi_kubernetes.batch.v1,"
    " pulumi_kubernetes.core.v1, pulumi_kubernetes.meta.v1, pulumi_kubernetes.networking.v1,"
    " pulumi_kubernetes.policy.v1, pulumi_kubernetes.scheduling.v1, pulumi_kubernetes.apiextensions"
)
# The same imports in a process that treats its collector as the renderer's
# entry point does (`tools.render.run_as_command`): paused, heap frozen before
# exit. The target is against the plain floor; this like-for-like ratio says
# how much of a render is work of its own (settings validation, components,
# the SDK's mocked registration of every resource) rather than collector time.
SDK_IMPORTS_COLLECTOR_OFF = f"import gc; gc.disable(); {SDK_IMPORTS}; gc.freeze()"


def _run(command: list[str], check: bool = True) -> tuple[float, str]:
    """Wall seconds of a command, and what it printed."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode and check:
        raise SystemExit(f"bench: {' '.join(command)} failed (exit {result.returncode})")
    if result.returncode:
        print(f"note: a suite run exited {result.returncode}; its time still counts", file=sys.stderr)
    return time.perf_counter() - start, result.stdout


def _seconds(command: list[str], check: bool = True) -> float:
    return _run(command, check)[0]


def median_seconds(command: list[str], runs: int, check: bool = True) -> float:
    return statistics.median(_seconds(command, check) for _ in range(runs))


# pytest --durations: "12.34s setup    tests/x/test_y.py::test_z[case]"
DURATION_LINE = re.compile(r"^(\d+(?:\.\d+)?)s (setup|call|teardown)\s+(\S+)$", re.MULTILINE)


def durations_from(output: str) -> dict[str, float]:
    """Seconds per test (setup, call and teardown together) from pytest's --durations report."""
    seconds: dict[str, float] = {}
    for value, _phase, test in DURATION_LINE.findall(output):
        seconds[test] = seconds.get(test, 0.0) + float(value)
    return seconds


@dataclass(frozen=True)
class SuiteCost:
    seconds: float  # median wall time
    slowest_tests: list[tuple[str, float]]  # median seconds, the slowest first
    slowest_files: list[tuple[str, float]]  # a file runs on one core (--dist loadfile)


def suite_cost(runs: int, top: int = 10) -> SuiteCost:
    """Median wall time of `make test`'s pytest run (every core), and the
    tests and files that take longest, as medians over the runs."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-n",
        "auto",
        "--dist",
        "loadfile",
        "-p",
        "no:cacheprovider",
        "--durations=0",
        "--durations-min=0.05",
    ]
    walls, per_run = [], []
    for _ in range(runs):
        wall, output = _run(command, check=False)
        walls.append(wall)
        per_run.append(durations_from(output))
    return SuiteCost(statistics.median(walls), *_slowest(per_run, top))


def _slowest(per_run: list[dict[str, float]], top: int) -> tuple[list, list]:
    tests = {name for run in per_run for name in run}
    medians = {name: statistics.median(run.get(name, 0.0) for run in per_run) for name in tests}
    files: dict[str, float] = {}
    for name, seconds in medians.items():
        files[name.split("::")[0]] = files.get(name.split("::")[0], 0.0) + seconds
    by_time = lambda items: sorted(items, key=lambda item: (-item[1], item[0]))[:top]  # noqa: E731
    return by_time(medians.items()), by_time(files.items())


@dataclass(frozen=True)
class RenderCost:
    stack: str
    floor: float  # the SDK imports in a plain process: what the target is against
    floor_collector_off: float  # the same, with the renderer's collector settings
    render: float
    resources: int
    kubernetes_objects: int


def render_costs(stacks: list[str], runs: int) -> list[RenderCost]:
    floor = median_seconds([sys.executable, "-c", SDK_IMPORTS], runs)
    floor_collector_off = median_seconds([sys.executable, "-c", SDK_IMPORTS_COLLECTOR_OFF], runs)
    costs = []
    with tempfile.TemporaryDirectory() as scratch:
        for stack in stacks:
            seconds = median_seconds(
                [sys.executable, "-m", "tools.render", stack, "--out", str(Path(scratch) / stack)], runs
            )
            rendering = render(stack)
            kubernetes = sum(1 for resource in rendering.run.resources if resource.is_kubernetes)
            costs.append(
                RenderCost(stack, floor, floor_collector_off, seconds, len(rendering.run.resources), kubernetes)
            )
    return costs


def blast_radius(stack: str) -> list[tuple]:
    """Each operation as `tools.diff` reports it between two renders (the
    provider's replacement rules and secret fingerprints included)."""
    baseline_rendering = render(stack)
    baseline = load_objects(baseline_rendering.files["manifest.yaml"])
    hpa_minimum = {
        obj["spec"]["scaleTargetRef"]["name"]: obj["spec"]["minReplicas"]
        for obj in baseline.values()
        if obj["kind"] == "HorizontalPodAutoscaler"
    }
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        before_dir = Path(scratch) / "before"
        write_atomically(baseline_rendering.files, before_dir)
        for index, operation in enumerate(OPERATIONS):
            try:
                if operation.base:
                    # Starts elsewhere (e.g. from the in-cluster database): its own "before".
                    before_dir = Path(scratch) / f"before-{index}"
                    write_atomically(render(stack, operation.base_for(stack), operation.secrets).files, before_dir)
                else:
                    before_dir = Path(scratch) / "before"
                after_rendering = render(stack, operation.sets_for(stack), operation.secrets)
            except SettingsError as error:
                refused = ", ".join(problem.path for problem in error.problems)
                rows.append((operation.name, f"refused ({refused})", "-", "-", "-", "-"))
                continue
            after_dir = Path(scratch) / f"after-{index}"
            write_atomically(after_rendering.files, after_dir)
            changes = diff_directories(before_dir, after_dir)
            rolled = [change.name for change in changes if change.rolls_pods]
            pods = sum(
                hpa_minimum.get(
                    name, baseline.get(f"Deployment/{stack}/{name}", {}).get("spec", {}).get("replicas") or 1
                )
                for name in rolled
            )
            replaced = sum(1 for change in changes if change.replaces)
            deleted_first = sum(1 for change in changes if change.deletes_first)
            rows.append((operation.name, len(changes), ", ".join(rolled) or "-", pods, replaced, deleted_first))
    return rows


def _print_table(header: tuple, rows: list[tuple]) -> None:
    cells = [tuple(str(cell) for cell in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per median (default 5)")
    parser.add_argument("--stack", action="append", dest="stacks", help="stacks (default staging and production)")
    parser.add_argument(
        "--suite-runs",
        type=int,
        default=5,
        help="full test-suite runs for the median (default 5; 0 skips, each takes about a minute)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    stacks = args.stacks or ["staging", "production"]

    print(f"Render cost, median of {args.runs} fresh processes each")
    _print_table(
        (
            "stack",
            "SDK import floor (s)",
            "render (s)",
            "render / floor (target 1.5x)",
            "floor, collector off (s)",
            "render / that",
            "resources",
            "Kubernetes objects",
        ),
        [
            (
                cost.stack,
                f"{cost.floor:.2f}",
                f"{cost.render:.2f}",
                f"{cost.render / cost.floor:.2f}x",
                f"{cost.floor_collector_off:.2f}",
                f"{cost.render / cost.floor_collector_off:.2f}x",
                cost.resources,
                cost.kubernetes_objects,
            )
            for cost in render_costs(stacks, args.runs)
        ],
    )
    if args.suite_runs:
        suite = suite_cost(args.suite_runs)
        print(
            f"Test suite on {os.cpu_count()} cores, median of {args.suite_runs} runs: {suite.seconds:.1f} s "
            "(target 60 s)\n"
        )
        print("Slowest tests (median seconds, setup included)")
        _print_table(("test", "seconds"), [(name, f"{seconds:.2f}") for name, seconds in suite.slowest_tests])
        print("Slowest test files (each runs on one core)")
        _print_table(("file", "seconds"), [(name, f"{seconds:.1f}") for name, seconds in suite.slowest_files])
    for stack in stacks:
        print(f"Blast radius of the runbook operations on {stack} (pods counted at the HPA minimum)")
        _print_table(
            ("operation", "objects changed", "rolled", "pods rolled", "replaced", "deleted first"), blast_radius(stack)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
