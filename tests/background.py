"""Scenarios that mostly wait on the clock, each run as `python -m <module>
DIR` in a process of its own from the start of a test session (conftest.py
starts them): how a scenario leaves its result in DIR, and how a test waits
for it."""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable

FAILED = "failed.txt"


def record(base: Path, result_name: str, produce: Callable[[], Any]) -> int:
    """Run the scenario: its JSON result in base/result_name, whole or
    absent for a waiting reader, or its traceback in base/failed.txt. The
    exit code of the scenario's process."""
    try:
        result = produce()
    except BaseException:  # the waiting test reports it
        (base / FAILED).write_text(traceback.format_exc())
        return 1
    partial = base / f"{result_name}.partial"
    partial.write_text(json.dumps(result))
    os.replace(partial, base / result_name)
    return 0


def wait_for(base: Path, result_name: str, what: str, timeout: float) -> Any:
    """The result a scenario recorded in `base`, waiting for it to finish."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (base / result_name).is_file():
            return json.loads((base / result_name).read_text())
        if (base / FAILED).is_file():
            raise AssertionError(f"{what} failed:\n{(base / FAILED).read_text()}")
        time.sleep(0.2)
    raise AssertionError(f"{what} did not finish within {timeout:.0f}s ({base})")
