"""What the client's unit tests share: zeep's view of the canonical contract, and its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "wsdl"


@pytest.fixture(scope="module")
def client() -> Any:
    """A zeep client of the canonical WSDL file (no server: for building typed values)."""
    return zeep.Client(str(CONTRACT_DIR / "segmentation.wsdl"))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(CONTRACT_DIR / "segmentation.xsd"))
