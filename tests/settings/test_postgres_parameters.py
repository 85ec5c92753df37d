"""settings/postgres_parameters.py against a real PostgreSQL: for sample
values of every parameter a stack may set, the settings refuse exactly what
the server refuses, and the table matches the server's pg_settings for the
allow list.

The server reads the samples as it reads CloudNativePG's custom.conf: from
a configuration file, at start (`postgres -C` parses the files and exits
without starting). At start it reports every bad line of a file before it
gives up (ProcessConfigFileInternal, src/backend/utils/misc/guc-file.l in
PostgreSQL 15: a value that fails is logged and the loop goes on; "During
postmaster startup, any error is fatal" only after it), so one file holds
one sample of every parameter and a dozen runs judge them all."""

from __future__ import annotations

import os
import re
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


def quoted(value: str) -> str:
    """A configuration file's string literal, as CloudNativePG writes one."""
    return "'" + value.replace("'", "''") + "'"


def refused_by_the_server(data_directory, file_name: str, values: dict[str, str]) -> set[str]:
    """The parameters whose value the server refuses when `values` is its
    configuration file (one value per parameter: a later line would
    silently replace an earlier one)."""
    binaries, data = data_directory
    config = data.parent / file_name
    config.write_text("".join(f"{name} = {quoted(value)}\n" for name, value in values.items()))
    result = subprocess.run(
        as_server_user([str(binaries / "postgres"), "-D", str(data), "-c", f"config_file={config}", "-C", "work_mem"]),
        capture_output=True,
        text=True,
        timeout=30,
    )
    # Each refusal names its parameter: 'invalid value for parameter "x"',
    # '... is outside the valid range for parameter "x"', 'parameter "x"
    # requires a Boolean value'.
    refused = set(re.findall(r'parameter "([^"]+)"', result.stderr))
    if (result.returncode == 0) == bool(refused) or not refused <= set(values):
        raise AssertionError(f"unexpected answer from postgres (exit {result.returncode}):\n{result.stderr}")
    return refused


# An extension's parameters are placeholders until its library loads, and
# `postgres -C` never loads it: any text passes there. Their rows come from
# pg_settings of a server running with pg_stat_statements preloaded.
EXTENSION_PARAMETERS = {"pg_stat_statements.max", "pg_stat_statements.track"}


def test_the_table_covers_the_allow_list():
    assert set(postgres_parameters.PARAMETERS) == set(ALLOWED_PARAMETERS) - {"timezone"}


MAX_BACKENDS_SHARERS = ("max_connections", "max_worker_processes", "autovacuum_max_workers")


def is_int_sized(value: str) -> bool:
    try:
        return float(value) < 2**31
    except ValueError:
        return False


CHECKED_PARAMETERS = sorted(set(postgres_parameters.PARAMETERS) - EXTENSION_PARAMETERS)


@pytest.fixture(scope="module")
def server_refuses(data_directory) -> set[tuple[str, str]]:
    """Every (parameter, sample) the server refuses: run i sets each
    parameter to its i-th sample.

    Only max_connections, max_worker_processes and autovacuum_max_workers
    are judged against each other (check_maxconnections and its siblings in
    guc.c: their sum with max_wal_senders + 1 must stay within MAX_BACKENDS,
    262143), and their samples are too small for a file to cross it."""
    largest = [max(float(v) for v in samples(name) if is_int_sized(v)) for name in MAX_BACKENDS_SHARERS]
    max_wal_senders, max_backends = 10, 262143  # the default, and PostgreSQL 15's limit
    assert sum(largest) + max_wal_senders + 1 < max_backends
    refused = set()
    for run in range(max(len(samples(name)) for name in CHECKED_PARAMETERS)):
        values = {name: samples(name)[run] for name in CHECKED_PARAMETERS if run < len(samples(name))}
        refused |= {(name, values[name]) for name in refused_by_the_server(data_directory, f"run{run}.conf", values)}
    return refused


def test_the_server_reports_every_bad_line_of_a_file(data_directory):
    """What the batched runs rely on: not only the first bad line is named."""
    values = {"work_mem": "64MB", "jit": "maybe", "max_connections": "12abc", "wal_compression": "fast"}
    assert refused_by_the_server(data_directory, "three-bad.conf", values) == {
        "jit",
        "max_connections",
        "wal_compression",
    }


@pytest.mark.parametrize("name", CHECKED_PARAMETERS)
def test_the_settings_refuse_exactly_what_the_server_refuses(server_refuses, name):
    disagreements = []
    for value in samples(name):
        ours = postgres_parameters.problem(name, value) is None
        if ours == ((name, value) in server_refuses):
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
