"""Plain ``wsimport`` turns the served WSDL into a wrapper-style JAX-WS client.

Wrapper style gives every operation one Java method whose parameters are the request's
children (and Holders for the response's). wsimport refuses it, without ``-extension``,
when a request child and a response child of one operation share a name but not type and
occurrence ("duplicate parameter name"), and silently falls back to bare style when a
wrapper element does not qualify. Either would break integrators' code: this test names
the rule. The client itself is exercised against the live server in test_other_clients.py.
"""

from __future__ import annotations

import re

from tests.contract.conftest import LiveServer
from tests.contract.java_stack import GENERATED_PACKAGE, java_build
from tests.contract.test_other_clients import wsdl_operations

RULE = (
    "plain wsimport (no -extension, no bindings) must generate every operation wrapper-style: "
    "a request child and a response child of one operation that share a name must share type "
    "and occurrence (wsdl/segmentation.xsd, History 1.2)"
)
# One SEI method: its annotations, signature and throws clause, up to the lone ";".
METHOD = re.compile(r'@WebMethod\(operationName = "(\w+)"(.*?)^\s*;', re.S | re.M)


def test_wsimport_generates_every_operation_wrapper_style(live_server: LiveServer) -> None:
    build = java_build(live_server.wsdl_url)
    output = build.wsimport.stdout
    assert build.wsimport.returncode == 0, f"{RULE}; wsimport said:\n{output}"
    assert not re.search(r"\[(WARNING|ERROR)\]", output), f"{RULE}; wsimport said:\n{output}"

    port_type = build.generated("SegmentationPortType").read_text(encoding="utf-8")
    methods = dict(METHOD.findall(port_type))
    assert sorted(methods) == sorted(wsdl_operations()), f"{RULE}; generated:\n{port_type}"
    for operation, declaration in methods.items():
        request = f'@RequestWrapper(localName = "{operation}", targetNamespace'
        response = f'@ResponseWrapper(localName = "{operation}Response", targetNamespace'
        assert request in declaration and response in declaration, f"{RULE}: {operation} is not"
        assert f'className = "{GENERATED_PACKAGE}.{operation}"' in declaration, operation
        assert "ParameterStyle.BARE" not in declaration, f"{RULE}: {operation} is bare"


def test_the_generated_client_compiles_with_the_java_programs(live_server: LiveServer) -> None:
    build = java_build(live_server.wsdl_url)
    assert build.javac is not None and build.javac.returncode == 0, (
        build.javac.stdout if build.javac else build.wsimport.stdout
    )
    assert (build.classes / "Scenario.class").is_file()
    assert (build.classes / "SegmentAndPage.class").is_file()
