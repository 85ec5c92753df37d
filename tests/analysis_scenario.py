"""The promotion analysis' scenarios behind tests/components/app/test_promotion_analysis.py,
against a real Prometheus (Debian's package `prometheus`; .ci/run installs
it). A local HTTP server stands in for the colors: it answers the smoke
requests and exports the runbook's metrics with a `color` label, one
pseudo-color per traffic profile, which Prometheus scrapes every second.

Each scenario is seconds of waiting on real measurements, so the test
session starts them in the background at once (conftest.py) and the tests
collect the outcomes later:

    python -m tests.analysis_scenario DIR

leaves DIR/outcomes.json (or DIR/failed.txt, tests/background.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from tests import background
from tests.helpers import free_port
from tools.engine.stack_config import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "promotion" / "analysis.py"
OUTCOMES = "outcomes.json"
# Where the session's background run is (set by conftest.py for the workers).
DIRECTORY_VARIABLE = "MONAD_SYNAPSE_ANALYSIS_SCENARIO"

# Requests per second of each profile: (ok, 5xx, seconds each request takes).
PROFILES = {"healthy": (50, 0, 0.05), "failing": (40, 10, 0.05), "slow": (50, 0, 4.0), "quiet": (0, 0, 0.05)}
BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0)

# Every scenario runs at once against the same Prometheus: (color, environment).
SCENARIOS = {
    "healthy": ("healthy", {}),
    "failing": ("failing", {}),
    "slow": ("slow", {}),
    "quiet-fail": ("quiet", {"INCONCLUSIVE": "fail"}),
    "quiet-pass": ("quiet", {"INCONCLUSIVE": "pass"}),
    "smoke": ("healthy", {"SMOKE": json.dumps([["/api/missing", 200]])}),
}


class Colors(BaseHTTPRequestHandler):
    started = time.monotonic()

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/metrics":
            body = self.exposition().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
        elif self.path.startswith("/api/health"):
            body, status = b"ok", 200
            self.send_response(status)
        else:
            body = b"missing"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @classmethod
    def exposition(cls) -> str:
        elapsed = time.monotonic() - cls.started
        lines = ["# TYPE http_requests_total counter", "# TYPE http_request_duration_seconds histogram"]
        for color, (ok, errors, seconds) in PROFILES.items():
            labels = f'job="app", namespace="test", color="{color}"'
            lines.append(f'http_requests_total{{{labels}, status="200"}} {ok * elapsed:.1f}')
            lines.append(f'http_requests_total{{{labels}, status="500"}} {errors * elapsed:.1f}')
            total = (ok + errors) * elapsed
            for bound in BUCKETS:
                lines.append(
                    f'http_request_duration_seconds_bucket{{{labels}, le="{bound}"}} '
                    f"{total if seconds <= bound else 0:.1f}"
                )
            lines.append(f'http_request_duration_seconds_bucket{{{labels}, le="+Inf"}} {total:.1f}')
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def colors_server() -> Iterator[str]:
    """The colors' URL while the server runs."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Colors)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextlib.contextmanager
def prometheus(binary: str, colors_url: str) -> Iterator[str]:
    """Prometheus' URL once it has scraped the colors enough for a 3-second rate window."""
    base = Path(tempfile.mkdtemp(prefix="monad-synapse-prom-"))
    config = base / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "colors",
                        "honor_labels": True,
                        "static_configs": [{"targets": [colors_url.removeprefix("http://")]}],
                    }
                ],
            }
        )
    )
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        query = "count_over_time(http_requests_total[10s])"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/query?query={query}", timeout=2) as answer:
                    result = json.load(answer)["data"]["result"]
                    if result and min(float(item["value"][1]) for item in result) >= 4:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(base, ignore_errors=True)


def run_analysis(prometheus_url: str, target_url: str, color: str, **overrides) -> subprocess.CompletedProcess:
    env = {
        "TARGET_URL": target_url,
        "PROMETHEUS_URL": prometheus_url,
        "SELECTOR": f'job="app", namespace="test", color="{color}"',
        "SMOKE": json.dumps([["/api/health", 200]]),
        "MAX_ERROR_RATIO": "0.01",
        "MAX_P95_SECONDS": "2",
        "MIN_REQUESTS": "20",
        "COUNT": "2",
        "FAILURE_LIMIT": "0",
        "INTERVAL_SECONDS": "1",
        "WINDOW_SECONDS": "3",
        "INCONCLUSIVE": "fail",
    }
    env.update(overrides)
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def run(binary: str) -> dict[str, subprocess.CompletedProcess]:
    """Every scenario's exit code and output, by name."""
    with colors_server() as colors_url, prometheus(binary, colors_url) as prometheus_url:
        with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
            futures = {
                name: pool.submit(run_analysis, prometheus_url, colors_url, color, **overrides)
                for name, (color, overrides) in SCENARIOS.items()
            }
            return {name: future.result() for name, future in futures.items()}


def wait_for(base: Path, timeout: float = 120) -> dict[str, subprocess.CompletedProcess]:
    """The outcomes of a run in `base`, waiting for it to finish."""
    outcomes = background.wait_for(base, OUTCOMES, "the analysis scenarios", timeout)
    return {
        name: subprocess.CompletedProcess([str(SCRIPT)], o["returncode"], o["stdout"], o["stderr"])
        for name, o in outcomes.items()
    }


def main(argv: list[str]) -> int:
    def outcomes() -> dict[str, dict]:
        return {
            name: {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
            for name, result in run(argv[1]).items()
        }

    return background.record(Path(argv[0]), OUTCOMES, outcomes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
