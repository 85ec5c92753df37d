"""Shared fixtures: in-process renders of the real program, component runs
under the mock engine, and the upstream CRD folder."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from tests import analysis_scenario, recovery_scenario
from tests.helpers import cached_render, rendered_objects
from tools.engine.mock_engine import ProgramRun, run_in_stack_with_mocks
from tools.engine.schemas import crd_directory
from tools.engine.stack_config import PROJECT_DIR
from tools.render import Rendering


@pytest.fixture
def render_stack() -> Callable[..., Rendering]:
    """render_stack("staging", "maintenanceMode=true", secrets=("databaseUrl=...",))"""

    def _render(stack: str, *sets: str, secrets: tuple[str, ...] = ()) -> Rendering:
        return cached_render(stack, tuple(sets), tuple(secrets))

    return _render


@functools.lru_cache(maxsize=None)
def _parsed_objects(stack: str, sets: tuple[str, ...], secrets: tuple[str, ...]) -> dict[str, dict]:
    # What manifest.yaml parses back to (tests/tools/test_render_cli.py
    # checks that it does), without parsing 160 kB of YAML per render.
    return rendered_objects(cached_render(stack, sets, secrets))


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


# --- scenarios that mostly wait on the clock, started once in the background ---


@dataclass(frozen=True)
class BackgroundScenario:
    """`python -m <module> DIR [ARGS]`, started by the controlling process
    before the workers exist (they inherit DIR through `variable`) when any
    of `tests` is selected and the tools it needs are here; the tests collect
    its result from DIR, or run it themselves when it was not started."""

    tests: Path
    module: str
    variable: str
    # The scenario's extra arguments, or None when a tool it needs is missing
    # (the tests then skip, or fail in CI, on their own).
    arguments: Callable[[], Optional[list[str]]]
    owned_by_postgres: bool = False


def _initdb_present() -> Optional[list[str]]:
    return [] if list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) else None


def _prometheus_binary() -> Optional[list[str]]:
    import shutil

    binary = shutil.which("prometheus")
    return [binary] if binary else None


BACKGROUND_SCENARIOS = (
    # The lost-primary recovery: most of a minute on PostgreSQL's archive_timeout.
    BackgroundScenario(
        PROJECT_DIR / "tests" / "components" / "data" / "test_database_recovery.py",
        recovery_scenario.__name__,
        recovery_scenario.DIRECTORY_VARIABLE,
        _initdb_present,
        owned_by_postgres=True,
    ),
    # The promotion analysis: Prometheus' first scrapes, then each
    # analysis' measurements, about ten seconds of waiting.
    BackgroundScenario(
        PROJECT_DIR / "tests" / "components" / "app" / "test_promotion_analysis.py",
        analysis_scenario.__name__,
        analysis_scenario.DIRECTORY_VARIABLE,
        _prometheus_binary,
    ),
)


def _selects(config: pytest.Config, tests: Path) -> bool:
    if not tests.exists():  # moved: say so, rather than lose the head start silently
        raise pytest.UsageError(f"{tests} is gone; point BACKGROUND_SCENARIOS at where it went")
    for argument in config.args or [str(PROJECT_DIR / "tests")]:
        path = Path(argument.split("::")[0]).resolve()
        if path == tests or (path.is_dir() and tests.is_relative_to(path)):
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
    """Start the background scenarios at once: each would otherwise hold a
    test worker while it waits."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    config = session.config
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    started = []
    for scenario in BACKGROUND_SCENARIOS:
        if scenario.variable in os.environ or not _selects(config, scenario.tests):
            continue
        arguments = scenario.arguments()
        if arguments is None:
            continue
        base = Path(tempfile.mkdtemp(prefix=f"monad-synapse-{scenario.module.rsplit('.', 1)[-1]}-"))
        if scenario.owned_by_postgres and os.geteuid() == 0:
            shutil.chown(base, "postgres")
        log = open(base / "scenario.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", scenario.module, str(base), *arguments],
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its servers go with it when it is stopped early
        )
        os.environ[scenario.variable] = str(base)
        started.append((scenario, process, base, log))
    config.stash[_SCENARIOS] = started


_SCENARIOS = pytest.StashKey[list]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the background scenarios; then, as the renderer does on exit
    (tools/render.py run_as_command), move what the session leaves alive
    (its cached renders above all) out of the collector's sight: the
    interpreter's shutdown would traverse it, and the controlling process
    waits for every worker's shutdown (about half a second each)."""
    import gc
    import os
    import shutil
    import signal
    import subprocess

    for scenario, process, base, log in session.config.stash.get(_SCENARIOS, []):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        # Stop any server the tests left (each recovery stops its own; a failure may not).
        for data in base.glob("*/postmaster.pid"):
            subprocess.run(["pkill", "-F", str(data)], capture_output=True)
        os.environ.pop(scenario.variable, None)
        shutil.rmtree(base, ignore_errors=True)
    gc.freeze()


# Files that take a worker longest (`make bench` names them): handed out
# first, so no long file starts last while the other worker runs dry.
LONGEST_FILES = tuple(
    PROJECT_DIR / "tests" / path
    for path in (
        "components/data/test_backup_scripts.py",
        "tools/test_guardrail_tools.py",
        "program/test_release_path.py",
        "components/observability/test_alerts_promtool.py",
        "tools/test_diff.py",
    )
)


def pytest_collection_modifyitems(items: list) -> None:
    """The longest files first; the background scenarios' tests last, when
    their runs are done."""
    moved = [path for path in LONGEST_FILES if not path.exists()]
    if moved:  # say so, rather than lose the head start silently
        raise pytest.UsageError(f"{moved[0]} is gone; point LONGEST_FILES at where it went")
    waiting = {scenario.tests for scenario in BACKGROUND_SCENARIOS}

    def order(item) -> tuple[bool, int]:
        path = Path(str(item.fspath))
        return path in waiting, LONGEST_FILES.index(path) if path in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=order)


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
