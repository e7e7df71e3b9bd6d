"""Which source trees the benchmark's child processes import.

The service is imported from wherever this process found it: the working
tree (its editable install) or a snapshot such as ``git archive HEAD``
unpacked elsewhere and put first on sys.path. Children get the same tree,
then the repository holding ``bench``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import segmentation_service

BENCH_ROOT = Path(__file__).resolve().parents[1]
SERVICE_ROOT = Path(segmentation_service.__file__).resolve().parents[1]


def service_revision() -> str:
    """What was measured: the tree, and its commit when recorded (a snapshot's REVISION file)."""
    marker = SERVICE_ROOT / "REVISION"
    if marker.exists():
        return f"{SERVICE_ROOT} (commit {marker.read_text().strip()})"
    head = SERVICE_ROOT / ".git" / "HEAD"
    if head.exists():
        return f"{SERVICE_ROOT} (working tree; HEAD {head.read_text().strip()})"
    return str(SERVICE_ROOT)


def child_pythonpath() -> str:
    parts = [str(SERVICE_ROOT), str(BENCH_ROOT), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(dict.fromkeys(part for part in parts if part))


def run_service_cli(
    database_url: str,
    work: Path,
    *arguments: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``segmentation-service --database-url URL ARGUMENTS`` in a child process, in ``work``."""
    command = [sys.executable, "-m", "segmentation_service.cli", "--database-url", database_url]
    child_env = {
        **os.environ,
        "SEGMENTATION_LOG_LEVEL": "WARNING",
        "PYTHONPATH": child_pythonpath(),
        **(env or {}),
    }
    return subprocess.run(
        [*command, *arguments],
        cwd=work,
        capture_output=True,
        text=True,
        input=stdin,
        env=child_env,
        check=False,
    )
