"""bench.partitions' table: issue 12's targets, each figure against its target.

Also the pure helpers behind the figures: a run's time per phase from its
checkpoints, the floor as the sum of its steps, medians and ratios of a method's
measurements, and the log–log slopes between sizes.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import report
from bench import targets as t
from bench.report import HEADER, Row, _n, _size

# Issue 12's targets.
RUN_VS_BARE = 1.2  # a run's wall time, × the bare pipeline's
RUN_VS_FLOOR = 2.0  # × the sum of the fastest single steps
PEAK_GB = {1_000_000: 1.0, 10_000_000: 1.5}  # summed peak RSS of the run's processes, up to size
SLOPE = 1.05  # log–log slope of run time between sizes
GB = 1e9

# The floor's steps, in the order they are shown.
FLOOR_STEPS = {
    "aggregate_s": "aggregate",
    "needs_read_s": "needs read",
    "kmeans_s": "k-means",
    "write_s": "write",
}


def peak_limit(size: int) -> float:
    """The memory target (GB) of a size: the smallest target size at or above it."""
    for ceiling, limit in sorted(PEAK_GB.items()):
        if size <= ceiling:
            return limit
    return max(PEAK_GB.values())


def phase_seconds(trace: Sequence[Sequence[Any]], total: float) -> dict[str, float]:
    """Seconds per run phase from the run's checkpoints, in the order the phases began.

    ``trace`` holds (seconds since the call began, phase, progress) per checkpoint;
    the time before the first one is "Setup" (claiming the run, cutting partitions).
    The fit records Fitting with no progress and the refine stage Fitting with its
    progress: the latter is shown as "Refining".
    """
    seconds: dict[str, float] = {}
    at, current = 0.0, "Setup"
    for moment, phase, progress in trace:
        name = "Refining" if phase == "Fitting" and progress is not None else str(phase)
        if name != current:
            seconds[current] = seconds.get(current, 0.0) + float(moment) - at
            at, current = float(moment), name
    seconds[current] = seconds.get(current, 0.0) + total - at
    return seconds


def floor_seconds(floor: dict[str, Any]) -> float:
    """The floor: the sum of the steps measured (those a method has)."""
    return sum(float(floor[step]) for step in FLOOR_STEPS if step in floor)


def method_entry(
    runs: list[dict[str, Any]],
    bares: list[dict[str, Any]],
    floor: dict[str, Any] | None,
    dask: dict[str, Any] | None,
) -> dict[str, Any]:
    """A method's measurements with their medians, ratios and peaks."""
    run_s = statistics.median(r["seconds"] for r in runs)
    entry: dict[str, Any] = {
        "runs": runs,
        "bares": bares,
        "floor": floor,
        "dask": dask,
        "run_s": run_s,
        "peak_rss_gb": max(r["peak_rss_gb"] for r in runs),
        "peak_pss_gb": max(r["peak_pss_gb"] for r in runs),
        "peak_process_gb": max(r.get("peak_process_gb", math.nan) for r in runs),
        "problems": sorted({p for r in [*runs, *([dask] if dask else [])] for p in r["problems"]}),
    }
    if bares:
        entry["bare_s"] = statistics.median(b["seconds"] for b in bares)
        entry["ratio_bare"] = run_s / entry["bare_s"]
    if floor is not None:
        entry["floor_s"] = floor_seconds(floor)
        entry["ratio_floor"] = run_s / entry["floor_s"]
    return entry


def slopes(blocks: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """``bench.report.slopes`` of the run times: per "store method", per span of sizes."""
    shaped = [
        {
            "store": block["store"],
            "size": block["size"],
            "segmentation": {
                method: {"service": {"seconds": entry["run_s"]}}
                for method, entry in block["methods"].items()
                if "run_s" in entry
            },
        }
        for block in blocks
    ]
    return report.slopes(shaped)


# ------------------------------------------------------------------ the table


def _phases(run: dict[str, Any]) -> str:
    phases = phase_seconds(run["trace"], run["seconds"])
    return ", ".join(f"{name.lower()} {_n(s, 1)}" for name, s in phases.items())


def _block_rows(block: dict[str, Any], config: dict[str, Any]) -> list[Row]:
    size, store = _size(block["size"]), block["store"]
    rows: list[Row] = []

    def add(measure: str, figure: str, baseline: str, ratio: str, check: t.Check) -> None:
        rows.append((size, store, measure, figure, baseline, ratio, check.target, check.verdict))

    load = block["store_load"]
    add(
        "store filled by the bulk path (as bench.run: then VACUUM ANALYZE on PostgreSQL)",
        f"{_n(sum(load[k]['seconds'] for k in ('customers', 'transactions', 'needs')), 0)} s "
        f"+ analyze {_n(load['analyze_s'], 0)} s; store {_n(block['store_bytes'] / GB, 2)} GB"
        + (
            f", {_n(block['store_bytes_end'] / GB, 2)} GB after the runs"
            if "store_bytes_end" in block
            else ""
        ),
        f"CSV {_n(block['dataset_bytes'] / GB, 2)} GB; "
        + ", ".join(f"{_n(v)} {k}" for k, v in block["rows"].items()),
        "",
        t.Check("", "info"),
    )
    local = f"partitions of {_n(config['partition_size'])}, local pool"
    for method, entry in block["methods"].items():
        if "error" in entry:
            add(f"{method} run", entry["error"][-300:], "", "", t.Check("completes", "ERROR"))
            continue
        runs, n = entry["runs"], len(entry["runs"])
        run = runs[-1]
        median = f"median of {n}, " if n > 1 else ""
        outcome = f"{run['status']}, {_n(run['customers'])} customers"
        figure = f"{_n(entry['run_s'], 2)} s ({median}{outcome}; {_phases(run)})"
        if "bare_s" in entry:
            bare = entry["bares"][-1]
            add(
                f"{method} run ({local}) vs bare pipeline",
                figure,
                f"bare {_n(entry['bare_s'], 2)} s (read {_n(bare['read_s'], 1)}, "
                f"compute {_n(bare['compute_s'], 1)}, write {_n(bare['write_s'], 1)})",
                f"{entry['ratio_bare']:.2f}",
                t.at_most(entry["ratio_bare"], RUN_VS_BARE, "× bare"),
            )
        else:
            add(f"{method} run ({local})", figure, "bare skipped", "", t.Check("", "info"))
        floor = entry.get("floor")
        if floor is not None:
            steps = ", ".join(
                f"{label} {_n(floor[step], 2)}"
                for step, label in FLOOR_STEPS.items()
                if step in floor
            )
            add(
                f"{method} run vs floor (fastest single steps)",
                f"{_n(entry['run_s'], 2)} s",
                f"floor {_n(entry['floor_s'], 2)} s ({steps})",
                f"{entry['ratio_floor']:.2f}",
                t.at_most(entry["ratio_floor"], RUN_VS_FLOOR, "× floor"),
            )
        # The verdict is on PSS: the pool's processes are forked from a fork server that
        # preloaded pandas and scikit-learn, so their shared pages are in every one's RSS;
        # summed PSS counts each page once, which is the memory the processes occupy.
        add(
            f"{method} run: peak memory, PSS summed over the run's process and its descendants",
            f"{_n(entry['peak_pss_gb'], 2)} GB",
            f"RSS summed (shared pages counted in each process) {_n(entry['peak_rss_gb'], 2)} GB; "
            + (
                f"largest process {_n(entry['peak_process_gb'], 2)} GB; "
                if math.isfinite(entry.get("peak_process_gb", math.nan))
                else ""
            )
            + f"pool started and connected before the call in {_n(run['pool_start_s'], 1)} s "
            f"({run['warmed_processes']} processes)",
            "",
            t.at_most(entry["peak_pss_gb"], peak_limit(block["size"]), "peak", " GB"),
        )
        for problem in entry["problems"]:
            add(f"{method} run", problem, "", "", t.Check("Completed, every customer", "BUG"))
        dask = entry.get("dask")
        if dask is not None:
            add(
                f"{method} run on Dask (2 workers × 1 thread, this machine): on 2 cores no "
                "speed-up is expected; it proves the distributed path works at size and what "
                "it costs",
                f"{_n(dask['seconds'], 2)} s ({dask['status']}, {_n(dask['customers'])} "
                f"customers; {_phases(dask)}); peak RSS run process "
                f"{_n(dask['peak_rss_gb'], 2)} GB, workers {_n(dask['cluster_rss_gb'], 2)} GB",
                f"local pool {_n(entry['run_s'], 2)} s",
                f"{dask['seconds'] / entry['run_s']:.2f}",
                t.Check("", "info"),
            )
    return rows


def table_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for block in result["blocks"]:
        rows.extend(_block_rows(block, result["config"]))
    for key, spans in result.get("slopes", {}).items():
        store, method = key.split(" ", 1)
        for span, slope in spans.items():
            check = t.at_most(slope, SLOPE, "slope")
            measure = f"log–log slope of {method} run time"
            rows.append((span, store, measure, f"{slope:.2f}", "", "", check.target, check.verdict))
    return rows


def markdown(result: dict[str, Any]) -> str:
    machine, config = result["machine"], result["config"]
    lines = [
        f"Command: `{result['command']}`",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM; "
        f"Python {machine['python']}; SQLite {machine['sqlite']}; {machine['postgresql'] or '—'}; "
        f"load average {machine['load_average_start']} before, "
        f"{machine.get('load_average_end')} after.",
        "",
        f"Service: {config['service']}. Runs: `services.segment_customers` in a child process "
        f"of their own, `RunLayout({config['partition_size']:,}, local_executor)` (a pool of "
        f"{machine['cores']} processes, started before the call), default options; bare "
        f"pipelines (bench.bare) in child processes too; "
        f"{config['repeats']} of each, alternating which goes first.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in table_rows(result):
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    result["slopes"] = slopes(result["blocks"])
    (directory / "latest.json").write_text(json.dumps(result, indent=2, default=str))
    text = markdown(result)
    (directory / "latest.md").write_text(text)
    return text


def main() -> None:
    """Re-render latest.md from a results JSON: python -m bench.partition_report [FILE]."""
    import sys

    default = Path(__file__).parent / "results" / "partitions" / "latest.json"
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print(write(json.loads(source.read_text()), source.parent))


if __name__ == "__main__":
    main()
