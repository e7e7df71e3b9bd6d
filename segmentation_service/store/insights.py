"""The sums GetSegmentInsights tests: computed by the database, a few rows per feature.

Every query groups a run's customers in two: the segment (flag 1) and the rest of
the baseline (flag 0): the run's other assigned customers, or another segment's. Only
the sums leave the database, so a segment of millions costs memory for a few hundred
numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, Join, Table, case, cast, func, select
from sqlalchemy.orm import Session

from segmentation_service.domain.insights import FigureMoments, Moments, ShareCounts
from segmentation_service.store.tables import (
    AssignmentRow,
    CustomerRow,
    NeedResponseRow,
    TransactionRow,
    table,
)
from segmentation_service.store.transactions import dated_up_to

# Customer attributes tested as shares of each value ("region=North").
CATEGORIES = ("customer_type", "industry", "region", "country", "preferred_channel")
# Customer attributes tested as numbers.
NUMBERS = ("employee_count", "annual_revenue", "acquisition_cost", "annual_cost_to_serve")


@dataclass(frozen=True)
class Groups:
    """The segment of a run and its baseline (another segment; None: everyone assigned)."""

    run_id: int
    segment_code: str
    baseline_code: str | None = None


class InsightRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def attribute_shares(self, groups: Groups) -> list[ShareCounts]:
        """Each value of each category attribute: how many have it in each group."""
        c = table(CustomerRow).c
        flag = _flag(groups)
        sizes = dict(
            self._session.execute(
                select(flag, func.count()).where(*_members(groups)).group_by(flag)
            ).all()
        )
        shares: list[ShareCounts] = []
        for attribute in CATEGORIES:
            column = c[attribute]
            rows = self._session.execute(
                select(column, flag, func.count())
                .select_from(_joined(table(CustomerRow), c.customer_id))
                .where(*_members(groups), column.is_not(None))
                .group_by(column, flag)
            ).all()
            counts: dict[str, dict[int, int]] = {}
            for value, in_segment, count in rows:
                counts.setdefault(str(value), {})[int(in_segment)] = int(count)
            shares.extend(
                ShareCounts(
                    f"{attribute}={value}",
                    by_group.get(1, 0),
                    int(sizes.get(1, 0)),
                    by_group.get(0, 0),
                    int(sizes.get(0, 0)),
                )
                for value, by_group in sorted(counts.items())
            )
        return shares

    def attribute_figures(self, groups: Groups, as_of: date) -> list[FigureMoments]:
        """The number attributes, and the age of those with a birth year."""
        c = table(CustomerRow).c
        numbers: dict[str, ColumnElement[Any]] = {name: c[name] for name in NUMBERS}
        numbers["age"] = as_of.year - c.birth_year
        return self._moments(groups, table(CustomerRow), c.customer_id, numbers)

    def transaction_figures(self, groups: Groups, as_of: date) -> list[FigureMoments]:
        """Revenue (net of returns), margin and purchases up to ``as_of``; none: zeros."""
        t = table(TransactionRow).c
        purchase = t.amount >= 0
        per_customer = (
            select(
                t.customer_id,
                func.sum(t.amount).label("revenue"),
                func.sum(t.amount - func.coalesce(t.cost, 0.0)).label("margin"),
                func.count(case((purchase, 1))).label("purchases"),
            )
            .where(dated_up_to(self._session, as_of))
            .group_by(t.customer_id)
            .subquery("figures")
        )
        a = table(AssignmentRow).c
        flag = _flag(groups)
        figures = {
            name: func.coalesce(cast(per_customer.c[name], Float), 0.0)
            for name in ("revenue", "margin", "purchases")
        }
        columns = [flag]
        for figure in figures.values():
            columns += [func.count(), func.sum(figure), func.sum(figure * figure)]
        rows = self._session.execute(
            select(*columns)
            .select_from(
                table(AssignmentRow).outerjoin(
                    per_customer, per_customer.c.customer_id == a.customer_id
                )
            )
            .where(*_members(groups))
            .group_by(flag)
        ).all()
        return _split(list(figures), rows)

    def need_figures(self, groups: Groups) -> list[FigureMoments]:
        """Each need's stated score ("need:price") among the customers who answered it."""
        n = table(NeedResponseRow).c
        flag = _flag(groups)
        rows = self._session.execute(
            select(
                n.need, flag, func.count(n.score), func.sum(n.score), func.sum(n.score * n.score)
            )
            .select_from(_joined(table(NeedResponseRow), n.customer_id))
            .where(*_members(groups))
            .group_by(n.need, flag)
        ).all()
        moments: dict[str, dict[int, Moments]] = {}
        for need, in_segment, count, total, squares in rows:
            moments.setdefault(str(need), {})[int(in_segment)] = Moments(
                int(count), float(total or 0.0), float(squares or 0.0)
            )
        return [
            FigureMoments(f"need:{need}", groups_of.get(1, Moments()), groups_of.get(0, Moments()))
            for need, groups_of in sorted(moments.items())
        ]

    def overlaps(self, groups: Groups, run_ids: Sequence[int]) -> list[tuple[int, str, int]]:
        """(run, segment code, shared customers) for the segments of ``run_ids``."""
        if not run_ids:
            return []
        mine, theirs = table(AssignmentRow).alias("mine"), table(AssignmentRow).alias("theirs")
        rows = self._session.execute(
            select(theirs.c.run_id, theirs.c.segment_code, func.count())
            .select_from(mine.join(theirs, theirs.c.customer_id == mine.c.customer_id))
            .where(
                mine.c.run_id == groups.run_id,
                mine.c.segment_code == groups.segment_code,
                theirs.c.run_id.in_(list(run_ids)),
                theirs.c.segment_code.is_not(None),
            )
            .group_by(theirs.c.run_id, theirs.c.segment_code)
        ).all()
        return [(int(run), str(code), int(shared)) for run, code, shared in rows]

    def _moments(
        self,
        groups: Groups,
        source: Table,
        customer_id: ColumnElement[str],
        numbers: dict[str, ColumnElement[Any]],
    ) -> list[FigureMoments]:
        flag = _flag(groups)
        columns: list[ColumnElement[Any]] = [flag]
        for number in numbers.values():
            value = cast(number, Float)
            columns += [func.count(value), func.sum(value), func.sum(value * value)]
        rows = self._session.execute(
            select(*columns)
            .select_from(_joined(source, customer_id))
            .where(*_members(groups))
            .group_by(flag)
        ).all()
        return _split(list(numbers), rows)


def _flag(groups: Groups) -> ColumnElement[int]:
    a = table(AssignmentRow).c
    return case((a.segment_code == groups.segment_code, 1), else_=0)


def _members(groups: Groups) -> list[ColumnElement[bool]]:
    """The segment's and the baseline's customers (everyone assigned, or two segments)."""
    a = table(AssignmentRow).c
    if groups.baseline_code is None:
        return [a.run_id == groups.run_id, a.segment_code.is_not(None)]
    return [
        a.run_id == groups.run_id,
        a.segment_code.in_([groups.segment_code, groups.baseline_code]),
    ]


def _joined(source: Table, customer_id: ColumnElement[str]) -> Join:
    a = table(AssignmentRow)
    return a.join(source, customer_id == a.c.customer_id)


def _split(names: list[str], rows: Sequence[Any]) -> list[FigureMoments]:
    """Per-group rows of (flag, count, sum, squares per figure) into one per figure."""
    by_group: dict[int, Sequence[Any]] = {int(row[0]): row[1:] for row in rows}

    def moments(flag: int, position: int) -> Moments:
        values = by_group.get(flag)
        if values is None:
            return Moments()
        count, total, squares = values[3 * position : 3 * position + 3]
        return Moments(int(count or 0), float(total or 0.0), float(squares or 0.0))

    return [
        FigureMoments(name, moments(1, position), moments(0, position))
        for position, name in enumerate(names)
    ]
