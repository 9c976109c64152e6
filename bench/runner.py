"""Run benchmark modules, print their figures, and write them to a Markdown report.

A benchmark is a module in `bench/` with `def run(report: Report) -> None`. It times its loops
with `measure`, records rates with `report.rate` and compares two rates of the same run with
`report.ratio`. Ratios are the headline figures: absolute rates depend on the machine, a ratio
between two loops timed side by side much less.

Usage: python -m bench.runner [module ...] [--output BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import pkgutil
import platform
import sqlite3
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Literal

__all__ = ["Rate", "Ratio", "Report", "Timing", "machine_facts", "main", "measure"]

DEFAULT_REPEATS = 5
DEFAULT_WARMUP = 1
STATISTIC = "best"  # what rates and ratios are computed from; the median is shown beside it


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of each timed repeat of one loop."""

    seconds: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(
    loops: Mapping[str, Callable[[], object]],
    *,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
) -> dict[str, Timing]:
    """Time each loop `repeats` times after `warmup` untimed runs, taking turns between loops.

    Taking turns (A B A B ...) rather than timing A's repeats and then B's means a slow spell
    of the machine hits every loop alike, which keeps the ratios between them honest.
    """
    for _ in range(warmup):
        for loop in loops.values():
            loop()
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeats):
        for name, loop in loops.items():
            gc.collect()  # start each repeat with the same heap, not a pending collection
            started = time.perf_counter()
            loop()
            seconds[name].append(time.perf_counter() - started)
    return {name: Timing(tuple(values)) for name, values in seconds.items()}


@dataclass(frozen=True)
class Rate:
    """Operations per second of one measured loop."""

    name: str
    ops: int
    timing: Timing

    @property
    def per_second(self) -> float:
        return self.ops / self.timing.best

    @property
    def median_per_second(self) -> float:
        return self.ops / self.timing.median

    @property
    def micros_per_op(self) -> float:
        return self.timing.best / self.ops * 1e6


@dataclass(frozen=True)
class Ratio:
    """One measurement divided by another of the same run, with an optional target."""

    name: str
    numerator: Rate
    denominator: Rate
    of: Literal["rate", "time"]
    note: str
    at_most: float | None = None
    at_least: float | None = None

    @property
    def value(self) -> float:
        if self.of == "rate":
            return self.numerator.per_second / self.denominator.per_second
        return self.numerator.micros_per_op / self.denominator.micros_per_op

    @property
    def compares(self) -> str:
        what = "ops/s" if self.of == "rate" else "time per op"
        return f"{what} of `{self.numerator.name}` ÷ {what} of `{self.denominator.name}`"

    @property
    def target(self) -> str:
        parts = []
        if self.at_least is not None:
            parts.append(f"≥ {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"≤ {self.at_most:g}")
        return " and ".join(parts) or "—"

    @property
    def met(self) -> bool | None:
        if self.at_most is None and self.at_least is None:
            return None
        low_ok = self.at_least is None or self.value >= self.at_least
        high_ok = self.at_most is None or self.value <= self.at_most
        return low_ok and high_ok


def _format_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _format_ratio(value: float) -> str:
    if value < 0.1:
        return f"{value:.3g} (1/{1 / value:,.0f})"
    return f"{value:.3f}"


def _verdict(met: bool | None) -> str:
    return {None: "", True: "met", False: "**missed**"}[met]


@dataclass
class Report:
    """The figures of one benchmark module, printed as they are recorded."""

    benchmark: str
    summary: str = ""
    echo: Callable[[str], None] = print
    rates: dict[str, Rate] = field(default_factory=dict)
    ratios: list[Ratio] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def rate(self, name: str, ops: int, seconds: float | Timing) -> Rate:
        """Record `ops` operations done in `seconds` (or in each repeat of a Timing)."""
        if name in self.rates:
            raise ValueError(f"{self.benchmark}: rate {name!r} recorded twice")
        timing = seconds if isinstance(seconds, Timing) else Timing((seconds,))
        recorded = Rate(name, ops, timing)
        self.rates[name] = recorded
        self.echo(
            f"  {name}: {_format_number(recorded.per_second)} ops/s "
            f"({_format_number(recorded.micros_per_op)} µs/op, {STATISTIC} of "
            f"{len(timing.seconds)}; "
            f"median {_format_number(recorded.median_per_second)} ops/s)"
        )
        return recorded

    def ratio(
        self,
        name: str,
        numerator_name: str,
        denominator_name: str,
        note: str,
        *,
        of: Literal["rate", "time"] = "rate",
        at_most: float | None = None,
        at_least: float | None = None,
    ) -> Ratio:
        """Record a ratio of two rates already recorded: of their ops/s, or of their time per op."""
        recorded = Ratio(
            name,
            self.rates[numerator_name],
            self.rates[denominator_name],
            of,
            note,
            at_most,
            at_least,
        )
        self.ratios.append(recorded)
        verdict = "" if recorded.met is None else f" (target {recorded.target}: "
        verdict += "" if recorded.met is None else ("met)" if recorded.met else "MISSED)")
        self.echo(f"  RATIO {name}: {_format_ratio(recorded.value)}{verdict}")
        return recorded

    def note(self, text: str) -> None:
        """Record a remark to print with the figures (set-up, caveats, checks done)."""
        self.notes.append(text)
        self.echo(f"  note: {text}")

    def markdown(self) -> list[str]:
        """Return this benchmark's section of the report."""
        lines = [f"## {self.benchmark}", ""]
        if self.summary:
            lines += [self.summary, ""]
        if self.error:
            lines += ["**Failed:**", "", "```", self.error.rstrip(), "```", ""]
        if self.ratios:
            lines += [
                "### Ratios",
                "",
                "| ratio | value | compares | target | | what it means |",
                "|---|---:|---|---|---|---|",
            ]
            for r in self.ratios:
                lines.append(
                    f"| {r.name} | **{_format_ratio(r.value)}** | {r.compares} | {r.target} "
                    f"| {_verdict(r.met)} | {r.note} |"
                )
            lines.append("")
        if self.rates:
            lines += [
                "### Rates",
                "",
                f"| measurement | ops/s ({STATISTIC}) | µs/op ({STATISTIC}) | ops/s (median) "
                "| ops × repeats |",
                "|---|---:|---:|---:|---:|",
            ]
            for r in self.rates.values():
                lines.append(
                    f"| `{r.name}` | {_format_number(r.per_second)} "
                    f"| {_format_number(r.micros_per_op)} "
                    f"| {_format_number(r.median_per_second)} "
                    f"| {r.ops:,} × {len(r.timing.seconds)} |"
                )
            lines.append("")
        if self.notes:
            lines += ["### Notes", ""] + [f"- {text}" for text in self.notes] + [""]
        lines += [f"Took {self.seconds:.1f} s.", ""]
        return lines


def machine_facts() -> dict[str, str]:
    """Describe the machine and the libraries the figures depend on."""
    facts = {
        "CPUs": str(os.cpu_count()),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "SQLite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    try:
        import cryptography
        import sqlalchemy
        from cryptography.hazmat.backends.openssl.backend import backend

        facts["cryptography"] = f"{cryptography.__version__} ({backend.openssl_version_text()})"
        facts["SQLAlchemy"] = sqlalchemy.__version__
    except ImportError:  # pragma: no cover - both are dependencies of Emanet
        pass
    return facts


def discover() -> list[str]:
    """Name every module in bench/ that defines `run`, the runner itself excepted."""
    here = Path(__file__).parent
    found = []
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if info.name == "runner" or info.name.startswith("_"):
            continue
        if callable(getattr(_load(info.name), "run", None)):
            found.append(info.name)
    return found


def _load(name: str) -> ModuleType:
    return importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")


def run_benchmark(name: str) -> Report:
    """Run one benchmark module; a failure is recorded in its report, not raised."""
    short = name.removeprefix("bench.")
    report = Report(short)
    started = time.perf_counter()
    try:
        module = _load(short)
        report.summary = (module.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        print(f"{short}: {report.summary}", flush=True)
        module.run(report)
    except Exception:
        report.error = traceback.format_exc()
        print(report.error, file=sys.stderr)
    report.seconds = time.perf_counter() - started
    print(f"  ({report.seconds:.1f} s)", flush=True)
    return report


def render(reports: Sequence[Report], command: str, when: datetime) -> str:
    """Return the whole Markdown report."""
    lines = [
        "# Emanet benchmarks",
        "",
        f"Run {when:%Y-%m-%d %H:%M} UTC with `{command}`.",
        "",
        f"Each rate is the {STATISTIC} of several timed repeats after an untimed warm-up (the "
        "median is shown beside it); loops that are compared take turns, repeat by repeat. "
        "Ratios, computed from the same figures, are the headline: absolute rates vary from "
        "machine to machine, ratios between loops timed side by side much less.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in machine_facts().items()]
    lines.append("")
    for report in reports:
        lines += report.markdown()
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks named (or all of them) and write the report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.runner",
        description=__doc__.split("\n\nUsage")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("modules", nargs="*", help="benchmark modules in bench/ (default: all)")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("BENCHMARKS.md"),
        help="Markdown file to write (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    names = args.modules or discover()
    when = datetime.now(UTC)
    reports = [run_benchmark(name) for name in names]
    command = "python -m bench.runner " + " ".join(
        [*args.modules, "--output", str(args.output)]
    ).replace("  ", " ")
    args.output.write_text(render(reports, command, when), encoding="utf-8")
    print(f"Wrote {args.output}")
    return 1 if any(report.error for report in reports) else 0


if __name__ == "__main__":
    # Run as `-m`, this file is `__main__`; the benchmarks import `bench.runner`. Hand over to
    # that module so that there is one `Report` and one `Timing` class, not two look-alikes.
    from bench import runner

    raise SystemExit(runner.main())
