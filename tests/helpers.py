"""Helpers the tests share (imported as a module, unlike conftest fixtures)."""

from __future__ import annotations

import functools
import os
import shutil

import pytest

from tools.render import Rendering, render


@functools.lru_cache(maxsize=None)
def cached_render(stack: str, sets: tuple[str, ...], secret_sets: tuple[str, ...]) -> Rendering:
    """One render per distinct input in this process, shared by every test."""
    return render(stack, sets, secret_sets)


def require_tool(name: str) -> str:
    """Path of an external tool; skipped locally when absent, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
