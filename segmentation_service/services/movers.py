"""ListSegmentMovers: the customers behind CompareSegmentationRuns' counts, page by page."""

from __future__ import annotations

import json
from dataclasses import replace

from segmentation_service.domain.errors import InvalidRequest, SegmentNotFound
from segmentation_service.domain.model import (
    MoveDirection,
    MoverFilter,
    MoverPage,
    SegmentationMethod,
)
from segmentation_service.engines.value_based import tier_ranks
from segmentation_service.services import paging
from segmentation_service.services.lookups import page_size_or_default
from segmentation_service.services.runs import completed_method
from segmentation_service.store.uow import UnitOfWork


def list_segment_movers(
    movers: MoverFilter,
    direction: MoveDirection | None,
    page_size: int | None,
    page_token: str | None,
    uow: UnitOfWork,
) -> MoverPage:
    """One page of movers in customer id order, the total, and the next page's token.

    ``movers`` names the runs and the cell (its ``tier_pairs`` are derived here from
    ``direction``). The first page counts the movers; its token carries the count on.
    """
    size = page_size_or_default(page_size)
    cursor = paging.decode_movers(page_token) if page_token is not None else None
    with uow:
        methods = [completed_method(uow, run) for run in (movers.from_run_id, movers.to_run_id)]
        for run_id, code in (
            (movers.from_run_id, movers.from_segment_code),
            (movers.to_run_id, movers.to_segment_code),
        ):
            if code is not None and uow.runs.segment(run_id, code) is None:
                raise SegmentNotFound(run_id, code)
        if direction is not None:
            movers = _with_direction(uow, movers, methods, direction)
        key = _filter_key(movers, direction)
        if cursor is not None and cursor.filter_key != key:
            raise InvalidRequest("pageToken", "belongs to other runs, segments or direction")
        total = cursor.total_count if cursor else uow.movers.count(movers)
        rows = uow.movers.page(movers, cursor.after if cursor else None, size + 1)
    next_token = None
    if len(rows) > size:
        rows = rows[:size]
        next_token = paging.encode_movers(paging.MoverCursor(key, rows[-1].customer_id, total))
    return MoverPage(total, tuple(rows), next_token)


def _with_direction(
    uow: UnitOfWork,
    movers: MoverFilter,
    methods: list[SegmentationMethod],
    direction: MoveDirection,
) -> MoverFilter:
    """The filter narrowed to the tier pairs that move in ``direction``."""
    for run_id, method in zip((movers.from_run_id, movers.to_run_id), methods, strict=True):
        if method is not SegmentationMethod.VALUE_BASED:
            raise InvalidRequest(
                "direction", f"applies to value-based runs; run {run_id} is a {method.value} run"
            )
    before, after = (
        tier_ranks((uow.runs.model(run_id) or {}).get("tier_codes", []))
        for run_id in (movers.from_run_id, movers.to_run_id)
    )
    up = direction is MoveDirection.UP
    pairs = frozenset(
        (start, end)
        for start, start_rank in before.items()
        for end, end_rank in after.items()
        if (end_rank < start_rank if up else end_rank > start_rank)
    )
    return replace(movers, tier_pairs=pairs)


def _filter_key(movers: MoverFilter, direction: MoveDirection | None) -> str:
    """What a page token is issued for: the runs, the codes and the direction."""
    return json.dumps(
        [
            movers.from_run_id,
            movers.to_run_id,
            movers.from_segment_code,
            movers.to_segment_code,
            None if direction is None else direction.value,
        ],
        separators=(",", ":"),
    )
