"""Composition root: the store, the spyne application and the WSGI routing around it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lxml import etree
from spyne import Application, Fault
from spyne import const as spyne_const
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from segmentation_service.config import DEFAULT_SECRET_KEY_FILE, Settings
from segmentation_service.domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    SegmentationError,
)
from segmentation_service.engines.treatments import TreatmentPolicy
from segmentation_service.engines.value_forecast import ChurnThresholds
from segmentation_service.jobs.executors import treatment_policy
from segmentation_service.jobs.queue import run_queue
from segmentation_service.observability.logs import incident_reference
from segmentation_service.observability.metrics import exposition
from segmentation_service.services.auth import (
    Authenticator,
    Caller,
    PasswordType,
    UsernameToken,
    authorize,
)
from segmentation_service.services.queue import RunQueue
from segmentation_service.soap.faults import OPERATION_FAULTS, InternalError, fault_for
from segmentation_service.soap.hot_path import HotPath
from segmentation_service.soap.http import WSDL_DIRECTORY, XSD_FILE, Router
from segmentation_service.soap.observability import ObservedApp, instrument
from segmentation_service.soap.protocol import CanonicalSchema, HardenedSoap11
from segmentation_service.soap.service import SegmentationService
from segmentation_service.soap.types import TNS
from segmentation_service.store.database import Store
from segmentation_service.store.secret_key import PasswordCipher
from segmentation_service.store.uow import UnitOfWork

logger = logging.getLogger(__name__)

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TYPES = {f"#{kind.value}": kind for kind in PasswordType}


def read_username_token(header: Sequence[Any] | None) -> UsernameToken | None:
    """The wsse:UsernameToken among the SOAP header's children; None when there is none.

    A token that is there but malformed (two of them, no Username, an unknown
    password Type or Nonce encoding) is refused rather than ignored.
    """
    securities = [element for element in header or () if element.tag == f"{{{WSSE}}}Security"]
    tokens = [token for security in securities for token in security.iterchildren()]
    tokens = [token for token in tokens if token.tag == f"{{{WSSE}}}UsernameToken"]
    if not tokens:
        return None
    if len(tokens) > 1:
        raise AuthenticationFailed("the request carries more than one UsernameToken")
    token = tokens[0]
    password = _only(token, f"{{{WSSE}}}Password", required=True)
    kind = password.get("Type") or "#PasswordText"  # PasswordText is the default
    nonce = _only(token, f"{{{WSSE}}}Nonce")
    encoding = "#Base64Binary" if nonce is None else nonce.get("EncodingType") or "#Base64Binary"
    if not encoding.endswith("#Base64Binary"):
        raise AuthenticationFailed(f"unsupported Nonce EncodingType {encoding[:100]!r}")
    suffix = next((end for end in PASSWORD_TYPES if kind.endswith(end)), None)
    if suffix is None:
        raise AuthenticationFailed(f"unsupported password Type {kind[:100]!r}")
    created = _only(token, f"{{{WSU}}}Created")
    return UsernameToken(
        username=_text(_only(token, f"{{{WSSE}}}Username", required=True)),
        password=_text(password),
        password_type=PASSWORD_TYPES[suffix],
        nonce=None if nonce is None else _text(nonce),
        created=None if created is None else _text(created),
    )


def _only(token: Any, tag: str, required: bool = False) -> Any:
    found = token.findall(tag)
    name = etree.QName(tag).localname
    if len(found) > 1 or (required and not found):
        raise AuthenticationFailed(f"the UsernameToken needs exactly one {name}")
    return found[0] if found else None


def _text(element: Any) -> str:
    return str(element.text or "")


class SegmentationApplication(Application):
    """spyne's Application with one place that turns errors into declared faults."""

    def __init__(
        self,
        store: Store,
        schema: CanonicalSchema,
        authenticator: Authenticator | None,
        run_queue: RunQueue,
        treatments: TreatmentPolicy,
        churn: ChurnThresholds,
    ) -> None:
        super().__init__(
            [SegmentationService],
            tns=TNS,
            name="CustomerSegmentation",
            in_protocol=HardenedSoap11(schema, frozenset(OPERATION_FAULTS)),
            out_protocol=Soap11(),
        )
        self.store = store
        self.authenticator = authenticator
        self.run_queue = run_queue  # where SubmitSegmentation and SegmentCustomers put runs
        self.treatments = treatments  # the thresholds GetPortfolio's cells are treated by
        self.churn = churn  # ScoreCustomerValue's churn risk thresholds

    def unit_of_work(self) -> UnitOfWork:
        return self.store.unit_of_work()

    def authenticate(self, ctx: Any) -> None:
        """Check the caller's UsernameToken and role; keep the caller in ``ctx.udc``.

        Done here rather than in a ``method_call`` listener: spyne turns anything but
        a Fault raised there into a bare Server fault, bypassing the mapping below.
        """
        operation = ctx.descriptor.name
        ctx.udc = self.authenticated(operation, ctx.in_header_doc)
        self.authorized(ctx.udc, operation)  # the caller known: the request log names it

    def authenticated(self, operation: str, header: Sequence[Any] | None) -> Caller | None:
        """The caller the SOAP header's UsernameToken proves; None when authentication is off."""
        if self.authenticator is None:
            return None
        try:
            token = read_username_token(header)
            return self.authenticator.authenticate(token, self.unit_of_work())
        except AuthenticationFailed as exc:
            logger.warning("%s refused: authentication failed: %s", operation, exc.reason)
            raise

    @staticmethod
    def authorized(caller: Caller | None, operation: str) -> None:
        """Refuse ``operation`` to a caller whose role does not allow it."""
        if caller is None:
            return
        try:
            authorize(caller, operation)
        except AccessDenied:
            logger.warning("%s refused: %r has role %r", operation, caller.username, caller.role)
            raise

    def call_wrapper(self, ctx: Any) -> Any:
        try:
            self.authenticate(ctx)
            return super().call_wrapper(ctx)
        except Fault:
            raise
        except Exception as exc:
            raise self.fault_of(exc, ctx.method_name) from exc

    @staticmethod
    def fault_of(error: Exception, operation: str) -> Fault:
        """The declared fault an operation's error is answered with.

        Anything that is not the caller's doing is a bug of ours: a Server fault with
        an incident reference, the details staying in the log.
        """
        if isinstance(error, Fault):
            return error
        if isinstance(error, SegmentationError):
            return fault_for(error)
        reference = incident_reference()
        logger.error("unhandled error in %s (reference %s)", operation, reference, exc_info=error)
        return InternalError(reference)


def no_forced_collections() -> None:
    """Stop spyne forcing gc.collect() once a second after a request.

    spyne does it to release file descriptors of uploads this service never
    takes; in a process holding pandas and scikit-learn a full collection
    costs one request 100-900 ms.
    """
    spyne_const.MIN_GC_INTERVAL = float("inf")


def quiet_spyne_logging() -> None:
    """spyne logs every client fault with a traceback and bad requests in full; we log our own."""
    for name in ("spyne.application.client", "spyne.server", "spyne.protocol"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def create_app(settings: Settings, store: Store | None = None) -> ObservedApp:
    """The WSGI application serving the contract, health check, metrics and the operations.

    Every request gets an id (``X-Request-ID``), one log line and its metrics.
    """
    quiet_spyne_logging()
    no_forced_collections()
    store = store or Store(settings.database_url)
    schema = CanonicalSchema(WSDL_DIRECTORY / XSD_FILE)
    application = SegmentationApplication(
        store,
        schema,
        authenticator(settings),
        run_queue(settings),
        treatment_policy(settings),
        ChurnThresholds(settings.churn_high_below, settings.churn_low_from),
    )
    soap = WsgiApplication(application, max_content_length=settings.max_request_bytes)
    instrument(soap)
    router = Router(
        soap,
        settings.soap_address,
        store.is_reachable,
        settings.max_request_bytes,
        metrics=exposition,
        hot_path=HotPath(soap, schema),
    )
    return ObservedApp(router)


def authenticator(settings: Settings) -> Authenticator | None:
    """The credential check, or None (with a warning) when SEGMENTATION_AUTH=off."""
    if not settings.auth:
        logger.warning(
            "authentication is OFF (SEGMENTATION_AUTH=off): anyone who can reach this "
            "server may call every operation"
        )
        return None
    cipher = PasswordCipher.from_settings(settings.secret_key, Path(DEFAULT_SECRET_KEY_FILE))
    return Authenticator(cipher, settings.auth_window_seconds)
