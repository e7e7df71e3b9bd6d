"""Portfolios, their cell owners and their evaluations (the history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segmentation_service.domain.model import Portfolio, SegmentationMethod, Treatment
from segmentation_service.store.runs import treatment_data, treatment_of
from segmentation_service.store.tables import (
    PortfolioCellRow,
    PortfolioEvaluationRow,
    PortfolioRow,
)
from segmentation_service.store.times import aware_utc, to_naive_utc


class DuplicatePortfolioName(Exception):
    pass


@dataclass(frozen=True)
class CellSettings:
    """What an analyst set on a cell: its owner and their treatment."""

    owner: str | None
    treatment: Treatment | None


class PortfolioRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        name: str,
        rows: SegmentationMethod,
        columns: SegmentationMethod,
        owner: str | None,
        objective: str | None,
        created_by: str | None,
        created_at: datetime,
    ) -> Portfolio:
        row = PortfolioRow(
            name=name,
            rows_method=rows.value,
            columns_method=columns.value,
            owner=owner,
            objective=objective,
            created_by=created_by,
            created_at=to_naive_utc(created_at),
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError as exc:
            raise DuplicatePortfolioName(name) from exc
        return _portfolio(row)

    def get(self, portfolio_id: int) -> Portfolio | None:
        row = self._session.get(PortfolioRow, portfolio_id)
        return None if row is None else _portfolio(row)

    def all(self) -> list[Portfolio]:
        query = select(PortfolioRow).order_by(PortfolioRow.portfolio_id)
        return [_portfolio(row) for row in self._session.scalars(query)]

    def using(self, method: SegmentationMethod) -> list[Portfolio]:
        """The portfolios that cross a segmentation of ``method``."""
        query = (
            select(PortfolioRow)
            .where(
                (PortfolioRow.rows_method == method.value)
                | (PortfolioRow.columns_method == method.value)
            )
            .order_by(PortfolioRow.portfolio_id)
        )
        return [_portfolio(row) for row in self._session.scalars(query)]

    def delete(self, portfolio_id: int) -> bool:
        for kind in (PortfolioEvaluationRow, PortfolioCellRow):
            self._session.execute(delete(kind).where(kind.portfolio_id == portfolio_id))
        deleted = self._session.execute(
            delete(PortfolioRow).where(PortfolioRow.portfolio_id == portfolio_id)
        )
        return bool(getattr(deleted, "rowcount", 0))

    def set_cell_owner(
        self, portfolio_id: int, row_segment: str, column_segment: str, owner: str
    ) -> None:
        self._cell(portfolio_id, row_segment, column_segment).owner = owner
        self._session.flush()

    def set_cell_treatment(
        self, portfolio_id: int, row_segment: str, column_segment: str, treatment: Treatment
    ) -> None:
        cell = self._cell(portfolio_id, row_segment, column_segment)
        cell.treatment_override = treatment_data(treatment)
        self._session.flush()

    def cells(self, portfolio_id: int) -> dict[tuple[str, str], CellSettings]:
        """Owner and overridden treatment by (row segment name, column segment name)."""
        query = select(PortfolioCellRow).where(PortfolioCellRow.portfolio_id == portfolio_id)
        return {
            (row.row_segment, row.column_segment): CellSettings(
                row.owner, treatment_of(row.treatment_override, overridden=True)
            )
            for row in self._session.scalars(query)
        }

    def _cell(self, portfolio_id: int, row_segment: str, column_segment: str) -> PortfolioCellRow:
        key = (portfolio_id, row_segment, column_segment)
        row = self._session.get(PortfolioCellRow, key)
        if row is None:
            row = PortfolioCellRow(
                portfolio_id=portfolio_id, row_segment=row_segment, column_segment=column_segment
            )
            self._session.add(row)
        return row

    def add_evaluation(
        self,
        portfolio_id: int,
        evaluated_at: datetime,
        rows_run_id: int,
        columns_run_id: int,
        value_run_id: int | None,
        figures: dict[str, Any],
    ) -> int:
        row = PortfolioEvaluationRow(
            portfolio_id=portfolio_id,
            evaluated_at=to_naive_utc(evaluated_at),
            rows_run_id=rows_run_id,
            columns_run_id=columns_run_id,
            value_run_id=value_run_id,
            figures=figures,
        )
        self._session.add(row)
        self._session.flush()
        return int(row.evaluation_id)

    def evaluations(
        self, portfolio_id: int, last_only: bool = False
    ) -> list[tuple[int, datetime, int, int, int | None, dict[str, Any]]]:
        """(id, evaluated_at, rows run, columns run, value run, figures), oldest first
        (only the latest with ``last_only``)."""
        query = select(PortfolioEvaluationRow).where(
            PortfolioEvaluationRow.portfolio_id == portfolio_id
        )
        if last_only:
            query = query.order_by(PortfolioEvaluationRow.evaluation_id.desc()).limit(1)
        else:
            query = query.order_by(PortfolioEvaluationRow.evaluation_id)
        return [
            (
                row.evaluation_id,
                aware_utc(row.evaluated_at),
                row.rows_run_id,
                row.columns_run_id,
                row.value_run_id,
                row.figures,
            )
            for row in self._session.scalars(query)
        ]


def _portfolio(row: PortfolioRow) -> Portfolio:
    return Portfolio(
        portfolio_id=row.portfolio_id,
        name=row.name,
        rows=SegmentationMethod(row.rows_method),
        columns=SegmentationMethod(row.columns_method),
        created_at=aware_utc(row.created_at),
        owner=row.owner,
        objective=row.objective,
        created_by=row.created_by,
    )
