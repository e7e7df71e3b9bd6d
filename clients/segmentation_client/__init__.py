"""Client for the customer segmentation SOAP service (contract urn:customer-segmentation:v1).

Use `segmentation-client --help` from a shell, or from Python::

    from segmentation_client import connect, parse_fault
    connection = connect("http://127.0.0.1:8000/soap?wsdl")
    run = connection.service.SegmentCustomers(method="ValueBased")
"""

from __future__ import annotations

from .connection import Connection, build_client, build_service, connect
from .faults import ServiceFault, parse_fault

__version__ = "0.1.0"

__all__ = [
    "Connection",
    "ServiceFault",
    "build_client",
    "build_service",
    "connect",
    "parse_fault",
]
