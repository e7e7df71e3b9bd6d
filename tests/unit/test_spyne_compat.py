"""spyne_compat: applied exactly when spyne 2.14 cannot import itself, and never hiding errors.

Import behaviour is process-wide, so each scenario runs in a fresh interpreter
(the one running the tests); fake ``spyne`` packages on PYTHONPATH stand in for a
fixed spyne release and for a broken installation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from segmentation_service import spyne_compat
from segmentation_service.soap.service import SegmentationService
from segmentation_service.soap.types import TNS

OPERATIONS = {
    "SegmentCustomers",
    "GetCustomerSegment",
    "ScoreCustomerValue",
    "ListSegmentMembers",
    "SetSegmentOwner",
    "GetSegmentationRun",
    "ListSegmentationRuns",
    "CompareSegmentationRuns",
}
OLD_SIX = "# a bundled six whose meta-path importer predates find_spec\nPY2 = False\n"
NEW_SIX = "class _SixMetaPathImporter:\n    def find_spec(self, fullname, path, target=None): ...\n"


def run_python(code: str, pythonpath: Path | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def fake_spyne(root: Path, six_source: str, init_source: str = "") -> Path:
    (root / "spyne" / "util").mkdir(parents=True)
    (root / "spyne" / "__init__.py").write_text(init_source)
    (root / "spyne" / "util" / "__init__.py").write_text("")
    (root / "spyne" / "util" / "six.py").write_text(six_source)
    return root


def test_spyne_builds_the_service_application_on_this_interpreter() -> None:
    from spyne import Application
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

    application = Application(
        [SegmentationService], tns=TNS, in_protocol=Soap11(), out_protocol=Soap11()
    )
    wsdl = WsgiApplication(application).doc.wsdl11
    wsdl.build_interface_document("http://localhost/soap")

    assert set(application.interface.service_method_map) >= {
        f"{{{TNS}}}{name}" for name in OPERATIONS
    }
    assert b"SegmentCustomersResponse" in wsdl.get_interface_document()


def test_the_shim_is_needed_exactly_when_spyne_cannot_import_by_itself() -> None:
    alone = run_python(
        """
        import json
        from segmentation_service.spyne_compat import needs_six  # imports no spyne
        needed = needs_six()
        try:
            import spyne
            error = None
        except ImportError as exc:
            error = f"{type(exc).__name__}: {exc}"
        print(json.dumps({"needed": needed, "error": error}))
        """
    )

    assert alone["needed"] is (sys.version_info >= (3, 12))  # spyne 2.14.0 is installed
    if alone["needed"]:
        assert alone["error"] == "ModuleNotFoundError: No module named 'spyne.util.six.moves'"
    else:
        assert alone["error"] is None


def test_with_the_shim_spyne_imports_and_serves_its_six_moves() -> None:
    shimmed = run_python(
        """
        import json, sys
        import segmentation_service.soap  # applies the shim before spyne's first import
        applied = "spyne.util.six" in sys.modules
        import spyne
        from spyne.util import six
        from spyne.util.six.moves.collections_abc import MutableSet
        from spyne.util.six.moves.urllib.parse import quote
        print(json.dumps({
            "applied": applied,
            "private_copy": six.__name__ == "spyne.util.six" and six is not sys.modules.get("six"),
            "function_name": six.get_function_name(quote),
            "abc": MutableSet.__module__,
        }))
        """
    )

    assert shimmed == {
        "applied": spyne_compat.needs_six(),
        "private_copy": True,
        "function_name": "quote",
        "abc": "collections.abc",
    }


def test_the_shim_skips_a_spyne_whose_bundled_six_has_find_spec(tmp_path: Path) -> None:
    result = run_python(
        """
        import json, sys
        from segmentation_service import spyne_compat
        print(json.dumps({
            "needed": spyne_compat.needs_six((3, 12)),
            "applied": spyne_compat.apply((3, 13)),
            "registered": "spyne.util.six" in sys.modules,
        }))
        """,
        pythonpath=fake_spyne(tmp_path, NEW_SIX),
    )

    assert result == {"needed": False, "applied": False, "registered": False}


def test_the_shim_applies_to_a_bundled_six_without_find_spec_only_on_3_12_and_later(
    tmp_path: Path,
) -> None:
    result = run_python(
        """
        import json
        from segmentation_service import spyne_compat
        print(json.dumps({
            "3.11": spyne_compat.needs_six((3, 11, 7)),
            "3.12": spyne_compat.needs_six((3, 12, 1)),
            "3.13": spyne_compat.needs_six((3, 13, 0)),
        }))
        """,
        pythonpath=fake_spyne(tmp_path, OLD_SIX),
    )

    assert result == {"3.11": False, "3.12": True, "3.13": True}


def test_the_shim_never_masks_a_real_import_error(tmp_path: Path) -> None:
    broken = fake_spyne(tmp_path, OLD_SIX, init_source="import a_missing_dependency\n")

    result = run_python(
        """
        import json
        from segmentation_service import spyne_compat
        applied = spyne_compat.apply((3, 12))
        try:
            import spyne
            error = None
        except ModuleNotFoundError as exc:
            error = exc.name
        print(json.dumps({"applied": applied, "error": error}))
        """,
        pythonpath=broken,
    )

    assert result == {"applied": True, "error": "a_missing_dependency"}


def test_the_shim_does_nothing_once_spyne_is_imported() -> None:
    import spyne

    assert spyne.__name__ in sys.modules
    assert spyne_compat.apply((3, 12)) is False


def test_without_spyne_installed_the_shim_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spyne_compat.importlib.util, "find_spec", lambda name: None)

    assert spyne_compat.bundled_six() is None
    assert spyne_compat.needs_six((3, 13)) is False
