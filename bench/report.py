"""One table (markdown), the JSON behind it, and a log-log plot of segmentation time."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench import targets as t

Row = tuple[str, str, str, str, str, str, str, str]
HEADER: Row = (
    "Customers",
    "Store",
    "Measure",
    "Figure",
    "Baseline (same run)",
    "Ratio",
    "Target",
    "Verdict",
)
LONG_METHODS = ("ValueBased", "NeedsBased")


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}" if math.isfinite(value) else "—"


def _size(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"


def slopes(blocks: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Log-log slope of service segmentation time between consecutive sizes, per store/method."""
    out: dict[str, dict[str, float]] = {}
    by_store: dict[str, list[dict[str, Any]]] = {}
    for block in blocks:
        by_store.setdefault(block["store"], []).append(block)
    for store, store_blocks in by_store.items():
        ordered = sorted(store_blocks, key=lambda b: b["size"])
        for low, high in zip(ordered, ordered[1:], strict=False):
            for method, result in high["segmentation"].items():
                before = low["segmentation"].get(method)
                if before is None:
                    continue
                ratio = result["service"]["seconds"] / before["service"]["seconds"]
                span = math.log10(high["size"] / low["size"])
                key = f"{store} {method}"
                out.setdefault(key, {})[f"{_size(low['size'])}→{_size(high['size'])}"] = (
                    math.log10(ratio) / span
                )
    return out


def _block_rows(block: dict[str, Any]) -> list[Row]:
    size, store = _size(block["size"]), block["store"]
    rows: list[Row] = []

    def add(measure: str, figure: str, baseline: str, ratio: str, check: t.Check) -> None:
        rows.append((size, store, measure, figure, baseline, ratio, check.target, check.verdict))

    lookups = block.get("lookups") or {}
    echo = lookups.get("Echo")
    for operation in ("GetCustomerSegment", "ScoreCustomerValue", "ListSegmentMembers"):
        result = lookups.get(operation)
        if not result or not echo:
            continue
        ratio = result["rps"] / echo["rps"]
        label = {"ScoreCustomerValue": " (100 ids)", "ListSegmentMembers": " (page 100)"}
        add(
            f"{operation}{label.get(operation, '')} req/s, c={result['concurrency']}",
            f"{_n(result['rps'])} req/s; p50 {_n(result['p50_ms'], 1)} ms"
            + (f"; {result['errors']} errors" if result["errors"] else ""),
            f"echo {_n(echo['rps'])} req/s; p50 {_n(echo['p50_ms'], 1)} ms",
            f"{ratio:.2f}",
            t.at_least(ratio, t.LOOKUP_VS_ECHO[operation], "× echo"),
        )
        add(
            f"{operation} p99, c={result['concurrency']}",
            f"{_n(result['p99_ms'], 1)} ms",
            f"echo p99 {_n(echo['p99_ms'], 1)} ms",
            f"{result['p99_ms'] / echo['p99_ms']:.1f}",
            t.at_most(result["p99_ms"], t.LOOKUP_P99_MS[operation], "p99 (binding at 1M)", " ms"),
        )
    peak = 0.0
    for method, result in (block.get("segmentation") or {}).items():
        service, bare = result["service"], result["bare"]
        peak = max(peak, service["peak_rss_worker_gb"])
        add(
            f"SegmentCustomers {method}",
            f"{_n(service['seconds'], 2)} s",
            f"bare {_n(bare['seconds'], 2)} s (read {_n(bare['read_s'], 1)}, "
            f"compute {_n(bare['compute_s'], 1)}, write {_n(bare['write_s'], 1)})",
            f"{result['ratio']:.2f}",
            t.at_most(result["ratio"], t.SERVICE_VS_BARE, "× bare"),
        )
        if method in LONG_METHODS:
            add(
                f"SegmentCustomers {method} wall time",
                f"{_n(service['seconds'], 1)} s",
                "",
                "",
                t.at_most(service["seconds"], t.LONG_RUN_S, "time (binding at 1M)", " s"),
            )
    if block.get("segmentation"):
        add(
            "Peak RSS of a server worker during SegmentCustomers",
            f"{peak:.2f} GB",
            "",
            "",
            t.at_most(peak, t.PEAK_GIB, "peak", " GB"),
        )
    for kind, result in (block.get("import") or {}).items():
        add(
            f"import {kind} rows/s ({_n(result['rows'])} rows)",
            f"{_n(result['import_rps'])} rows/s",
            f"bulk path {_n(result['bulk_rps'])} rows/s",
            f"{result['ratio']:.2f}",
            t.at_least(result["ratio"], t.IMPORT_VS_BULK, "× bulk"),
        )
    paging = block.get("paging") or {}
    if "median_ms" in paging:
        first = paging["median_ms"]["0%"]
        for depth in ("50%", "99%"):
            ratio = paging["median_ms"][depth] / first
            add(
                f"ListSegmentMembers page at {depth} of segment {paging['segment']} "
                f"({_n(paging['members'])} members, {paging['share']:.0%})",
                f"{_n(paging['median_ms'][depth], 2)} ms (median)",
                f"first page {_n(first, 2)} ms",
                f"{ratio:.2f}",
                t.at_most(ratio, t.DEEP_PAGE_VS_FIRST, "× first page"),
            )
    stray = {method: codes for method, codes in (block.get("stray_codes") or {}).items() if codes}
    if stray:
        add(
            "Assignment rows whose segment code is no segment of the run",
            "; ".join(
                f"{method}: " + ", ".join(f"{n:,} × {code!r}" for code, n in codes.items())
                for method, codes in stray.items()
            ),
            "",
            "",
            t.Check("none (unassigned must be NULL)", "BUG"),
        )
    busy = block.get("contention")
    idle = lookups.get("GetCustomerSegment")
    if busy and idle:
        add(
            f"GetCustomerSegment during a {busy['method']} run, c={idle['concurrency']}",
            f"p50 {_n(busy['p50_ms'], 1)} ms, p99 {_n(busy['p99_ms'], 1)} ms, "
            f"{_n(busy['rps'])} req/s",
            f"idle p50 {_n(idle['p50_ms'], 1)} ms, p99 {_n(idle['p99_ms'], 1)} ms",
            f"p99 {busy['p99_ms'] / idle['p99_ms']:.1f}",
            t.at_most(busy["p99_ms"], t.P99_MS, "p99 while busy", " ms"),
        )
    return rows


def _auth_rows(block: dict[str, Any]) -> list[Row]:
    auth = block.get("auth") or {}
    if "on" not in auth:
        return []
    on, off = auth["on"], auth["off"]
    added = off["rps"] / on["rps"] - 1  # time per request is 1 / throughput
    check = t.at_most(added * 100, t.DIGEST_ADDS * 100, "adds", "%")
    return [
        (
            _size(block["size"]),
            block["store"],
            f"GetCustomerSegment with UsernameToken PasswordDigest, c={on['concurrency']}",
            f"{_n(on['rps'])} req/s; p50 {_n(on['p50_ms'], 1)} ms; p99 {_n(on['p99_ms'], 1)} ms"
            + (f"; {on['errors']} errors" if on["errors"] else ""),
            f"auth off {_n(off['rps'])} req/s; p50 {_n(off['p50_ms'], 1)} ms; "
            f"p99 {_n(off['p99_ms'], 1)} ms",
            f"+{added * 100:.0f}% time",
            check.target,
            check.verdict,
        )
    ]


def table_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for block in result["blocks"]:
        rows.extend(_block_rows(block))
        rows.extend(_auth_rows(block))
    for key, spans in result["slopes"].items():
        store, method = key.split(" ", 1)
        for span, slope in spans.items():
            binding = span == "100k→1M"
            check = (
                t.at_most(slope, t.SLOPE, "slope")
                if binding
                else t.Check("slope ≤ 1.1 (binding 100k→1M)", "info")
            )
            measure = f"log-log slope of {method} time"
            rows.append((span, store, measure, f"{slope:.2f}", "", "", check.target, check.verdict))
    return rows


def markdown(result: dict[str, Any]) -> str:
    machine = result["machine"]
    lines = [
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM; "
        f"Python {machine['python']}; SQLite {machine['sqlite']}; {machine['postgresql'] or '—'}; "
        f"load average {machine['load_average_start']} at start, "
        f"{machine.get('load_average_end')} at end.",
        "",
        f"Server: `segmentation-service serve --workers {result['config']['workers']}` "
        f"(gunicorn gthread); echo baseline: bench/echo_app.py under the same settings. "
        f"Load: {result['config']['concurrency']} processes × 1 keep-alive connection, raw "
        f"envelopes, {result['config']['duration']} s per operation after 1 s warm-up. "
        f"Service measured: {result['config'].get('service')}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in table_rows(result):
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5))
    series: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for block in result["blocks"]:
        for method, entry in (block.get("segmentation") or {}).items():
            for side in ("service", "bare"):
                key = (block["store"], method, side)
                series.setdefault(key, []).append((block["size"], entry[side]["seconds"]))
    colours = {"APriori": "tab:blue", "NeedsBased": "tab:green", "ValueBased": "tab:red"}
    for (store, method, side), points in sorted(series.items()):
        points.sort()
        axes.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=colours.get(method, "black"),
            linestyle="-" if side == "service" else ":",
            marker="o" if store == "postgresql" else "s",
            label=f"{method} {store} {side}",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("customers")
    axes.set_ylabel("SegmentCustomers time (s)")
    axes.set_title("Segmentation time: service (solid) vs bare pipeline (dotted)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write(result: dict[str, Any], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    result["slopes"] = slopes(result["blocks"])
    (directory / "latest.json").write_text(json.dumps(result, indent=2, default=str))
    text = markdown(result)
    (directory / "latest.md").write_text(text)
    if any(block.get("segmentation") for block in result["blocks"]):
        plot(result, directory / "timing.png")
    return text


def main() -> None:
    """Re-render latest.md and timing.png from a results JSON: python -m bench.report [FILE]."""
    import sys

    default = Path(__file__).parent / "results" / "latest.json"
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print(write(json.loads(source.read_text()), source.parent))


if __name__ == "__main__":
    main()
