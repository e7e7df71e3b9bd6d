"""The unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from segmentation_service.domain.errors import StoreUnavailable
from segmentation_service.store.errors import is_unavailability
from segmentation_service.store.movers import MoverRepository
from segmentation_service.store.portfolios import PortfolioRepository
from segmentation_service.store.reads import LookupReads, LookupStore
from segmentation_service.store.run_states import RunStateRepository
from segmentation_service.store.runs import RunRepository
from segmentation_service.store.schedules import ScheduleRepository
from segmentation_service.store.users import NonceRepository, UserRepository

if TYPE_CHECKING:
    from segmentation_service.store.assignments import AssignmentRepository
    from segmentation_service.store.customers import CustomerRepository
    from segmentation_service.store.insights import InsightRepository
    from segmentation_service.store.needs import NeedRepository
    from segmentation_service.store.transactions import TransactionRepository


class _Repository(Protocol):
    def __init__(self, session: Session) -> None: ...


Repository = TypeVar("Repository", bound=_Repository)
Result = TypeVar("Result")


class UnitOfWork:
    """``with uow:`` opens a transaction; leaving without ``commit()`` rolls it back.

    One instance may be entered again after it has been left, which is how a
    use case spans several transactions (e.g. recording a run before its work).
    """

    runs: RunRepository
    run_states: RunStateRepository
    schedules: ScheduleRepository
    portfolios: PortfolioRepository
    movers: MoverRepository
    users: UserRepository
    nonces: NonceRepository

    def __init__(self, sessions: sessionmaker[Session], lookups: LookupStore) -> None:
        self._sessions = sessions
        self._lookups = lookups
        self._session: Session | None = None
        self._data: dict[type, object] = {}

    def __enter__(self) -> UnitOfWork:
        session = self._session = self._sessions()
        self._data = {}
        self.runs = RunRepository(session)
        self.run_states = RunStateRepository(session)
        self.schedules = ScheduleRepository(session)
        self.portfolios = PortfolioRepository(session)
        self.movers = MoverRepository(session)
        self.users = UserRepository(session)
        self.nonces = NonceRepository(session)
        return self

    # The repositories of customer data read and write pandas frames; they load on first
    # use, so commands that only touch users or runs (`users`, `config`) start at once.
    @property
    def customers(self) -> CustomerRepository:
        from segmentation_service.store.customers import CustomerRepository

        return self._data_repository(CustomerRepository)

    @property
    def transactions(self) -> TransactionRepository:
        from segmentation_service.store.transactions import TransactionRepository

        return self._data_repository(TransactionRepository)

    @property
    def needs(self) -> NeedRepository:
        from segmentation_service.store.needs import NeedRepository

        return self._data_repository(NeedRepository)

    @property
    def insights(self) -> InsightRepository:
        from segmentation_service.store.insights import InsightRepository

        return self._data_repository(InsightRepository)

    @property
    def assignments(self) -> AssignmentRepository:
        from segmentation_service.store.assignments import AssignmentRepository

        return self._data_repository(AssignmentRepository)

    def _data_repository(self, kind: type[Repository]) -> Repository:
        if self._session is None:
            raise RuntimeError("repositories are used inside 'with uow:'")
        found = self._data.get(kind)
        if found is None:
            found = self._data[kind] = kind(self._session)
        return found  # type: ignore[return-value]  # keyed by its own type

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

    @property
    def database_url(self) -> str:
        """The store's URL, password included: what another process opens the store with."""
        bind = self._sessions.kw["bind"]
        return str(bind.url.render_as_string(hide_password=False))

    def another(self) -> UnitOfWork:
        """A separate unit of work on the same store (e.g. for another thread)."""
        return UnitOfWork(self._sessions, self._lookups)

    def read(self, lookup: Callable[[LookupReads], Result]) -> Result:
        """The answer of a lookup's reads, outside any transaction (store/reads.py).

        For the reads of one CRM screen; a use case that also writes, or needs a
        snapshot, enters the unit of work instead.
        """
        try:
            return self._lookups.read(lookup)
        except SQLAlchemyError as exc:
            if is_unavailability(exc):
                raise StoreUnavailable() from exc
            raise

    def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside 'with uow:'")
        self._session.commit()
