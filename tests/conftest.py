"""Shared fixtures: in-process renders of the real program, component runs
under the mock engine, and the upstream CRD folder."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Callable

import pytest

from tests.helpers import cached_render
from tools.engine.mock_engine import ProgramRun, run_in_stack_with_mocks
from tools.engine.schemas import crd_directory
from tools.engine.stack_config import PROJECT_DIR
from tools.manifest import load_objects
from tools.render import Rendering


@pytest.fixture
def render_stack() -> Callable[..., Rendering]:
    """render_stack("staging", "maintenanceMode=true", secrets=("databaseUrl=...",))"""

    def _render(stack: str, *sets: str, secrets: tuple[str, ...] = ()) -> Rendering:
        return cached_render(stack, tuple(sets), tuple(secrets))

    return _render


@functools.lru_cache(maxsize=None)
def _parsed_objects(stack: str, sets: tuple[str, ...], secrets: tuple[str, ...]) -> dict[str, dict]:
    return load_objects(cached_render(stack, sets, secrets).files["manifest.yaml"])


@pytest.fixture
def stack_objects(render_stack) -> Callable[..., dict[str, dict]]:
    """Rendered Kubernetes objects keyed by Kind/namespace/name."""

    def _objects(stack: str, *sets: str, secrets: tuple[str, ...] = ()) -> dict[str, dict]:
        # Parsed once per render; each test gets its own copy to change.
        return copy.deepcopy(_parsed_objects(stack, tuple(sets), tuple(secrets)))

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


# --- the real-PostgreSQL recovery scenario, started once in the background ---

_RECOVERY_TESTS = PROJECT_DIR / "tests" / "components" / "data" / "test_database_recovery.py"


def _selects_recovery_tests(config: pytest.Config) -> bool:
    if not _RECOVERY_TESTS.exists():  # moved: say so, rather than lose the head start silently
        raise pytest.UsageError(f"{_RECOVERY_TESTS} is gone; point _RECOVERY_TESTS at the recovery tests")
    for argument in config.args or [str(PROJECT_DIR / "tests")]:
        path = Path(argument.split("::")[0]).resolve()
        if path == _RECOVERY_TESTS or (path.is_dir() and _RECOVERY_TESTS.is_relative_to(path)):
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process makes the folder where the session's renders
    are shared; the workers it starts inherit where it is."""
    import os
    import tempfile

    from tests.helpers import RENDER_CACHE_VARIABLE

    if not hasattr(config, "workerinput") and RENDER_CACHE_VARIABLE not in os.environ:
        directory = tempfile.mkdtemp(prefix="monad-synapse-renders-")
        os.environ[RENDER_CACHE_VARIABLE] = directory
        config.stash[_RENDER_CACHE] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    import os
    import shutil

    from tests.helpers import RENDER_CACHE_VARIABLE

    directory = config.stash.get(_RENDER_CACHE, None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.pop(RENDER_CACHE_VARIABLE, None)


_RENDER_CACHE = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the lost-primary scenario at once: it spends most of a minute
    waiting on PostgreSQL's archive_timeout, which would otherwise hold a
    test worker. Only the controlling process starts it (before the workers
    exist, so they inherit where it runs); the recovery tests collect it."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    from tests.recovery_scenario import DIRECTORY_VARIABLE

    config = session.config
    if hasattr(config, "workerinput") or DIRECTORY_VARIABLE in os.environ or not _selects_recovery_tests(config):
        return
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        return  # the tests skip (or fail in CI) on their own
    base = Path(tempfile.mkdtemp(prefix="monad-synapse-pitr-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    log = open(base / "scenario.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.recovery_scenario", str(base)],
        cwd=PROJECT_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    os.environ[DIRECTORY_VARIABLE] = str(base)
    config.stash[_SCENARIO] = (process, base, log)


_SCENARIO = pytest.StashKey[tuple]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    import os
    import shutil
    import subprocess

    running = session.config.stash.get(_SCENARIO, None)
    if running is None:
        return
    process, base, log = running
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()
    # Stop any server the tests left (each recovery stops its own; a failure may not).
    for data in base.glob("*/postmaster.pid"):
        subprocess.run(["pkill", "-F", str(data)], capture_output=True)
    os.environ.pop("MONAD_SYNAPSE_RECOVERY_SCENARIO", None)
    shutil.rmtree(base, ignore_errors=True)


def pytest_collection_modifyitems(items: list) -> None:
    """The recovery tests last: by then the background scenario is done."""
    items.sort(key=lambda item: Path(str(item.fspath)) == _RECOVERY_TESTS)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move everything alive once the tests are collected (the SDK, the
    settings models, pytest itself: about 145,000 objects, all of them kept
    until the worker exits) out of the cyclic collector's sight. Each render
    allocates enough to trigger collections of the oldest generation, which
    would otherwise traverse that heap every time: about a seventh of the
    suite's CPU time, 4 s of its wall time on 2 cores. Objects made by the
    tests themselves are collected as usual."""
    import gc

    gc.freeze()
