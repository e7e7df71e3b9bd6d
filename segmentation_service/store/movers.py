"""The customers who moved between two runs' segments: keyset pages and their count.

Movers come from two branches, each read in customer id order from an index: the
customers the earlier run assigned (with their place in the later run, if any), and
those only the later run assigned (entered). Each branch is cut to the page size past
the cursor before the two are merged, so a page reads at most two pages' worth of
rows wherever it starts, and only the page is joined to the customers' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from segmentation_service.domain.model import Mover, MoverFilter
from segmentation_service.store.tables import AssignmentRow, CustomerRow, table


class MoverRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def page(self, movers: MoverFilter, after: str | None, limit: int) -> list[Mover]:
        """Up to ``limit`` movers with customer ids greater than ``after``, in id order."""
        cut = [_cut(branch, limit) for branch in _branches(movers, after)]
        merged = (cut[0] if len(cut) == 1 else union_all(*cut)).subquery("movers")
        page = select(*merged.c).order_by(merged.c.customer_id).limit(limit).subquery("page")
        c = table(CustomerRow).c
        named = (
            select(page, c.name)
            .select_from(page.outerjoin(table(CustomerRow), c.customer_id == page.c.customer_id))
            .order_by(page.c.customer_id)
        )
        return [
            Mover(
                customer_id=row.customer_id,
                name=row.name or "",
                from_segment_code=row.from_code,
                to_segment_code=row.to_code,
                value_before=row.value_before,
                value_after=row.value_after,
            )
            for row in self._session.execute(named)
        ]

    def count(self, movers: MoverFilter) -> int:
        """How many movers the filter selects (every page's)."""
        total = 0
        for branch in _branches(movers):
            counted = select(func.count()).select_from(branch.query.subquery())
            total += int(self._session.execute(counted).scalar_one())
        return total


@dataclass(frozen=True)
class _Branch:
    query: Select[Any]
    order: ColumnElement[str]  # the customer id column of the index that leads


def _cut(branch: _Branch, limit: int) -> Select[Any]:
    """The branch's first ``limit`` rows (past the cursor), in customer id order."""
    cut = branch.query.order_by(branch.order).limit(limit).subquery()
    return select(*cut.c)


def _branches(movers: MoverFilter, cursor: str | None = None) -> list[_Branch]:
    """The earlier run's assigned customers (moved, left, or stayed if asked), and entered.

    The cursor is put on each table's customer id (planners do not carry a range across
    a join's equality), so no index is read from the start of a run.
    """
    branches = [_from_earlier(movers, cursor)]
    if movers.from_segment_code is None and movers.tier_pairs is None:
        branches.append(_entered(movers, cursor))
    return branches


def _past(column: ColumnElement[str], cursor: str | None) -> list[ColumnElement[bool]]:
    return [] if cursor is None else [column > cursor]


def _from_earlier(movers: MoverFilter, cursor: str | None) -> _Branch:
    before = table(AssignmentRow).alias("before")
    after = table(AssignmentRow).alias("after")
    conditions: list[ColumnElement[bool]] = [
        before.c.run_id == movers.from_run_id,
        before.c.segment_code.is_not(None),
        *_past(before.c.customer_id, cursor),
    ]
    if movers.from_segment_code is not None:
        conditions.append(before.c.segment_code == movers.from_segment_code)
    if movers.to_segment_code is not None:
        conditions.append(after.c.segment_code == movers.to_segment_code)
    if not movers.stayers:
        conditions.append(
            or_(after.c.segment_code.is_(None), after.c.segment_code != before.c.segment_code)
        )
    if movers.tier_pairs is not None:
        pairs = sorted(movers.tier_pairs)
        conditions.append(
            tuple_(before.c.segment_code, after.c.segment_code).in_(pairs)
            if pairs
            else literal(False)
        )
    joined = and_(
        after.c.run_id == movers.to_run_id,
        after.c.customer_id == before.c.customer_id,
        *_past(after.c.customer_id, cursor),
    )
    query = (
        select(
            before.c.customer_id,
            before.c.segment_code.label("from_code"),
            after.c.segment_code.label("to_code"),
            before.c.value.label("value_before"),
            after.c.value.label("value_after"),
        )
        .select_from(before.outerjoin(after, joined))
        .where(*conditions)
    )
    # With a later segment named, that segment's index leads, ordered by its own column
    # (ordered by the other, the database would sort everything past the cursor).
    lead = after if movers.to_segment_code is not None else before
    return _Branch(query, lead.c.customer_id)


def _entered(movers: MoverFilter, cursor: str | None) -> _Branch:
    """Customers the later run assigned and the earlier one did not."""
    after = table(AssignmentRow).alias("after")
    before = table(AssignmentRow).alias("before")
    assigned_before = exists().where(
        before.c.run_id == movers.from_run_id,
        before.c.customer_id == after.c.customer_id,
        before.c.segment_code.is_not(None),
        *_past(before.c.customer_id, cursor),
    )
    conditions: list[ColumnElement[bool]] = [
        after.c.run_id == movers.to_run_id,
        after.c.segment_code.is_not(None),
        *_past(after.c.customer_id, cursor),
        ~assigned_before,
    ]
    if movers.to_segment_code is not None:
        conditions.append(after.c.segment_code == movers.to_segment_code)
    query = select(
        after.c.customer_id,
        cast(null(), String).label("from_code"),
        after.c.segment_code.label("to_code"),
        cast(null(), Float).label("value_before"),
        after.c.value.label("value_after"),
    ).where(*conditions)
    return _Branch(query, after.c.customer_id)
