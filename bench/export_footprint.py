"""Part (2) of bench.vault_pages: `emanet customer export <id> --zip` under `/usr/bin/time -v`.

Each export's wall time, peak resident memory and ZIP size, for vaults of 0, 1,000 and 10,000
interactions, run in turns; every ZIP is opened and checked.

Exports: `EMANET`, `LARGE_VAULT`, `SMALL_VAULT`, `ExportRun`, `measure_exports`, `run_export`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import subprocess
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.runner import Report, Timing
from emanet.bootstrap import Runtime

__all__ = ["EMANET", "LARGE_VAULT", "SMALL_VAULT", "ExportRun", "measure_exports", "run_export"]

SMALL_VAULT = 1_000
LARGE_VAULT = 10_000
EXPORT_REPEATS = 3  # each export runs this many times, taking turns; the best time is kept
ROOT = Path(__file__).resolve().parents[1]
EMANET = ROOT / ".venv" / "bin" / "emanet"
# At 10x the interactions, the export's peak RSS may grow by this factor at most.
RSS_GROWTH_TARGET = 1.5


@dataclass(frozen=True)
class ExportRun:
    seconds: float  # wall clock, as /usr/bin/time measured it
    peak_kib: int  # maximum resident set size
    zip_bytes: int
    unzipped_bytes: int  # what the archive's members hold, uncompressed


def _clock(text: str) -> float:
    # "h:mm:ss" or "m:ss.ss"
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def run_export(
    gnu_time: str, directory: Path, runtime: Runtime, customer_id: uuid.UUID, interactions: int
) -> ExportRun:
    """Run the CLI export under /usr/bin/time -v; check the ZIP holds every interaction."""
    output = directory / f"export-{interactions}-{secrets.token_hex(3)}.zip"
    env = {
        **os.environ,
        "EMANET_INSTANCE_DIR": str(runtime.settings.instance_dir),
        "EMANET_DATABASE_URL": runtime.settings.database_url,
    }
    done = subprocess.run(
        [
            gnu_time,
            "-v",
            str(EMANET),
            "customer",
            "export",
            str(customer_id),
            "--zip",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"export failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \([^)]*\): ([\d:.]+)", done.stderr)
    if peak is None or wall is None:
        raise RuntimeError(f"cannot read /usr/bin/time -v output:\n{done.stderr}")
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        unzipped = sum(info.file_size for info in archive.infolist())
        table = next((n for n in names if n.endswith("interactions.csv")), None)
        if table is None or "vault.json" not in names:
            raise RuntimeError(f"the export of {interactions} interactions holds {names}")
        with archive.open(table) as raw:
            rows = sum(1 for _ in csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig"))) - 1
        with archive.open("vault.json") as raw:
            document = json.load(raw)
    if rows != interactions or len(document.get("interactions", [])) != interactions:
        raise RuntimeError(f"the export holds {rows} interaction rows, not {interactions}")
    size = output.stat().st_size
    output.unlink()
    return ExportRun(_clock(wall.group(1)), int(peak.group(1)), size, unzipped)


def measure_exports(
    report: Report,
    gnu_time: str,
    directory: Path,
    runtime: Runtime,
    customers: dict[int, uuid.UUID],
) -> None:
    """(2) The CLI export of 0, 1,000 and 10,000 interactions (`customers`), taking turns."""
    runs: dict[int, list[ExportRun]] = {count: [] for count in customers}
    for _ in range(EXPORT_REPEATS):
        for count, customer_id in customers.items():
            runs[count].append(run_export(gnu_time, directory, runtime, customer_id, count))
    small, large, empty = runs[SMALL_VAULT], runs[LARGE_VAULT], runs[0]
    names = {count: f"export --zip, {count:,} interactions (interactions)" for count in runs}
    rss = {count: f"export --zip, {count:,} interactions: peak RSS (ops/s = KiB)" for count in runs}
    for count in (SMALL_VAULT, LARGE_VAULT):
        report.rate(names[count], count, Timing(tuple(r.seconds for r in runs[count])))
    marginal = f"export --zip, the {LARGE_VAULT - SMALL_VAULT:,} interactions more (interactions)"
    report.rate(
        marginal,
        LARGE_VAULT - SMALL_VAULT,
        Timing(tuple(b.seconds - a.seconds for a, b in zip(small, large, strict=True))),
    )
    for count in (0, SMALL_VAULT, LARGE_VAULT):
        report.rate(rss[count], max(r.peak_kib for r in runs[count]), 1.0)
    report.ratio(
        "export time per interaction, 10,000 ÷ 1,000",
        names[LARGE_VAULT],
        names[SMALL_VAULT],
        "time per interaction of the large export as a multiple of the small one's (1 = "
        "linear; the process's start-up, about the empty vault's time, weighs more on the "
        "small one; the marginal rate row, the 10,000 run minus the 1,000 run of the same "
        "round, is the export's own pace)",
        of="time",
    )
    report.ratio(
        "export peak RSS, 10,000 ÷ 1,000 interactions",
        rss[LARGE_VAULT],
        rss[SMALL_VAULT],
        "peak resident memory of the whole `emanet` process at 10x the interactions; an "
        "export that held everything would grow with the data, a streaming one stays flat",
        at_most=RSS_GROWTH_TARGET,
    )
    base = max(r.peak_kib for r in empty)
    report.note(
        f"(2) `/usr/bin/time -v {EMANET.relative_to(ROOT)} customer export <id> --zip --output "
        "FILE` with EMANET_INSTANCE_DIR and EMANET_DATABASE_URL of the run, "
        f"{EXPORT_REPEATS} runs of each vault taking turns (empty, 1,000, 10,000); the rates "
        "hold the best wall time, the RSS rows the highest peak of the runs. Each ZIP was "
        "opened and checked: interactions.csv and vault.json hold every interaction. Each "
        "vault also holds all 17 profile fields and one agreement; interactions alternate "
        "kinds (a purchase with an amount every sixth), half logged by the business. "
        + " ".join(
            f"{count:,} interactions: "
            + ", ".join(f"{r.seconds:.2f} s / {r.peak_kib / 1024:.1f} MiB" for r in rs)
            + f", ZIP {rs[0].zip_bytes / 1024:,.0f} KiB"
            + f" ({rs[0].unzipped_bytes / 1024:,.0f} KiB unzipped)"
            + (
                f" (peak {(max(r.peak_kib for r in rs) - base) / 1024:+.1f} MiB over the "
                "empty vault's)"
                if count
                else " (the process's own footprint: Python, imports, one batch)"
            )
            + "."
            for count, rs in ((0, empty), (SMALL_VAULT, small), (LARGE_VAULT, large))
        )
    )
