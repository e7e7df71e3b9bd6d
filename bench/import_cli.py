"""Time `segmentation-service import` for one file, without the interpreter's start-up.

Runs the command's own entry point (``segmentation_service.cli.main``) in
this fresh process and prints one JSON line: rows loaded, rejected, seconds.

    python -m bench.import_cli DATABASE_URL customers|transactions|needs FILE
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import time

from segmentation_service import cli
from segmentation_service.services import importing  # noqa: F401  (imported before timing)


def main() -> None:
    database_url, kind, path = sys.argv[1:4]
    output = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(output):
        code = cli.main(["--database-url", database_url, "import", f"--{kind}", path])
    seconds = time.perf_counter() - started
    printed = output.getvalue()
    loaded = re.search(rf"(\d+) {kind}", printed)
    print(
        json.dumps(
            {
                "exit_code": code,
                "rows": int(loaded.group(1)) if loaded else 0,
                "seconds": seconds,
                "output": printed.strip()[-500:],
            }
        )
    )


if __name__ == "__main__":
    main()
