"""The unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from segmentation_service.domain.errors import StoreUnavailable
from segmentation_service.store.assignments import AssignmentRepository
from segmentation_service.store.customers import CustomerRepository
from segmentation_service.store.errors import is_unavailability
from segmentation_service.store.needs import NeedRepository
from segmentation_service.store.runs import RunRepository
from segmentation_service.store.transactions import TransactionRepository
from segmentation_service.store.users import NonceRepository, UserRepository


class UnitOfWork:
    """``with uow:`` opens a transaction; leaving without ``commit()`` rolls it back.

    One instance may be entered again after it has been left, which is how a
    use case spans several transactions (e.g. recording a run before its work).
    """

    customers: CustomerRepository
    transactions: TransactionRepository
    needs: NeedRepository
    runs: RunRepository
    assignments: AssignmentRepository
    users: UserRepository
    nonces: NonceRepository

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        session = self._session = self._sessions()
        self.customers = CustomerRepository(session)
        self.transactions = TransactionRepository(session)
        self.needs = NeedRepository(session)
        self.runs = RunRepository(session)
        self.assignments = AssignmentRepository(session)
        self.users = UserRepository(session)
        self.nonces = NonceRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.rollback()
                session.close()
            except SQLAlchemyError:
                if exc is None:
                    raise
        if exc is not None and is_unavailability(exc):
            raise StoreUnavailable() from exc

    def another(self) -> UnitOfWork:
        """A separate unit of work on the same store (e.g. for another thread)."""
        return UnitOfWork(self._sessions)

    def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside 'with uow:'")
        self._session.commit()
