"""What sets a segment apart (GetSegmentInsights, contract 1.5): the sums the store
computes and the answers the engine draws from them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShareCounts:
    """How many customers have ``feature`` (an attribute value such as ``region=North``)
    in the segment and in the rest of the baseline, out of how many in each."""

    feature: str
    in_segment: int
    segment_size: int
    in_rest: int
    rest_size: int


@dataclass(frozen=True)
class Moments:
    """Count, sum and sum of squares of a figure over a group of customers."""

    count: int = 0
    total: float = 0.0
    squares: float = 0.0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (0 for fewer than two values)."""
        if self.count < 2:
            return 0.0
        spread = self.squares - self.total * self.total / self.count
        return max(spread, 0.0) / (self.count - 1)

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.count + other.count, self.total + other.total, self.squares + other.squares
        )


@dataclass(frozen=True)
class FigureMoments:
    """A number (a need's score, a transaction figure) over the segment and the rest."""

    feature: str
    segment: Moments
    rest: Moments


@dataclass(frozen=True)
class Differentiator:
    """``lift``: a share's ratio to the baseline's; a number's difference from the
    baseline's mean in the baseline's standard deviations. ``p_value`` is adjusted for
    the number of features tested (Benjamini-Hochberg)."""

    feature: str
    segment_value: float
    baseline_value: float
    lift: float
    p_value: float


@dataclass(frozen=True)
class Overlap:
    """A segment of another method's latest completed run, and what it shares with this one."""

    method: str
    run_id: int
    segment_code: str
    segment_name: str
    shared_customers: int
    share_of_this_segment: float
    jaccard: float


@dataclass(frozen=True)
class SegmentInsights:
    run_id: int
    segment_code: str
    baseline: str | None  # a segment code; None: all the run's assigned customers
    differentiators: tuple[Differentiator, ...]
    overlaps: tuple[Overlap, ...]
