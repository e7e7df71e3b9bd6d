"""The command lines answer --help, config and usage errors without loading the heavy libraries.

Not timed: each case runs in a fresh interpreter and lists the top-level
packages it imported, which must include none of the heavy ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_HEAVY = {"pandas", "numpy", "sklearn", "scipy", "spyne", "sqlalchemy", "lxml", "rich"}
CLIENT_HEAVY = {
    "pandas",
    "numpy",
    "matplotlib",
    "sklearn",
    "scipy",
    "spyne",
    "rich",
}  # zeep is fine
PROBE = """
import json, sys
from {module} import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
packages = sorted({{name.partition(".")[0] for name in sys.modules}})
print(json.dumps({{"status": status, "modules": packages}}))
"""


def imported(tmp_path: Path, module: str, *arguments: str) -> tuple[object, set[str]]:
    """The exit status of ``module``'s main and the top-level packages it imported."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SEGMENTATION")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert "Traceback" not in done.stderr, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    return found["status"], set(found["modules"])


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["config"],
        ["config", "--port", "9000"],
        ["users", "list", "--help"],
        ["users", "add", "--help"],
        ["users", "add", "ana", "--role", "owner"],  # a usage error
        ["import", "--help"],
        ["serve", "--help"],
    ],
    ids=" ".join,
)
def test_the_service_command_answers_without_the_heavy_libraries(
    tmp_path: Path, arguments: list[str]
) -> None:
    status, modules = imported(tmp_path, "segmentation_service.cli", *arguments)

    assert status in (0, 2)
    assert modules & SERVICE_HEAVY == set()


def test_users_list_runs_without_the_data_science_libraries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    status, modules = imported(
        tmp_path, "segmentation_service.cli", "--database-url", url, "users", "list"
    )

    assert status == 0
    assert modules & {"pandas", "numpy", "sklearn", "scipy", "spyne"} == set()


@pytest.mark.parametrize(
    "arguments",
    [["--help"], ["segment", "--help"], ["report", "--help"], ["segment"]],
    ids=" ".join,
)
def test_the_client_answers_without_pandas_or_matplotlib(
    tmp_path: Path, arguments: list[str]
) -> None:
    status, modules = imported(tmp_path, "segmentation_client.cli", *arguments)

    assert status in (0, 2)
    assert modules & CLIENT_HEAVY == set()
