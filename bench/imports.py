"""Import throughput: `segmentation-service import` against the store's bulk path, same rows.

Both load into fresh, empty databases with the service's schema: customers
first, then transactions, then needs (the other two refer to customers).
With ``limit``, each file is cut to its first ``limit`` rows for both paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.bulkload import bulk_load, create_schema
from bench.datasets import KINDS, Dataset
from bench.paths import SERVICE_ROOT, child_pythonpath
from bench.stores import Databases


def _service_import(database_url: str, kind: str, path: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "SEGMENTATION_LOG_LEVEL": "WARNING",
        "PYTHONPATH": child_pythonpath(),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.import_cli", database_url, kind, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=SERVICE_ROOT,
        check=False,
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        raise RuntimeError(f"import of {path} failed: {completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure_import(
    dataset: Dataset, databases: Databases, tag: str, limit: int | None
) -> dict[str, dict[str, Any]]:
    service_db, bulk_db = f"bench_{tag}_import", f"bench_{tag}_bulk"
    service_url, bulk_url = databases.fresh(service_db), databases.fresh(bulk_db)
    create_schema(bulk_url)
    results: dict[str, dict[str, Any]] = {}
    try:
        for kind in KINDS:
            path, rows = dataset.head_csv(kind, limit)
            imported = _service_import(service_url, kind, path)
            bulk_rows, bulk_seconds = bulk_load(bulk_url, kind, path)
            results[kind] = {
                "rows": rows,
                "import_rows": imported["rows"],
                "import_exit_code": imported["exit_code"],
                "import_s": imported["seconds"],
                "import_rps": imported["rows"] / imported["seconds"],
                "bulk_rows": bulk_rows,
                "bulk_s": bulk_seconds,
                "bulk_rps": bulk_rows / bulk_seconds,
            }
            results[kind]["ratio"] = results[kind]["import_rps"] / results[kind]["bulk_rps"]
            figures = results[kind]
            print(
                f"    import {kind}: {rows} rows: service {figures['import_rps']:,.0f} rows/s,"
                f" bulk {figures['bulk_rps']:,.0f} rows/s",
                flush=True,
            )
    finally:
        databases.drop(service_db)
        databases.drop(bulk_db)
    return results
