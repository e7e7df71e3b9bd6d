""".NET (Mono) for test_other_clients.py: an ASMX proxy generated from the served WSDL.

Mono's ``wsdl`` generates the proxy (class ``SegmentationService``) from the live server's
``?wsdl`` with no options that change the code, and ``mcs`` compiles it, unmodified, with
clients/dotnet/SegmentationClient.cs and one driver program. That happens once per WSDL URL
per test session, in a temporary directory. The tools come with Debian's ``mono-devel``;
without them the tests fail, they are not skipped.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOTNET_DIR = ROOT / "clients" / "dotnet"
PROXY = "SegmentationService.cs"
LIBRARY = ("SegmentationClient.cs",)
PROGRAMS = {"scenario": "Scenario.cs", "segment_and_page": "SegmentAndPage.cs"}
REFERENCES = ("System.Web.Services", "System.Xml", "System.Web.Extensions")
TOOL_TIMEOUT = 300

_builds: dict[str, Path] = {}


def dotnet_command(script: str, wsdl_url: str) -> list[str]:
    """``mono <script>.exe``, built against ``wsdl_url`` (once per session), or a failure."""
    wsdl, mcs, mono = tool("wsdl"), tool("mcs"), tool("mono")
    if script not in PROGRAMS:
        pytest.fail(f"no .NET program for {script!r}: one of {sorted(PROGRAMS)}")
    if wsdl_url not in _builds:
        _builds[wsdl_url] = build(wsdl_url, wsdl, mcs)
    return [mono, str(_builds[wsdl_url] / f"{script}.exe")]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"Mono's `{name}` is needed for the .NET client: apt-get install mono-devel")
    return path


def build(wsdl_url: str, wsdl: str, mcs: str) -> Path:
    """Generate the proxy from ``wsdl_url`` and compile every program into a new directory."""
    directory = Path(tempfile.mkdtemp(prefix="dotnet-client-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    proxy = directory / PROXY
    run_tool([wsdl, f"-out:{proxy}", wsdl_url], directory)
    if not proxy.is_file():
        pytest.fail(f"`wsdl {wsdl_url}` wrote no {PROXY}")
    sources = [str(proxy), *(str(DOTNET_DIR / name) for name in LIBRARY)]
    references = [f"-r:{assembly}" for assembly in REFERENCES]
    for script, program in PROGRAMS.items():
        output = f"-out:{directory / f'{script}.exe'}"
        run_tool(
            [mcs, "-nologo", output, *references, *sources, str(DOTNET_DIR / program)], directory
        )
    return directory


def run_tool(command: list[str], directory: Path) -> None:
    done = subprocess.run(
        command,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    if done.returncode:
        pytest.fail(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )
