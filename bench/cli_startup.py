"""How fast the command lines answer: wall and CPU time against a bare interpreter.

    python -m bench.cli_startup [--repeat 20]

Each command runs in a fresh process, once to warm the disk cache and then
--repeat times; CPU time is the child's user + system time. Prints one
markdown table: the medians, and their ratios to ``python -c pass`` measured
in the same run, interleaved with the commands so load affects all alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import cpu_model, load_average
from bench.paths import child_pythonpath, service_revision

BIN = Path(sys.executable).parent


def _script(name: str, module: str) -> list[str]:
    """The installed console script next to this interpreter, else ``python -m``."""
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


SERVICE = _script("segmentation-service", "segmentation_service.cli")
CLIENT = _script("segmentation-client", "segmentation_client")
COMMANDS: dict[str, list[str]] = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "segmentation-service --help": [*SERVICE, "--help"],
    "segmentation-service config": [*SERVICE, "config"],
    "segmentation-service users list --help": [*SERVICE, "users", "list", "--help"],
    "segmentation-client --help": [*CLIENT, "--help"],
}


def _run(command: list[str], work: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(repeat: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds per command; one warm-up run each, then rounds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENTATION_")}
    env["PYTHONPATH"] = child_pythonpath()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as work:
        for command in COMMANDS.values():
            _run(command, Path(work), env)
        for _ in range(repeat):
            for name, command in COMMANDS.items():
                samples[name].append(_run(command, Path(work), env))
    return {
        name: (
            statistics.median(wall for wall, _ in runs),
            statistics.median(cpu for _, cpu in runs),
        )
        for name, runs in samples.items()
    }


def markdown(medians: dict[str, tuple[float, float]], repeat: int) -> str:
    base_wall, base_cpu = next(iter(medians.values()))
    lines = [
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}; "
        f"load average {load_average()}; {repeat} runs each; service {service_revision()}.",
        "",
        "| Command | Wall (median) | CPU (median) | Wall ÷ baseline | CPU ÷ baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (wall, cpu) in medians.items():
        lines.append(
            f"| `{name}` | {wall * 1000:,.0f} ms | {cpu * 1000:,.0f} ms | "
            f"{wall / base_wall:.1f} | {cpu / base_cpu:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cli_startup", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=20, help="runs per command (default 20)")
    args = parser.parse_args(argv)
    print(markdown(measure(args.repeat), args.repeat))


if __name__ == "__main__":
    main()
