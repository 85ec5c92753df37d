"""The backup, verify, restore, prune and drill scripts, run for real against a
throwaway PostgreSQL server (Debian's postgresql package; .ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.helpers import as_server_user, free_port, postgres_bin
from tools.engine.stack_config import PROJECT_DIR

SCRIPTS = PROJECT_DIR / "scripts" / "backup"
PASSWORD = "Backup-Test-Passw0rd"


@pytest.fixture(scope="module")
def server():
    binaries = postgres_bin()
    # Its own directory: pytest's temp root is private to root, and the
    # server runs as the postgres user.
    base = Path(tempfile.mkdtemp(prefix="monad-synapse-pg-"))
    data = base / "data"
    password_file = base / "password"
    password_file.write_text(PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(password_file, "postgres")
    subprocess.run(
        as_server_user(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={password_file}",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = base / "server.log"
    subprocess.run(
        as_server_user(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
                "-o",
                f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
            ]
        ),
        check=True,
        capture_output=True,
    )
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}"
    yield {"url": url, "bin": binaries}
    subprocess.run(
        as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
    )
    shutil.rmtree(base, ignore_errors=True)


def env_for(server, **values) -> dict:
    return {**os.environ, "PATH": f"{server['bin']}:{os.environ['PATH']}", **values}


def psql(server, database: str, sql: str) -> str:
    result = subprocess.run(
        [
            "psql",
            "--no-psqlrc",
            "--quiet",
            "-v",
            "ON_ERROR_STOP=1",
            "--tuples-only",
            "--no-align",
            f"--dbname={server['url']}/{database}",
            "-c",
            sql,
        ],
        env=env_for(server),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def run_script(server, name: str, **values) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(SCRIPTS / name)], env=env_for(server, **values), capture_output=True, text=True, timeout=120
    )


FIXTURE_SQL = """
CREATE TABLE players (id bigserial PRIMARY KEY, wallet text UNIQUE NOT NULL, balance numeric(20, 8) NOT NULL);
CREATE TABLE bets (id bigserial PRIMARY KEY, player_id bigint REFERENCES players(id), amount numeric(20, 8), game text,
                   placed_at timestamptz DEFAULT now());
CREATE INDEX bets_game ON bets (game);
INSERT INTO players (wallet, balance) SELECT 'wallet-' || n, n * 1.5 FROM generate_series(1, 500) n;
INSERT INTO bets (player_id, amount, game) SELECT 1 + n % 500, n % 97, (ARRAY['dice','slots','ümlaut-poker'])[1 + n % 3]
  FROM generate_series(1, 5000) n;
"""
FINGERPRINT_SQL = (
    "SELECT md5(string_agg(t, '|' ORDER BY t)) FROM ("
    "SELECT 'p' || id || wallet || balance AS t FROM players UNION ALL "
    "SELECT 'b' || id || player_id || amount || game FROM bets) rows"
)


@pytest.fixture(scope="module")
def source_database(server):
    fresh_database(server, "app")
    psql(server, "app", FIXTURE_SQL)
    return f"{server['url']}/app"


def dumps(directory: Path) -> list[Path]:
    return sorted(directory.glob("monad-synapse-*.dump"))


def back_up(server, database_url: str, directory: Path) -> None:
    result = run_script(server, "backup.sh", DATABASE_URL=database_url, BACKUP_DIR=str(directory), RETENTION_DAYS="7")
    assert result.returncode == 0, result.stderr


def fresh_database(server, name: str) -> None:
    psql(server, "postgres", f"DROP DATABASE IF EXISTS {name}")
    psql(server, "postgres", f"CREATE DATABASE {name}")


def restore_request(
    server, backup_dir: Path, database: str, request_id: str, source: str = "latest"
) -> subprocess.CompletedProcess:
    return run_script(
        server,
        "restore.sh",
        BACKUP_DIR=str(backup_dir),
        RESTORE_FROM=source,
        TARGET_DATABASE_URL=f"{server['url']}/{database}",
        RESTORE_REQUEST_ID=request_id,
    )


def test_backup_writes_a_verified_dump_and_restore_reproduces_the_data(server, source_database, tmp_path):
    result = run_script(server, "backup.sh", DATABASE_URL=source_database, BACKUP_DIR=str(tmp_path), RETENTION_DAYS="7")
    assert result.returncode == 0, result.stderr
    (dump,) = dumps(tmp_path)
    assert not list(tmp_path.glob("*.partial"))
    listing = subprocess.run(["pg_restore", "--list", str(dump)], env=env_for(server), capture_output=True, text=True)
    assert listing.returncode == 0 and "TABLE DATA public bets" in listing.stdout
    checksum = subprocess.run(["sha256sum", "-c", f"{dump.name}.sha256"], cwd=tmp_path, capture_output=True)
    assert checksum.returncode == 0

    fresh_database(server, "restored")
    restored = restore_request(server, tmp_path, "restored", "roundtrip")
    assert restored.returncode == 0, restored.stderr
    assert psql(server, "restored", FINGERPRINT_SQL) == psql(server, "app", FINGERPRINT_SQL)
    assert psql(server, "restored", "SELECT count(*) FROM bets") == "5000"
    # Sequences come back too: the next id continues after the restored rows.
    assert psql(server, "restored", "INSERT INTO players (wallet, balance) VALUES ('new', 0) RETURNING id") == "501"


def test_restore_by_name_over_existing_data(server, source_database, tmp_path):
    back_up(server, source_database, tmp_path)
    (dump,) = dumps(tmp_path)
    fresh_database(server, "drifted")
    psql(server, "drifted", FIXTURE_SQL + "DELETE FROM bets WHERE id > 10; UPDATE players SET balance = 0;")
    result = restore_request(server, tmp_path, "drifted", "by-name", source=dump.name)
    assert result.returncode == 0, result.stderr
    assert psql(server, "drifted", FINGERPRINT_SQL) == psql(server, "app", FINGERPRINT_SQL)


def test_restore_refuses_unknown_or_escaping_names(server, tmp_path):
    for name in ("missing.dump", "../etc/passwd"):
        result = restore_request(server, tmp_path, "postgres", f"escape-{name}", source=name)
        assert result.returncode != 0
        assert "ERROR" in result.stderr


def test_corrupt_dump_is_refused_and_restore_leaves_target_unchanged(server, source_database, tmp_path):
    back_up(server, source_database, tmp_path)
    (dump,) = dumps(tmp_path)
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 3])
    (tmp_path / f"{dump.name}.sha256").unlink()
    fresh_database(server, "untouched")
    psql(server, "untouched", "CREATE TABLE marker (x int); INSERT INTO marker VALUES (42)")
    result = restore_request(server, tmp_path, "untouched", "corrupt")
    assert result.returncode != 0
    assert psql(server, "untouched", "SELECT x FROM marker") == "42"
    # Remembered as failed: the same request never touches the data again.
    assert psql(server, "untouched", "SELECT status FROM monad_synapse_ops.restore_requests") == "failed"


def test_a_repeated_restore_request_never_touches_the_data_again(server, source_database, tmp_path):
    """Whoever re-creates the restore Job (a changed template, a refresh after
    its TTL, a retried up), the same request id restores once."""
    back_up(server, source_database, tmp_path)
    fresh_database(server, "repeated")
    first = restore_request(server, tmp_path, "repeated", "incident-4711")
    assert first.returncode == 0, first.stderr
    assert psql(server, "repeated", FINGERPRINT_SQL) == psql(server, "app", FINGERPRINT_SQL)

    # The app writes new rows after the restore...
    psql(server, "repeated", "INSERT INTO players (wallet, balance) VALUES ('after-restore', 7)")
    after_writes = psql(server, "repeated", FINGERPRINT_SQL)
    # ...then the Job runs again with the same request: nothing is restored.
    again = restore_request(server, tmp_path, "repeated", "incident-4711")
    assert again.returncode == 0, again.stderr
    assert "already done" in again.stderr
    assert psql(server, "repeated", FINGERPRINT_SQL) == after_writes
    assert psql(server, "repeated", "SELECT count(*) FROM players WHERE wallet = 'after-restore'") == "1"

    # A new request id restores again.
    fresh = restore_request(server, tmp_path, "repeated", "incident-4712")
    assert fresh.returncode == 0, fresh.stderr
    assert psql(server, "repeated", FINGERPRINT_SQL) == psql(server, "app", FINGERPRINT_SQL)
    assert (
        psql(
            server,
            "repeated",
            "SELECT request_id || ':' || status FROM monad_synapse_ops.restore_requests ORDER BY request_id",
        )
        == "incident-4711:done\nincident-4712:done"
    )


def test_a_failed_restore_request_is_not_retried_and_quotes_are_harmless(server, source_database, tmp_path):
    back_up(server, source_database, tmp_path)
    (dump,) = dumps(tmp_path)
    fresh_database(server, "retried")
    psql(server, "retried", "CREATE TABLE marker (x int); INSERT INTO marker VALUES (1)")
    request = "o'brien's; DROP TABLE marker; --"
    (tmp_path / f"{dump.name}.sha256").write_text("0" * 64 + f"  {dump.name}\n")  # a checksum that fails
    failed = restore_request(server, tmp_path, "retried", request)
    assert failed.returncode != 0 and "checksum mismatch" in failed.stderr
    (tmp_path / f"{dump.name}.sha256").unlink()  # the dump is fine now, but the request already ran
    retried = restore_request(server, tmp_path, "retried", request)
    assert retried.returncode != 0
    assert "new restore.requestId" in retried.stderr
    assert psql(server, "retried", "SELECT x FROM marker") == "1"
    assert psql(server, "retried", "SELECT status FROM monad_synapse_ops.restore_requests") == "failed"


def test_restore_without_a_request_id_is_refused(server, tmp_path):
    result = run_script(
        server,
        "restore.sh",
        BACKUP_DIR=str(tmp_path),
        RESTORE_FROM="latest",
        TARGET_DATABASE_URL=f"{server['url']}/postgres",
    )
    assert result.returncode != 0 and "RESTORE_REQUEST_ID" in result.stderr


def test_dumps_leave_out_the_restore_ledger(server, source_database, tmp_path):
    psql(
        server,
        "app",
        "CREATE SCHEMA IF NOT EXISTS monad_synapse_ops; "
        "CREATE TABLE IF NOT EXISTS monad_synapse_ops.restore_requests (request_id text)",
    )
    back_up(server, source_database, tmp_path)
    (dump,) = dumps(tmp_path)
    listing = subprocess.run(["pg_restore", "--list", str(dump)], env=env_for(server), capture_output=True, text=True)
    assert "monad_synapse_ops" not in listing.stdout and "TABLE DATA public bets" in listing.stdout
    psql(server, "app", "DROP SCHEMA monad_synapse_ops CASCADE")


def test_failed_backup_leaves_no_dump_and_no_password_in_logs(server, tmp_path):
    bad_url = f"{server['url'].rsplit(':', 1)[0]}:1/app"  # nothing listens on port 1
    result = run_script(server, "backup.sh", DATABASE_URL=bad_url, BACKUP_DIR=str(tmp_path), RETENTION_DAYS="7")
    assert result.returncode != 0
    assert dumps(tmp_path) == [] and not list(tmp_path.glob("*.partial"))
    assert PASSWORD not in result.stdout + result.stderr


def age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def fake_dump(directory: Path, timestamp: str, days_old: float) -> Path:
    dump = directory / f"monad-synapse-{timestamp}.dump"
    dump.write_bytes(b"dump")
    (directory / f"{dump.name}.sha256").write_text("x")
    age(dump, days_old)
    return dump


def test_prune_deletes_old_dumps_and_keeps_recent_ones(server, tmp_path):
    old = fake_dump(tmp_path, "20260101T000000Z", 30)
    older = fake_dump(tmp_path, "20251201T000000Z", 60)
    recent = fake_dump(tmp_path, "20261120T000000Z", 2)
    newest = fake_dump(tmp_path, "20261126T000000Z", 0.5)
    stale_partial = tmp_path / "monad-synapse-20261126T010000Z.dump.partial"
    stale_partial.write_bytes(b"x")
    age(stale_partial, 1)
    result = run_script(server, "prune.sh", BACKUP_DIR=str(tmp_path), RETENTION_DAYS="7")
    assert result.returncode == 0, result.stderr
    assert dumps(tmp_path) == [recent, newest]
    assert not old.exists() and not older.exists() and not (tmp_path / f"{old.name}.sha256").exists()
    assert not stale_partial.exists()


def test_prune_always_keeps_the_newest_dump(server, tmp_path):
    fake_dump(tmp_path, "20260101T000000Z", 40)
    newest = fake_dump(tmp_path, "20260201T000000Z", 20)
    result = run_script(server, "prune.sh", BACKUP_DIR=str(tmp_path), RETENTION_DAYS="7")
    assert result.returncode == 0
    assert dumps(tmp_path) == [newest]
    assert "newest good dump" in result.stderr


@pytest.mark.parametrize("retention", ["0", "-1", "week", ""])
def test_prune_refuses_bad_retention(server, tmp_path, retention):
    newest = fake_dump(tmp_path, "20260201T000000Z", 20)
    assert run_script(server, "prune.sh", BACKUP_DIR=str(tmp_path), RETENTION_DAYS=retention).returncode != 0
    assert newest.exists()


@pytest.mark.parametrize(
    "database", ["source_database", "cnpg_shaped"], ids=["as-superuser", "as-app-role-beside-the-superusers-extension"]
)
def test_drill_restores_the_newest_dump_into_a_scratch_database(server, request, tmp_path, database):
    url = request.getfixturevalue(database)
    back_up(server, url, tmp_path)
    result = run_script(
        server, "drill.sh", DATABASE_URL=url, BACKUP_DIR=str(tmp_path), DRILL_SANITY_QUERY="SELECT count(*) FROM bets"
    )
    assert result.returncode == 0, result.stderr
    assert "sanity query returned 5000" in result.stderr
    assert psql(server, "postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'restore_drill_%'") == "0"
    assert PASSWORD not in result.stdout + result.stderr and APP_PASSWORD not in result.stdout + result.stderr


def test_drill_fails_on_a_corrupt_newest_dump(server, source_database, tmp_path):
    back_up(server, source_database, tmp_path)
    (dump,) = dumps(tmp_path)
    dump.write_bytes(b"PGDMP garbage")
    result = run_script(server, "drill.sh", DATABASE_URL=source_database, BACKUP_DIR=str(tmp_path))
    assert result.returncode != 0
    assert psql(server, "postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'restore_drill_%'") == "0"


def test_drill_fails_when_the_sanity_query_finds_nothing(server, tmp_path):
    fresh_database(server, "empty")
    back_up(server, f"{server['url']}/empty", tmp_path)
    result = run_script(server, "drill.sh", DATABASE_URL=f"{server['url']}/empty", BACKUP_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "returned '0'" in result.stderr


def test_drill_refuses_a_url_without_a_database_name(server, tmp_path):
    result = run_script(server, "drill.sh", DATABASE_URL=server["url"], BACKUP_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "must name a database" in result.stderr


# --- object storage (backup.storage.kind: s3), against a local S3 server ----------


@pytest.fixture(scope="module")
def object_store():
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is in requirements-dev.txt")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_env(server, endpoint: str, bucket: str, backup_dir: Path, **values) -> dict:
    import sys as _sys

    return {
        "S3_ENDPOINT": endpoint,
        "S3_BUCKET": bucket,
        "S3_PREFIX": "production",
        "BACKUP_DIR": str(backup_dir),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": f"{Path(_sys.executable).parent}:{server['bin']}:{os.environ['PATH']}",
        **values,
    }


def s3(server, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(SCRIPTS / "s3.sh"), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def s3_client(endpoint: str):
    """A client of the local S3 server, with the credentials the scripts get."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    client = s3_client(endpoint)
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def make_bucket(endpoint: str, name: str) -> None:
    s3_client(endpoint).create_bucket(Bucket=name)


def test_dump_goes_to_object_storage_and_restores_from_it(server, source_database, object_store, tmp_path):
    make_bucket(object_store, "backups-roundtrip")
    local = tmp_path / "local"
    local.mkdir()
    back_up(server, source_database, local)
    (dump,) = dumps(local)
    env = s3_env(server, object_store, "backups-roundtrip", local, RETENTION_DAYS="7")
    uploaded = s3(server, env, "upload")
    assert uploaded.returncode == 0, uploaded.stderr
    assert bucket_keys(object_store, "backups-roundtrip") == [
        f"production/{dump.name}",
        f"production/{dump.name}.sha256",
    ]

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    # Sorts after every timestamp: taken for a dump, it would be "latest".
    s3_client(object_store).put_object(
        Bucket="backups-roundtrip", Key="production/monad-synapse-manual.dump", Body=b"not ours"
    )
    downloaded = s3(server, {**env, "BACKUP_DIR": str(fresh)}, "download", "latest")
    assert downloaded.returncode == 0, downloaded.stderr
    assert sorted(path.name for path in fresh.iterdir()) == [dump.name, f"{dump.name}.sha256"]
    assert (fresh / dump.name).read_bytes() == dump.read_bytes()
    fresh_database(server, "from_s3")
    restored = restore_request(server, fresh, "from_s3", "from-s3")
    assert restored.returncode == 0, restored.stderr
    assert psql(server, "from_s3", FINGERPRINT_SQL) == psql(server, "app", FINGERPRINT_SQL)


def test_object_storage_prune_keeps_the_newest_dump(server, object_store, tmp_path):
    import datetime

    make_bucket(object_store, "backups-prune")
    now = datetime.datetime.now(datetime.timezone.utc)
    stamps = [(now - datetime.timedelta(days=days)).strftime("%Y%m%dT%H%M%SZ") for days in (40, 10, 2)]
    for stamp in stamps:
        fake_dump(tmp_path, stamp, 0)
    env = s3_env(server, object_store, "backups-prune", tmp_path, RETENTION_DAYS="7")
    # Uploaded as s3.sh upload names them (that path has its own test above),
    # straight through the API: each aws CLI start costs half a second.
    client = s3_client(object_store)
    for name in [p.name for p in dumps(tmp_path)]:
        client.put_object(Bucket="backups-prune", Key=f"production/{name}", Body=b"dump")
        client.put_object(Bucket="backups-prune", Key=f"production/{name}.sha256", Body=b"x")
    assert len(bucket_keys(object_store, "backups-prune")) == 6
    # One dump per delete request: both requests are made.
    pruned = s3(server, {**env, "S3_DELETE_BATCH": "1"}, "prune")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stderr.count("pruned s3://") == 2, pruned.stderr
    assert bucket_keys(object_store, "backups-prune") == sorted(
        f"production/monad-synapse-{stamp}.dump{suffix}" for stamp in stamps[2:] for suffix in ("", ".sha256")
    )
    # Everything old: the newest one stays anyway, and an object that only
    # looks like a dump (someone's manual copy) neither counts as the newest
    # nor is deleted: prune judges only the names the backup writes.
    stray = ["production/monad-synapse-manual.dump", "production/monad-synapse-20250101T000000Z.dump.bak"]
    for key in stray:
        client.put_object(Bucket="backups-prune", Key=key, Body=b"not ours")
    again = s3(server, {**env, "RETENTION_DAYS": "1"}, "prune")
    assert again.returncode == 0, again.stderr
    assert bucket_keys(object_store, "backups-prune") == sorted(
        [f"production/monad-synapse-{stamps[2]}.dump", f"production/monad-synapse-{stamps[2]}.dump.sha256", *stray]
    )


def test_object_storage_download_refuses_paths_and_missing_dumps(server, object_store, tmp_path):
    make_bucket(object_store, "backups-empty")
    env = s3_env(server, object_store, "backups-empty", tmp_path)
    assert s3(server, env, "download", "latest").returncode != 0
    # A listing that fails says so, never that the bucket is empty.
    unlisted = s3(server, {**env, "S3_BUCKET": "no-such-bucket"}, "download", "latest")
    assert unlisted.returncode != 0 and "cannot list" in unlisted.stderr and "no dump" not in unlisted.stderr
    assert s3(server, env, "download", "../x.dump").returncode != 0
    # A name is a dump's name, never a pattern that could match others.
    globbed = s3(server, env, "download", "monad-synapse-*.dump")
    assert globbed.returncode != 0 and "not a dump name" in globbed.stderr
    # The prefix goes into the CLI's filters and a delete request's JSON.
    quoted = s3(server, {**env, "S3_PREFIX": 'prod"uction'}, "prune")
    assert quoted.returncode != 0 and "S3_PREFIX may hold only" in quoted.stderr
    assert s3(server, env, "bogus").returncode != 0


# --- a database shaped like CloudNativePG's ---------------------------------------
# initdb's app database is owned by the app role, which the dumps, the drill
# and restores run as; pg_stat_statements is created in it by the superuser
# (postInitApplicationSQL), so the app role does not own the extension.

APP_PASSWORD = "App-Role-Passw0rd"


@pytest.fixture(scope="module")
def cnpg_shaped(server):
    psql(server, "postgres", "DROP DATABASE IF EXISTS cnpg_app")
    psql(server, "postgres", "DROP ROLE IF EXISTS cnpg_app")
    psql(server, "postgres", f"CREATE ROLE cnpg_app LOGIN CREATEDB PASSWORD '{APP_PASSWORD}'")
    psql(server, "postgres", "CREATE DATABASE cnpg_app OWNER cnpg_app")
    psql(server, "cnpg_app", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    app_url = server["url"].replace(f"postgres:{PASSWORD}@", f"cnpg_app:{APP_PASSWORD}@") + "/cnpg_app"
    subprocess.run(
        ["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", f"--dbname={app_url}", "-c", FIXTURE_SQL],
        env=env_for(server),
        capture_output=True,
        text=True,
        check=True,
    )
    assert (
        psql(server, "cnpg_app", "SELECT extowner::regrole FROM pg_extension WHERE extname = 'pg_stat_statements'")
        == "postgres"
    )
    return app_url


def test_a_restore_as_the_app_role_over_its_live_database_keeps_the_superusers_extension(server, cnpg_shaped, tmp_path):
    back_up(server, cnpg_shaped, tmp_path)
    psql(server, "cnpg_app", "DELETE FROM bets WHERE id > 100")
    restored = run_script(
        server,
        "restore.sh",
        BACKUP_DIR=str(tmp_path),
        RESTORE_FROM="latest",
        DATABASE_URL=cnpg_shaped,
        RESTORE_REQUEST_ID="cnpg-shaped",
    )
    assert restored.returncode == 0, restored.stderr
    assert psql(server, "cnpg_app", "SELECT count(*) FROM bets") == "5000"
    assert psql(server, "cnpg_app", "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'") == "1"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1; COMMIT; DROP DATABASE cnpg_app WITH (FORCE)",
        "SELECT 1; COMMIT; SET default_transaction_read_only = off; ALTER ROLE cnpg_app PASSWORD 'owned'",
        "WITH gone AS (DELETE FROM bets RETURNING 1) SELECT count(*) FROM gone",
    ],
    ids=["drop-the-live-database", "change-the-app-password", "data-modifying-cte"],
)
def test_the_drills_sanity_query_can_only_read(server, cnpg_shaped, tmp_path, query):
    """It runs as the owner of the live database: a query that writes must
    fail, and the live database and its role stay as they were."""
    back_up(server, cnpg_shaped, tmp_path)
    result = run_script(
        server, "drill.sh", DATABASE_URL=cnpg_shaped, BACKUP_DIR=str(tmp_path), DRILL_SANITY_QUERY=query
    )
    assert result.returncode != 0
    assert psql(server, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'cnpg_app'") == "1"
    assert psql(server, "cnpg_app", "SELECT count(*) FROM bets") == "5000"
    login = subprocess.run(
        ["psql", "--no-psqlrc", "-tAc", "SELECT 1", f"--dbname={cnpg_shaped}"],
        env=env_for(server),
        capture_output=True,
        text=True,
    )
    assert login.stdout.strip() == "1", "the app role's password was changed"


# --- listing the dumps a restore can name ------------------------------------------------


def test_list_prints_the_dumps_a_restore_can_name_newest_last(server, tmp_path):
    for stamp in ("20261201T000000Z", "20261202T000000Z"):
        fake_dump(tmp_path, stamp, 0)
    (tmp_path / "monad-synapse-20261203T000000Z.dump.partial").write_bytes(b"half")
    listed = run_script(server, "list.sh", BACKUP_DIR=str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.startswith("monad-synapse-")]
    assert names == ["monad-synapse-20261201T000000Z.dump", "monad-synapse-20261202T000000Z.dump"]
    assert "restore.fromBackup" in listed.stdout  # says how to use a name


def test_list_says_so_when_there_is_no_dump(server, tmp_path):
    listed = run_script(server, "list.sh", BACKUP_DIR=str(tmp_path))
    assert listed.returncode == 0 and "no dump" in listed.stdout


def test_object_storage_lists_its_dumps(server, object_store, tmp_path):
    make_bucket(object_store, "backups-list")
    client = s3_client(object_store)
    for stamp in ("20261202T000000Z", "20261201T000000Z"):
        client.put_object(Bucket="backups-list", Key=f"production/monad-synapse-{stamp}.dump", Body=b"dump")
        client.put_object(Bucket="backups-list", Key=f"production/monad-synapse-{stamp}.dump.sha256", Body=b"x")
    # Not a name the backup writes: never offered for a restore.
    client.put_object(Bucket="backups-list", Key="production/monad-synapse-manual.dump", Body=b"not ours")
    listed = s3(server, s3_env(server, object_store, "backups-list", tmp_path), "list")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.startswith("monad-synapse-")]
    assert names == ["monad-synapse-20261201T000000Z.dump", "monad-synapse-20261202T000000Z.dump"]
