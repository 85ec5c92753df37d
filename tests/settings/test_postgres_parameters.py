"""settings/postgres_parameters.py against a real PostgreSQL: for sample
values of every parameter a stack may set, the settings refuse exactly what
the server refuses (`postgres -C NAME -c NAME=VALUE` parses the setting as
the server does at start, without starting it), and the table matches the
server's pg_settings for the allow list."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from settings import postgres_parameters
from settings.cloudnativepg import ALLOWED_PARAMETERS
from tests.helpers import as_server_user, postgres_bin

SAMPLES = {
    "integer": ["1", "0", "-1", "100", "1.5", "2147483648", "12abc", "1e3"],
    "memory": ["64MB", "1GB", "1gb", "512kB", "8kB", "1TB", "3", "64 MB", "0.5GB", "1s"],
    "time": ["30s", "5min", "1h", "1d", "100ms", "500", "0", "1 min", "2MIN", "1.5s", "10kB"],
    "real": ["0", "0.5", "1", "1.5", "-0.1", "1e2", "2s"],
    "bool": ["on", "off", "true", "FALSE", "yes", "no", "1", "0", "t", "of", "o", "maybe"],
    "enum": ["none", "top", "all", "ALL", "pglz", "lz4", "zstd", "on", "off", "true", "fast"],
}


def samples(name: str) -> list[str]:
    kind, unit, *_ = postgres_parameters.PARAMETERS[name]
    if kind == "integer" and unit in ("8kB", "kB", "MB"):
        return SAMPLES["memory"] + SAMPLES["integer"][:3]
    if kind == "integer" and unit in ("ms", "s"):
        return SAMPLES["time"] + SAMPLES["integer"][:3]
    return SAMPLES[kind]


@pytest.fixture(scope="module")
def data_directory():
    binaries = postgres_bin()
    base = Path(tempfile.mkdtemp(prefix="monad-synapse-guc-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    subprocess.run(
        as_server_user(
            [str(binaries / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    yield binaries, base / "data"
    shutil.rmtree(base, ignore_errors=True)


def server_accepts(data_directory, name: str, value: str) -> bool:
    binaries, data = data_directory
    result = subprocess.run(
        as_server_user([str(binaries / "postgres"), "-D", str(data), "-c", f"{name}={value}", "-C", name]),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.returncode == 0


# An extension's parameters are placeholders until its library loads, and
# `postgres -C` never loads it: any text passes there. Their rows come from
# pg_settings of a server running with pg_stat_statements preloaded.
EXTENSION_PARAMETERS = {"pg_stat_statements.max", "pg_stat_statements.track"}


def test_the_table_covers_the_allow_list():
    assert set(postgres_parameters.PARAMETERS) == set(ALLOWED_PARAMETERS) - {"timezone"}


@pytest.mark.parametrize("name", sorted(set(postgres_parameters.PARAMETERS) - EXTENSION_PARAMETERS))
def test_the_settings_refuse_exactly_what_the_server_refuses(data_directory, name):
    disagreements = []
    for value in samples(name):
        ours = postgres_parameters.problem(name, value) is None
        if ours != server_accepts(data_directory, name, value):
            disagreements.append(f"{value!r}: settings {'accept' if ours else 'refuse'}, the server does not")
    assert disagreements == []


def test_the_parameters_that_restart_instances_are_the_servers_start_only_ones():
    """The diff says which database changes restart every instance: those
    PostgreSQL reads only at start (context postmaster)."""
    from tools.engine.operator_rollouts import RESTART_PARAMETERS

    described = subprocess.run(
        as_server_user([str(postgres_bin() / "postgres"), "--describe-config"]),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    context = {line.split("\t")[0]: line.split("\t")[1] for line in described.splitlines() if "\t" in line}
    start_only = {name for name in ALLOWED_PARAMETERS - EXTENSION_PARAMETERS if context.get(name) == "postmaster"}
    assert start_only == RESTART_PARAMETERS - EXTENSION_PARAMETERS
    assert RESTART_PARAMETERS <= ALLOWED_PARAMETERS
