"""Which source trees the benchmark's child processes import.

The service is imported from wherever this process found it: the working
tree (its editable install) or a snapshot such as ``git archive HEAD``
unpacked elsewhere and put first on sys.path. Children get the same tree,
then the repository holding ``bench``.
"""

from __future__ import annotations

import os
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
