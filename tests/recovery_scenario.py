"""The lost-primary scenario behind tests/components/data/test_database_recovery.py, run on a
real PostgreSQL: WAL archived with the parameters the program renders, a
base backup, a row written every second, a restart in the middle (as a
rolling update or a node reboot does), then an abrupt stop.

It mostly waits on the clock (archive_timeout is real time), so the test
session starts it in the background at once (conftest.py) and the tests
that recover from it collect it later:

    python -m tests.recovery_scenario DIR

leaves DIR/base-backup, DIR/archive and DIR/result.json (or DIR/failed.txt, tests/background.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tests import background
from tests.helpers import CLOUDNATIVEPG, DATABASE_S3_SECRETS, as_server_user, cached_render, free_port
from tools.manifest import load_objects

RESULT = "result.json"
# Where the session's background run is (set by conftest.py for the workers).
DIRECTORY_VARIABLE = "MONAD_SYNAPSE_RECOVERY_SCENARIO"

# The smallest RPO the settings accept: archive_timeout 30 s, so the run
# stays short while covering a forced segment switch or more.
RPO_SECONDS = 60
# After the restart, the first segment switch comes with the first
# checkpoint, checkpoint_timeout (= archive_timeout, 30 s) later: 35 s of
# writes after the restart leave a few seconds archived past that switch
# and a few lost. The restart comes early (two rows before it), as the
# session waits on this run.
RESTART_AFTER_SECONDS = 2
WRITE_SECONDS = RESTART_AFTER_SECONDS + 35
# The writer after the restart numbers its rows from here.
SECOND_WRITER_FIRST_ID = 1001


def rendered_parameters() -> dict[str, str]:
    """postgresql.parameters of the Cluster the program renders for this RPO."""
    rendering = cached_render("production", (*CLOUDNATIVEPG, f"database.rpoSeconds={RPO_SECONDS}"), DATABASE_S3_SECRETS)
    cluster = load_objects(rendering.files["manifest.yaml"])["Cluster/production/monad-synapse-db"]
    return cluster["spec"]["postgresql"]["parameters"]


class Server:
    """A throwaway PostgreSQL, as the server's own user when run as root."""

    def __init__(self, binaries: Path, data: Path, socket_dir: Path, log: Path):
        self.binaries, self.data, self.socket_dir, self.log = binaries, data, socket_dir, log
        self.port = free_port()

    def _pg_ctl(self, *arguments: str) -> None:
        subprocess.run(
            as_server_user([str(self.binaries / "pg_ctl"), "-D", str(self.data), *arguments]),
            check=True,
            capture_output=True,
        )

    def start(self, settings: dict[str, str]) -> None:
        options = " ".join(f"-c {key}={value}" for key, value in settings.items())
        self._pg_ctl(
            "-l", str(self.log), "-w", "-t", "120", "start",
            "-o", f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' {options}",
        )  # fmt: skip

    def restart(self) -> None:
        """A clean restart (a pod rolled, a node rebooted): the shutdown checkpoint, then up again."""
        self._pg_ctl("-l", str(self.log), "-m", "fast", "-w", "-t", "120", "restart")

    def crash(self) -> None:
        """Stop at once, as a lost node does: no shutdown checkpoint, no final switch."""
        self._pg_ctl("-m", "immediate", "stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            as_server_user(
                [
                    str(self.binaries / "psql"),
                    "-h",
                    str(self.socket_dir),
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-d",
                    database,
                    "-X",
                    "-A",
                    "-t",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    sql,
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def wait_until_primary(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.psql("SELECT pg_is_in_recovery()") == "f":
                    return
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"recovery did not finish; see {self.log}")


def run(base: Path, binaries: Path) -> dict:
    """Archive, write, crash; returns what recovery needs."""
    archive = base / "archive"  # the object store
    for directory in (archive, base / "sockets"):
        directory.mkdir()
    if os.geteuid() == 0:
        for path in (base, archive, base / "sockets"):
            shutil.chown(path, "postgres")
    data = base / "primary"
    # initdb needs no parameters: it runs while the program renders them.
    initdb = subprocess.Popen(
        as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        parameters = rendered_parameters()
    finally:
        _, errors = initdb.communicate()
    if initdb.returncode != 0:
        raise RuntimeError(f"initdb failed: {errors}")
    primary = Server(binaries, data, base / "sockets", base / "primary.log")
    primary.start(
        {
            # CloudNativePG's settings for archiving (wal_level logical there;
            # replica is enough here) and the program's own parameters.
            "wal_level": "replica",
            "archive_mode": "on",
            "archive_command": f"'test ! -f {archive}/%f && cp %p {archive}/%f'",
            "shared_preload_libraries": "pg_stat_statements",
            **{key: f"'{value}'" for key, value in parameters.items()},
        }
    )
    primary.psql(
        "CREATE TABLE ticks (id bigint PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp())"
    )
    backup = base / "base-backup"
    subprocess.run(
        as_server_user(
            [
                str(binaries / "pg_basebackup"),
                "-h",
                str(base / "sockets"),
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(backup),
                "-X",
                "stream",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )

    # A row a second, each committed on its own, from one session (a short
    # script: it fits the pipe, so writing it never waits on psql); a new
    # session after the restart.
    def writer(first_id: int, seconds: int) -> subprocess.Popen:
        script = "".join(
            f"INSERT INTO ticks (id) VALUES ({tick}); SELECT pg_sleep(1);\n"
            for tick in range(first_id, first_id + seconds + 60)
        )
        process = subprocess.Popen(
            as_server_user(
                [
                    str(binaries / "psql"),
                    "-h",
                    str(base / "sockets"),
                    "-p",
                    str(primary.port),
                    "-U",
                    "postgres",
                    "-X",
                    "-q",
                ]
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        process.stdin.write(script)
        process.stdin.close()
        return process

    first = writer(1, RESTART_AFTER_SECONDS)
    time.sleep(RESTART_AFTER_SECONDS)
    first.kill()
    first.wait()
    primary.restart()
    restarted_at = datetime.now(timezone.utc)
    second = writer(SECOND_WRITER_FIRST_ID, WRITE_SECONDS - RESTART_AFTER_SECONDS)
    time.sleep(WRITE_SECONDS - RESTART_AFTER_SECONDS)
    primary.crash()
    # Taken once the server is gone: no row can be younger, so the lost
    # interval (this less the newest recovered row) is never negative.
    crashed_at = datetime.now(timezone.utc)
    second.kill()
    second.wait()
    return {"crashed_at": crashed_at.isoformat(), "restarted_at": restarted_at.isoformat(), "parameters": parameters}


def wait_for(base: Path, timeout: float = 240) -> dict:
    """The result of a run in `base`, waiting for it to finish."""
    result = background.wait_for(base, RESULT, "the recovery scenario", timeout)
    return {**result, "crashed_at": datetime.fromisoformat(result["crashed_at"])}


def main(argv: list[str]) -> int:
    from tests.helpers import postgres_bin

    base = Path(argv[0])
    return background.record(base, RESULT, lambda: run(base, postgres_bin()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
