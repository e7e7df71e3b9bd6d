"""Errors the service layer raises; the SOAP layer maps each to a declared fault.

    SegmentationError
    ├── CustomerNotFound        (customer_id)
    ├── RunNotFound             (run_id)
    ├── SegmentNotFound         (run_id, segment_code)
    ├── ScheduleNotFound        (schedule_id)
    ├── InvalidRequest          (field, reason)
    │   └── InsufficientData    (reason, field) the data cannot support the request; also a
    │                           ValueError: the one error engines raise for a data condition
    ├── AuthenticationFailed    (reason)
    ├── AccessDenied            (operation, role)
    └── StoreUnavailable        (reason) the database cannot be reached now

Each maps to one declared fault (``FAULTS`` in soap/faults.py). Engines raise
``InsufficientData`` for a data condition (too few customers or respondents for
the segments asked for, no purchases, a model that cannot be fitted on this
data); any other exception from an engine is a bug: a Server fault whose
reference is logged with the traceback, never the engine's own message.

Standard library only.
"""

from __future__ import annotations


class SegmentationError(Exception):
    """Base class of every error a caller can be told about."""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as it is (message and attributes), not by calling __init__ again with the
        # message: a run's partitions raise these in other processes and on other machines.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(
    kind: type[SegmentationError], args: tuple[object, ...], attributes: dict[str, object]
) -> SegmentationError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(attributes)
    return error


class CustomerNotFound(SegmentationError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id!r} does not exist")
        self.customer_id = customer_id


class RunNotFound(SegmentationError):
    def __init__(self, run_id: int, detail: str = "does not exist") -> None:
        super().__init__(f"segmentation run {run_id} {detail}")
        self.run_id = run_id


class SegmentNotFound(SegmentationError):
    def __init__(self, run_id: int, segment_code: str) -> None:
        super().__init__(f"segmentation run {run_id} has no segment {segment_code!r}")
        self.run_id = run_id
        self.segment_code = segment_code


class ScheduleNotFound(SegmentationError):
    def __init__(self, schedule_id: int) -> None:
        super().__init__(f"segmentation schedule {schedule_id} does not exist")
        self.schedule_id = schedule_id


class PortfolioNotFound(SegmentationError):
    def __init__(self, portfolio_id: int) -> None:
        super().__init__(f"portfolio {portfolio_id} does not exist")
        self.portfolio_id = portfolio_id


class InvalidRequest(SegmentationError):
    """A request field broke a rule; ``field`` is its dotted path in the request."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class InsufficientData(InvalidRequest, ValueError):
    """The request is valid, but the stored data cannot support it; ``reason`` says why.

    Engines raise it with the reason alone, worded for the user (what is missing
    and what would do), and the service names the request ``field`` it concerns.
    It is a ``ValueError``, as scikit-learn expects of ``fit`` on data it cannot use.
    """

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(field, reason)


class AuthenticationFailed(SegmentationError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"authentication failed: {reason}")
        self.reason = reason


class AccessDenied(SegmentationError):
    def __init__(self, operation: str, role: str) -> None:
        super().__init__(f"role {role!r} may not call {operation}")
        self.operation = operation
        self.role = role


class StoreUnavailable(SegmentationError):
    def __init__(self, reason: str = "the customer store cannot be reached; retry later") -> None:
        super().__init__(reason)
        self.reason = reason
