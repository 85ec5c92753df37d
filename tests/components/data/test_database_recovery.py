"""The RPO arithmetic and point-in-time recovery, proven on a real PostgreSQL.

A local server runs with the WAL archiving parameters the program renders
for the in-cluster database (archive_timeout from database.rpoSeconds),
archiving with a copy into a local directory standing in for object
storage. A base backup is taken, a row is written every second, and the
server is stopped abruptly, its disk treated as lost. Recovery from the
base backup plus the archive may lose at most rpoSeconds of rows; a second
recovery to a target time holds every row up to it and none after.

This is what CloudNativePG does with the Barman Cloud plugin (archive_command
ships each finished segment; bootstrap.recovery replays them), minus the
object store's upload time, which the program leaves a margin for
(settings/database.py, ARCHIVE_UPLOAD_MARGIN_SECONDS)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from settings import settings_from_raw
from tests.helpers import postgres_bin
from tests.recovery_scenario import (
    DIRECTORY_VARIABLE,
    RESULT,
    RPO_SECONDS,
    SECOND_WRITER_FIRST_ID,
    WRITE_SECONDS,
    Server,
    rendered_parameters,
    run,
    wait_for,
)


@pytest.fixture(scope="module")
def lost_primary():
    """The scenario's result: the session's background run, or one run here."""
    binaries = postgres_bin()
    background = os.environ.get(DIRECTORY_VARIABLE)
    if background:
        base = Path(background)
    else:
        base = Path(tempfile.mkdtemp(prefix="monad-synapse-pitr-"))
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
        background.record(base, RESULT, lambda: run(base, binaries))
    result = wait_for(base)
    yield {**result, "binaries": binaries, "base": base, "backup": base / "base-backup", "archive": base / "archive"}
    if not background:
        shutil.rmtree(base, ignore_errors=True)


def recover(scenario: dict, name: str, target_time: str | None = None) -> Server:
    """A new server from the base backup and the archive: the primary's disk is gone."""
    base = scenario["base"]
    data = base / name
    shutil.copytree(scenario["backup"], data)
    (data / "recovery.signal").write_text("")
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(data)], check=True)
    os.chmod(data, 0o700)
    server = Server(scenario["binaries"], data, base / "sockets", base / f"{name}.log")
    settings = {
        "restore_command": f"'cp {scenario['archive']}/%f %p'",
        # Like the program's recovered Cluster, the restored server never
        # archives into the WAL path it recovers from.
        "archive_mode": "off",
    }
    if target_time:
        settings |= {"recovery_target_time": f"'{target_time}'", "recovery_target_action": "promote"}
    server.start(settings)
    server.wait_until_primary()
    return server


def rows(server: Server) -> list[tuple[int, datetime]]:
    text = server.psql("SELECT id, extract(epoch FROM written_at) FROM ticks ORDER BY id")
    return [
        (int(line.split("|")[0]), datetime.fromtimestamp(float(line.split("|")[1]), tz=timezone.utc))
        for line in text.splitlines()
        if line
    ]


def test_the_rendered_archive_timeout_follows_the_rpo():
    parameters = rendered_parameters()
    settings = settings_from_raw(
        {
            "namespace": "production",
            "domain": "monad-synapse.com",
            "colors": {"blue": {"image": "a/b:1"}, "green": {"image": "a/b:1"}},
            "database": {"rpoSeconds": RPO_SECONDS},
        },
        "production",
    )
    assert parameters["archive_timeout"] == f"{settings.database.archive_timeout_seconds}s"
    assert settings.database.archive_timeout_seconds < RPO_SECONDS


def test_recovery_after_a_restart_and_losing_the_primary_loses_at_most_the_rpo(lost_primary):
    """The primary restarted cleanly mid-way, then was lost: every row
    written before the restart and all but the last RPO's worth after it
    come back. (After a restart PostgreSQL 15 forces its first segment
    switch only at a checkpoint: with checkpoint_timeout 15min, measured
    here, all 35 s written after the restart were lost. The program renders
    checkpoint_timeout = archive_timeout.)"""
    parameters = lost_primary["parameters"]
    assert parameters["checkpoint_timeout"] == parameters["archive_timeout"]
    server = recover(lost_primary, "recovered")
    try:
        recovered = rows(server)
    finally:
        server.crash()
    assert recovered, "nothing was recovered"
    before = [row_id for row_id, _ in recovered if row_id < SECOND_WRITER_FIRST_ID]
    after = [row_id for row_id, _ in recovered if row_id >= SECOND_WRITER_FIRST_ID]
    assert before == list(range(1, len(before) + 1)) and after == list(
        range(SECOND_WRITER_FIRST_ID, SECOND_WRITER_FIRST_ID + len(after))
    ), "recovery left holes"
    assert after, "nothing written after the restart came back"
    lost_seconds = (lost_primary["crashed_at"] - recovered[-1][1]).total_seconds()
    # What is missing is what was not archived yet, never more than the RPO.
    assert 0 <= lost_seconds <= RPO_SECONDS, f"lost {lost_seconds:.1f}s of writes, RPO {RPO_SECONDS}s"
    assert len(before) + len(after) >= WRITE_SECONDS - RPO_SECONDS // 2 - 4
    lost_primary["recovered_rows"] = recovered
    lost_primary["lost_seconds"] = lost_seconds
    print(
        f"\nRPO {RPO_SECONDS}s (archive_timeout {parameters['archive_timeout']}, checkpoint_timeout "
        f"{parameters['checkpoint_timeout']}, a restart after {len(before)} rows): lost {lost_seconds:.1f}s of "
        f"writes; {len(recovered)} rows recovered"
    )


def test_recovery_to_a_target_time_holds_every_row_before_it_and_none_after(lost_primary):
    if "recovered_rows" not in lost_primary:
        pytest.skip("needs the full recovery of the test above")
    everything = lost_primary["recovered_rows"]
    # A moment between two rows, about a third of the way in.
    before, after = everything[len(everything) // 3], everything[len(everything) // 3 + 1]
    target = before[1] + (after[1] - before[1]) / 2
    # As the operator types it (RFC 3339 with its offset), accepted by the settings.
    target_text = target.astimezone(timezone(timedelta(hours=1))).isoformat()
    settings = settings_from_raw(
        {
            "namespace": "production",
            "domain": "monad-synapse.com",
            "maintenanceMode": True,
            "colors": {"blue": {"image": "a/b:1"}, "green": {"image": "a/b:1"}},
            "database": {
                "kind": "cloudnativepg",
                "cloudnativepg": {"objectStore": {"bucket": "monad-synapse-wal"}},
                "recovery": {"targetTime": target_text, "confirm": "production"},
            },
        },
        "production",
    )
    server = recover(lost_primary, "point-in-time", settings.database.recovery.target_time)
    try:
        restored = rows(server)
    finally:
        server.crash()
    expected = [row for row in everything if row[1] <= target]
    assert restored == expected, "a row after the target came back, or one before it is missing"
    assert len(restored) < len(everything)
