"""Shared fixtures: in-process renders of the real program, component runs
under the mock engine, and the upstream CRD folder."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.helpers import cached_render
from tools.manifest import load_objects
from tools.mock_engine import ProgramRun, run_in_stack_with_mocks
from tools.stack_config import PROJECT_DIR
from tools.render import Rendering
from tools.schemas import crd_directory


@pytest.fixture
def render_stack() -> Callable[..., Rendering]:
    """render_stack("staging", "maintenanceMode=true", secrets=("databaseUrl=...",))"""

    def _render(stack: str, *sets: str, secrets: tuple[str, ...] = ()) -> Rendering:
        return cached_render(stack, tuple(sets), tuple(secrets))

    return _render


@pytest.fixture
def stack_objects(render_stack) -> Callable[..., dict[str, dict]]:
    """Rendered Kubernetes objects keyed by Kind/namespace/name."""

    def _objects(stack: str, *sets: str, secrets: tuple[str, ...] = ()) -> dict[str, dict]:
        return load_objects(render_stack(stack, *sets, secrets=secrets).files["manifest.yaml"])

    return _objects


@pytest.fixture
def run_component() -> Callable[[Callable[[], object]], ProgramRun]:
    """Build one component (with fake args) under the mock engine, preview=False."""

    def _run(build: Callable[[], object], config: dict[str, str] | None = None) -> ProgramRun:
        return run_in_stack_with_mocks("monad-synapse", "unit", dict(config or {}), [], build)

    return _run


@pytest.fixture(scope="session")
def crds() -> Path:
    directory = crd_directory()
    if directory is None:
        pytest.skip("upstream CRD schemas not found (../shared/crds or $MONAD_SYNAPSE_CRDS); a plain clone lacks them")
    return directory


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR
