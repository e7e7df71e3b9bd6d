"""Composition root: the store, the spyne application and the WSGI routing around it."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from spyne import Application, Fault
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from segmentation_service.config import Settings
from segmentation_service.domain.errors import SegmentationError
from segmentation_service.soap.faults import OPERATION_FAULTS, InternalError, fault_for
from segmentation_service.soap.http import WSDL_DIRECTORY, XSD_FILE, Router
from segmentation_service.soap.protocol import CanonicalSchema, HardenedSoap11
from segmentation_service.soap.service import SegmentationService
from segmentation_service.soap.types import TNS
from segmentation_service.store.database import Store
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)


class SegmentationApplication(Application):
    """spyne's Application with one place that turns errors into declared faults."""

    def __init__(self, store: Store, schema: CanonicalSchema) -> None:
        super().__init__(
            [SegmentationService],
            tns=TNS,
            name="CustomerSegmentation",
            in_protocol=HardenedSoap11(schema, frozenset(OPERATION_FAULTS)),
            out_protocol=Soap11(),
        )
        self.store = store

    def unit_of_work(self) -> UnitOfWork:
        return self.store.unit_of_work()

    def call_wrapper(self, ctx: Any) -> Any:
        try:
            return super().call_wrapper(ctx)
        except SegmentationError as exc:
            raise fault_for(exc) from exc
        except Fault:
            raise
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            logger.exception("unhandled error in %s (reference %s)", ctx.method_name, reference)
            raise InternalError(reference) from exc


def quiet_spyne_logging() -> None:
    """spyne logs every client fault with a traceback and bad requests in full; we log our own."""
    for name in ("spyne.application.client", "spyne.server", "spyne.protocol"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def create_app(settings: Settings, store: Store | None = None) -> Router:
    """The WSGI application serving the contract, the health check and the operations."""
    quiet_spyne_logging()
    store = store or Store(settings.database_url)
    schema = CanonicalSchema(WSDL_DIRECTORY / XSD_FILE)
    application = SegmentationApplication(store, schema)
    soap = WsgiApplication(application, max_content_length=settings.max_request_bytes)
    return Router(soap, settings.soap_address, store.is_reachable, settings.max_request_bytes)
