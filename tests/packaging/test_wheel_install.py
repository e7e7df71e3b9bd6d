"""The built wheel, installed (not editable) into a fresh virtualenv, serves its contract.

``python -m build`` makes the sdist and then the wheel from the sdist, as a release
does. The wheel goes into a new virtualenv outside the checkout, with its dependencies
from the configured package indexes, and the installed ``segmentation-service``
command does what an operator does: init-db, users add, load-demo, serve. The served
WSDL and XSD must be the canonical files in wsdl/ (the WSDL with only its soap:address
rewritten), and a zeep client built from the served WSDL gets a real answer.

Slow (a minute or more: the virtualenv installs numpy, pandas, SciPy, scikit-learn);
``-m "not packaging"`` leaves it out.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from lxml import etree
from zeep import Client

from segmentation_service.store.migrations import head_revision
from tests.contract.conftest import ANALYST, WSDL, XSD, XsdValidator
from tests.contract.test_http import WSDL_SOAP, addresses, canonical

pytestmark = [pytest.mark.contract, pytest.mark.packaging]

ROOT = Path(__file__).resolve().parents[2]
# What the installed service reads at run time, besides its modules.
PACKAGE_DATA = {
    "segmentation_service/wsdl/segmentation.wsdl": WSDL,
    "segmentation_service/wsdl/segmentation.xsd": XSD,
    **{
        f"segmentation_service/store/migrations/versions/{path.name}": path
        for path in (ROOT / "segmentation_service/store/migrations/versions").glob("*.py")
    },
    "segmentation_service/store/migrations/script.py.mako": (
        ROOT / "segmentation_service/store/migrations/script.py.mako"
    ),
}


@dataclass(frozen=True)
class Distributions:
    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class Installed:
    """The fresh virtualenv, and a working directory outside the checkout."""

    bin: Path
    workdir: Path
    env: dict[str, str]

    def run(self, *argv: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(self.bin / "segmentation-service"), *argv],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env=self.env,
            timeout=300,
        )
        assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
        return result.stdout


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """The sdist, and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)])
    (sdist,) = out.glob("segmentation_service-*.tar.gz")
    (wheel,) = out.glob("segmentation_service-*.whl")
    return Distributions(sdist, wheel)


@pytest.fixture(scope="module")
def installed(distributions: Distributions, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel and its dependencies in a new virtualenv that cannot see the checkout."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)])
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SEGMENTATION_") and key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    # No byte-compiling of NumPy, SciPy, pandas...: halves the install; imports compile lazily.
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    run([*pip, str(distributions.wheel)], env=env)
    workdir = tmp_path_factory.mktemp("service")
    env |= {
        "SEGMENTATION_DATABASE_URL": f"sqlite:///{workdir / 'var' / 'store.db'}",
        "SEGMENTATION_LOG_LEVEL": "WARNING",
        "SEGMENTATION_AUTH": "on",
    }
    return Installed(venv / "bin", workdir, env)


def test_sdist_carries_the_contract_and_the_migrations(distributions: Distributions) -> None:
    with tarfile.open(distributions.sdist) as sdist:
        (top,) = {name.split("/", 1)[0] for name in sdist.getnames()}
        for name, source in PACKAGE_DATA.items():
            member = sdist.extractfile(f"{top}/{name}")
            assert member is not None, f"{name} is not a regular file in the sdist"
            assert member.read() == source.read_bytes(), name


def test_wheel_carries_the_contract_and_the_migrations(distributions: Distributions) -> None:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        for name, source in PACKAGE_DATA.items():
            assert wheel.read(name) == source.read_bytes(), name


@contextmanager
def served(installed: Installed) -> Iterator[str]:
    """The installed ``serve`` on a free port (bound here, passed down); yields the SOAP URL.

    The server runs in its own process group, stopped however the test ends.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/soap"
    log = installed.workdir / "server.log"
    command = [str(installed.bin / "segmentation-service"), "serve", "--workers", "1"]
    command += ["--socket-fd", str(listener.fileno()), "--public-url", url]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            pass_fds=[listener.fileno()],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=installed.workdir,
            env=installed.env,
            start_new_session=True,
        )
    listener.close()
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"server exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"server did not come up: {log.read_text()}"
            try:
                if requests.get(f"{url.removesuffix('/soap')}/healthz", timeout=30).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_installed_wheel_migrates_loads_and_serves_its_contract(installed: Installed) -> None:
    location = subprocess.run(
        [
            str(installed.bin / "python"),
            "-c",
            "import segmentation_service; print(segmentation_service.__file__)",
        ],
        capture_output=True,
        text=True,
        cwd=installed.workdir,
        env=installed.env,
        check=True,
    ).stdout.strip()
    assert Path(location).is_relative_to(installed.bin.parent), location

    assert "store ready" in installed.run("init-db")
    database = installed.workdir / "var" / "store.db"
    with sqlite3.connect(database) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == head_revision()
    installed.run(
        "users", "add", ANALYST.username, "--role", "analyst", stdin=f"{ANALYST.password}\n"
    )
    assert "loaded 200 customers" in installed.run("load-demo", "--customers", "200", "--quiet")

    with served(installed) as url:
        wsdl = requests.get(f"{url}?wsdl", timeout=30)
        xsd = requests.get(f"{url.removesuffix('/soap')}/segmentation.xsd", timeout=30)
        validator = XsdValidator(etree.XMLSchema(etree.parse(str(XSD))))
        soap = Client(f"{url}?wsdl", plugins=[validator], wsse=ANALYST.token()).service
        segmentation = soap.SegmentCustomers(method="APriori", label="from the wheel")
        largest = max(segmentation.segments.segment, key=lambda segment: segment.size)
        page = soap.ListSegmentMembers(
            segmentCode=largest.code, runId=segmentation.runId, pageSize=1
        )
        customer_id = page.members.member[0].customerId
        found = soap.GetCustomerSegment(customerId=customer_id, method="APriori")

    assert wsdl.status_code == 200 and addresses(wsdl.content) == [url]
    expected = etree.parse(str(WSDL)).getroot()
    for element in expected.iter(f"{{{WSDL_SOAP}}}address"):
        element.set("location", url)
    assert canonical(etree.fromstring(wsdl.content)) == canonical(expected)
    assert xsd.status_code == 200 and xsd.content == XSD.read_bytes()
    assert segmentation.status == "Completed" and segmentation.label == "from the wheel"
    (assignment,) = found
    assert (assignment.customerId, assignment.runId) == (customer_id, segmentation.runId)
    assert (assignment.segmentCode, assignment.segmentName) == (largest.code, largest.name)
    assert "GetCustomerSegmentResponse" in validator.validated
