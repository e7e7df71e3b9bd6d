"""Let spyne 2.14 import on Python 3.12 and 3.13; a no-op wherever spyne imports by itself.

Why: spyne 2.14.0 (its newest release) bundles six 1.14 as ``spyne.util.six``. That
six serves ``spyne.util.six.moves`` through a meta-path importer with only the old
``find_module``/``load_module`` protocol, which Python 3.12 no longer calls, so
``import spyne`` fails with "No module named 'spyne.util.six.moves'" (arskom/spyne
#700, #708, #711). spyne's unreleased master updated its bundled six (#704, merged the
day #701 added 3.12 to spyne's test matrix); six's importer has ``find_spec`` and
``exec_module`` since 1.16 (benjaminp/six#352). This module does the same from outside:
before spyne is first imported, it loads a private copy of PyPI's ``six`` (>= 1.16)
under the name ``spyne.util.six`` and adds the one function spyne's copy adds
(``get_function_name``). Nothing else of spyne is touched.

Python 3.13 also removed the ``cgi`` module spyne imports; the ``legacy-cgi``
distribution (a dependency on 3.13) provides it, so no code is needed here for that.

When to delete: once a spyne release whose bundled six has ``find_spec`` is installed,
``needs_six()`` is False and ``apply()`` does nothing; remove this module and its
import in ``segmentation_service/soap/__init__.py`` then.

It never hides a real import error: it only registers a module, and only when the
bundled six is the known-broken kind; any other failure surfaces from ``import spyne``.
"""

from __future__ import annotations

import importlib.util
import operator
import sys
from pathlib import Path
from types import ModuleType

SIX_NAME = "spyne.util.six"


def bundled_six() -> Path | None:
    """spyne's bundled six.py, found without importing spyne (None when absent)."""
    spec = importlib.util.find_spec("spyne")
    for location in (spec and spec.submodule_search_locations) or []:
        candidate = Path(location) / "util" / "six.py"
        if candidate.is_file():
            return candidate
    return None


def needs_six(version: tuple[int, ...] | None = None) -> bool:
    """True when spyne's bundled six cannot serve ``spyne.util.six.moves`` on ``version``.

    ``version`` defaults to the running interpreter's (tests pass another).
    """
    if (version or sys.version_info) < (3, 12):
        return False  # the find_module fallback still exists (with an ImportWarning)
    bundled = bundled_six()
    if bundled is None:
        return False  # spyne absent, or a spyne without a bundled six
    return "def find_spec(" not in bundled.read_text(encoding="utf-8")


def load_private_six(name: str = SIX_NAME) -> ModuleType:
    """A fresh copy of PyPI's six registered as ``name``, like spyne's own bundled copy."""
    spec = importlib.util.find_spec("six")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            "spyne 2.14 needs the 'six' package (>= 1.16) on Python 3.12+; "
            "reinstall segmentation-service to get its dependencies",
            name="six",
        )
    private = importlib.util.spec_from_file_location(name, spec.origin)
    assert private is not None and private.loader is not None
    module = importlib.util.module_from_spec(private)
    sys.modules[name] = module
    try:
        private.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    # spyne's copy adds this one accessor (used in spyne.descriptor and spyne.application).
    module.get_function_name = operator.attrgetter("__name__")  # type: ignore[attr-defined]
    return module


def apply(version: tuple[int, ...] | None = None) -> bool:
    """Install the private six when spyne needs it; True when it did."""
    if "spyne" in sys.modules or SIX_NAME in sys.modules or not needs_six(version):
        return False
    load_private_six()
    return True
