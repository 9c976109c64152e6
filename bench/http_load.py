"""Load on a live Emanet server: serve a benchmark's instance under gunicorn, drive it with wrk.

`serving` starts `python -m emanet.cli serve` (or another module that serves the same way) on
a free port of 127.0.0.1 and stops it afterwards; `Wrk` drives it at a fixed load and returns
a `WrkRun`, failing on any error; `record_wrk` puts a run into a report. `require` fails
clearly when a tool a benchmark needs is not installed.

Exports: `SERVE`, `Wrk`, `WrkRun`, `free_port`, `record_wrk`, `require`, `require_wrk`,
`serving`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.runner import Report
from emanet.settings import Settings

__all__ = [
    "SERVE",
    "Wrk",
    "WrkRun",
    "free_port",
    "record_wrk",
    "require",
    "require_wrk",
    "serving",
]

ROOT = Path(__file__).resolve().parents[1]
SERVE = ("emanet.cli", "serve")  # `python -m` these, then --host, --port and --workers
WRK_INSTALL = "Debian/Ubuntu: `sudo apt-get install -y wrk`; macOS: `brew install wrk`"

# Both wrk scripts end in this `done()`: it prints the run's figures as one line,
# `BENCH {json}`, which is what `Wrk` reads. `not_200` is what a script's own `response()`
# counted, 0 where it has none (wrk then need not parse the answers).
_WRK_THREADS = r"""
local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end
"""
_WRK_DONE = r"""
function done(summary, latency, requests)
  local not_200 = 0
  for _, thread in ipairs(threads) do not_200 = not_200 + (thread:get("not_200") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, "connect": %.0f, ' ..
    '"read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f, "not_200": %.0f, ' ..
    '"p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, not_200, latency:percentile(50), latency:percentile(90),
    latency:percentile(99)))
end
"""
# Rotates over the request paths in a file (one per line), sending the method, body and
# headers given after `--`; the threads start half-way round from each other.
ROTATE_SCRIPT = (
    _WRK_THREADS
    + r"""
local paths, headers, method, body = {}, {}, "GET", nil
local index = 0

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  method = args[2]
  if args[3] ~= "" then body = args[3] end
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  index = (thread_number * math.floor(#paths / 2)) % #paths
end

function request()
  index = index % #paths + 1
  return wrk.format(method, paths[index], headers, body)
end
"""
    + _WRK_DONE
)
# One URL, the headers given with -H; counts every answer that is not a 200 (a lost session
# would answer 303 to the sign-in page, which wrk itself does not count as an error).
ONE_PAGE_SCRIPT = (
    _WRK_THREADS
    + r"""
function init(args)
  not_200 = 0
end

function response(status, headers, body)
  if status ~= 200 then not_200 = not_200 + 1 end
end
"""
    + _WRK_DONE
)
_WRK_ERRORS = ("connect", "read", "write", "status", "timeout", "not_200")


def require(tool: str, install: str) -> str:
    """Return the path of `tool` (a name on PATH, or a path); fail saying how to install it."""
    found = shutil.which(tool) if "/" not in tool else (tool if os.access(tool, os.X_OK) else None)
    if found is None:
        raise RuntimeError(
            f"{tool} is not installed, and this benchmark needs it. Install it ({install}) "
            "and run the benchmark again."
        )
    return found


def require_wrk() -> str:
    """Return the path of wrk; fail saying how to install it."""
    return require("wrk", WRK_INSTALL)


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    directory: Path, settings: Settings, *, workers: int, module: Sequence[str] = SERVE
) -> Iterator[str]:
    """Serve the run's database and keyring with gunicorn on a free port; yield its base URL.

    `module` is run with `python -m`, followed by --host, --port and --workers; its standard
    error goes to a log in `directory`, shown if the server does not answer /healthz.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "EMANET_INSTANCE_DIR": str(settings.instance_dir),
        "EMANET_DATABASE_URL": settings.database_url,
        "EMANET_SECRET_KEY": settings.secret_key or "",
        "EMANET_MODE": "test",
        "EMANET_ISSUER": base,
    }
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command = [sys.executable, "-m", *module, *where]
    log = directory / f"server-{port}.log"
    with log.open("wb") as errors:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"the server did not start:\n{tail}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reports."""

    requests: int
    seconds: float
    bytes: int
    p50: float
    p90: float
    p99: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def describe(self, *, sizes: bool = False) -> str:
        """Requests a second and latencies in words; `sizes` adds the mean answer's size."""
        size = f", {self.bytes / max(self.requests, 1) / 1024:.1f} KiB each" if sizes else ""
        return (
            f"{self.per_second:,.0f} req/s, p50 {self.p50 * 1e3:.1f} ms, "
            f"p90 {self.p90 * 1e3:.1f} ms, p99 {self.p99 * 1e3:.1f} ms "
            f"({self.requests:,} requests in {self.seconds:.1f} s{size})"
        )


@dataclass(frozen=True)
class Wrk:
    """wrk at one load: `threads` threads keeping `connections` connections busy.

    `timeout` is how many seconds wrk waits for an answer before it counts a timeout (an
    error, which fails the run); None keeps wrk's own 2 s.
    """

    executable: str
    directory: Path  # where the Lua scripts and the lists of paths are written
    threads: int
    connections: int
    timeout: int | None = None

    def rotate(
        self,
        base: str,
        paths: Sequence[str],
        *,
        seconds: int,
        method: str = "GET",
        body: str = "",
        headers: Sequence[str] = (),
    ) -> WrkRun:
        """Send the request to each path in turn; fail on any error or answer of 400 or more."""
        listing = self.directory / f"paths-{secrets.token_hex(3)}.txt"
        listing.write_text("\n".join(paths) + "\n")
        script_args = ["--", str(listing), method, body, *headers]
        return self._drive(
            "rotate.lua", ROTATE_SCRIPT, [base, *script_args], seconds, f"{method} {paths[0]}"
        )

    def page(self, url: str, *, seconds: int, headers: Sequence[str] = ()) -> WrkRun:
        """GET one page over and over; fail on any error or any answer but 200."""
        options = [option for header in headers for option in ("-H", header)]
        return self._drive("pages.lua", ONE_PAGE_SCRIPT, [*options, url], seconds, f"GET {url}")

    def _drive(
        self, name: str, script: str, arguments: list[str], seconds: int, what: str
    ) -> WrkRun:
        lua = self.directory / name
        if not lua.exists():
            lua.write_text(script)
        command = [
            self.executable,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            *([f"--timeout={self.timeout}s"] if self.timeout is not None else []),
            "--latency",
            "-s",
            str(lua),
            *arguments,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
        lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        figures = json.loads(lines[-1].removeprefix("BENCH "))
        errors = {k: figures[k] for k in _WRK_ERRORS}
        if any(errors.values()) or not figures["requests"]:
            raise RuntimeError(
                f"wrk {what}: errors {errors} (status = answers of 400 or more, not_200 = "
                f"answers but 200 where counted):\n{done.stdout}"
            )
        return WrkRun(
            int(figures["requests"]),
            figures["duration_us"] / 1e6,
            int(figures["bytes"]),
            figures["p50_us"] / 1e6,
            figures["p90_us"] / 1e6,
            figures["p99_us"] / 1e6,
        )


def record_wrk(report: Report, name: str, run: WrkRun, latencies: Sequence[str] = ("p50",)) -> None:
    """Record a wrk run's throughput, and each of its `latencies` as a one-op 'rate'."""
    report.rate(name, run.requests, run.seconds)
    for percentile in latencies:
        report.rate(
            f"{name}: {percentile} latency (µs/op = {percentile})", 1, getattr(run, percentile)
        )
