"""The spyne application's own interface matches the canonical contract in wsdl/.

spyne only reads and writes messages; wsdl/ is the contract. These tests fail
when soap/types.py or soap/service.py drift from it: a different element,
order, type, occurrence bound, facet, enumeration, operation or fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from spyne import Application
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication
from zeep import Client

from segmentation_service.soap.faults import OPERATION_FAULTS
from segmentation_service.soap.service import SegmentationService
from segmentation_service.soap.types import TNS
from tests.contract.conftest import WSDL, XSD

XS = "http://www.w3.org/2001/XMLSchema"
FACETS = ("minLength", "maxLength", "minInclusive", "maxInclusive", "pattern", "enumeration")


class SchemaSet:
    """Named types and elements of a set of xs:schema documents, resolved by QName."""

    def __init__(self, schemas: list[etree._Element]) -> None:
        self.types: dict[tuple[str, str], etree._Element] = {}
        self.elements: dict[tuple[str, str], etree._Element] = {}
        for schema in schemas:
            namespace = schema.get("targetNamespace")
            for node in schema:
                name = node.get("name")
                if node.tag in (f"{{{XS}}}complexType", f"{{{XS}}}simpleType"):
                    self.types[(namespace, name)] = node
                elif node.tag == f"{{{XS}}}element":
                    self.elements[(namespace, name)] = node

    def shape_of_element(self, name: str) -> Any:
        return self._type_shape(self.elements[(TNS, name)], self.elements[(TNS, name)].get("type"))

    def _resolve(self, node: etree._Element, qname: str) -> tuple[str, str]:
        prefix, _, local = qname.rpartition(":")
        return node.nsmap[prefix or None], local

    def _type_shape(self, node: etree._Element, qname: str) -> Any:
        namespace, local = self._resolve(node, qname)
        if namespace == XS:
            return ("builtin", local, ())
        definition = self.types[(namespace, local)]
        if definition.tag == f"{{{XS}}}simpleType":
            return self._simple_shape(definition)
        children = definition.findall(f"{{{XS}}}sequence/{{{XS}}}element")
        return ("complex", local, tuple(self._child_shape(child) for child in children))

    def _simple_shape(self, definition: etree._Element) -> Any:
        restriction = definition.find(f"{{{XS}}}restriction")
        facets = tuple(
            sorted(
                (etree.QName(f).localname, f.get("value"))
                for f in restriction.iterchildren(etree.Element)  # not comments
                if etree.QName(f).localname in FACETS
            )
        )
        base = self._type_shape(restriction, restriction.get("base"))
        return ("builtin", base[1], tuple(sorted(base[2] + facets)))

    def _child_shape(self, child: etree._Element) -> Any:
        return (
            child.get("name"),
            child.get("minOccurs", "1"),
            child.get("maxOccurs", "1"),
            child.get("nillable", "false"),
            self._type_shape(child, child.get("type")),
        )


def spyne_wsdl(tmp_path: Path) -> Path:
    application = Application(
        [SegmentationService],
        tns=TNS,
        name="CustomerSegmentation",
        in_protocol=Soap11(),
        out_protocol=Soap11(),
    )
    # Through a WSGI server, so the binding names the HTTP transport zeep looks for.
    wsdl = WsgiApplication(application).doc.wsdl11
    wsdl.build_interface_document("http://localhost/soap")
    path = tmp_path / "spyne.wsdl"
    path.write_bytes(wsdl.get_interface_document())
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spyne_wsdl(tmp_path_factory.mktemp("spyne"))


@pytest.fixture(scope="module")
def canonical_schemas() -> SchemaSet:
    return SchemaSet([etree.parse(str(XSD)).getroot()])


@pytest.fixture(scope="module")
def spyne_schemas(generated: Path) -> SchemaSet:
    document = etree.parse(str(generated))
    return SchemaSet(document.findall(f".//{{{XS}}}schema"))


MESSAGES = [f"{operation}{suffix}" for operation in OPERATION_FAULTS for suffix in ("", "Response")]


@pytest.mark.parametrize("message", MESSAGES)
def test_spyne_message_matches_the_canonical_xsd(
    message: str, canonical_schemas: SchemaSet, spyne_schemas: SchemaSet
) -> None:
    assert spyne_schemas.shape_of_element(message) == canonical_schemas.shape_of_element(message)


def _operations(client: Client) -> dict[str, Any]:
    binding = next(iter(client.wsdl.bindings.values()))
    return {
        name: (
            operation.input.body.qname,
            operation.output.body.qname,
            sorted(operation.faults),
        )
        for name, operation in binding._operations.items()
    }


def test_spyne_operations_and_faults_match_the_canonical_wsdl(generated: Path) -> None:
    assert _operations(Client(str(generated))) == _operations(Client(str(WSDL)))


def test_the_drift_check_notices_a_changed_occurrence_bound(
    canonical_schemas: SchemaSet, spyne_schemas: SchemaSet
) -> None:
    # Guard against a vacuous comparison: a one-attribute change must show.
    element = canonical_schemas.types[(TNS, "ListSegmentMembers")][0][3]
    element.set("minOccurs", "1")
    try:
        assert spyne_schemas.shape_of_element("ListSegmentMembers") != (
            canonical_schemas.shape_of_element("ListSegmentMembers")
        )
    finally:
        element.set("minOccurs", "0")
