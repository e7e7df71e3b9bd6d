"""GetSegmentInsights: what sets a segment apart, and how it overlaps other methods' segments."""

from __future__ import annotations

from datetime import date

from segmentation_service.domain.errors import InvalidRequest, SegmentNotFound
from segmentation_service.domain.insights import Overlap, SegmentInsights
from segmentation_service.domain.model import SegmentationMethod, SegmentationRun
from segmentation_service.engines.insights import differentiators, jaccard
from segmentation_service.services.runs import completed_method
from segmentation_service.store.insights import Groups
from segmentation_service.store.uow import UnitOfWork


def get_segment_insights(
    run_id: int, segment_code: str, baseline: str | None, uow: UnitOfWork
) -> SegmentInsights:
    """Differentiators of the segment against ``baseline`` (another segment of the run;
    None: all its assigned customers), and its overlaps with the segments of the latest
    completed run of every other method."""
    with uow:
        method = completed_method(uow, run_id)
        run = uow.runs.get(run_id)
        assert run is not None
        sizes = {segment.code: segment.size for segment in run.segments}
        for code in (segment_code, baseline):
            if code is not None and code not in sizes:
                raise SegmentNotFound(run_id, code)
        if baseline == segment_code:
            raise InvalidRequest("baseline", "is the segment itself: name another segment")
        groups = Groups(run_id, segment_code, baseline)
        as_of = _as_of(run, uow.runs.model(run_id))
        shares = uow.insights.attribute_shares(groups)
        figures = [
            *uow.insights.attribute_figures(groups, as_of),
            *uow.insights.need_figures(groups),
            *uow.insights.transaction_figures(groups, as_of),
        ]
        others = [
            latest
            for other in SegmentationMethod
            if other is not method and (latest := uow.runs.latest_completed(other)) is not None
        ]
        shared = uow.insights.overlaps(groups, others)
        other_runs = {other: uow.runs.get(other) for other in others}
    overlaps = _overlaps(sizes[segment_code], shared, other_runs)
    return SegmentInsights(
        run_id,
        segment_code,
        baseline,
        tuple(differentiators(shares, figures, baseline_includes_segment=baseline is None)),
        overlaps,
    )


def _as_of(run: SegmentationRun, model: dict[str, object] | None) -> date:
    """The date the run looked at the data: its asOfDate where it had one, else its end."""
    recorded = (model or {}).get("as_of")
    if isinstance(recorded, str):
        return date.fromisoformat(recorded[:10])
    finished = run.finished_at or run.started_at
    return finished.date()


def _overlaps(
    size: int,
    shared: list[tuple[int, str, int]],
    runs: dict[int, SegmentationRun | None],
) -> tuple[Overlap, ...]:
    found = []
    for run_id, code, count in shared:
        run = runs.get(run_id)
        segment = None if run is None else next((s for s in run.segments if s.code == code), None)
        if run is None or segment is None:
            continue
        found.append(
            Overlap(
                method=run.method.value,
                run_id=run_id,
                segment_code=code,
                segment_name=segment.name,
                shared_customers=count,
                share_of_this_segment=count / size if size else 0.0,
                jaccard=jaccard(count, size, segment.size),
            )
        )
    found.sort(key=lambda o: (-o.shared_customers, o.method, o.segment_code))
    return tuple(found)
