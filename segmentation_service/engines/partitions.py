"""Runs in partitions: what a method computes per partition, merges, and fits once.

A run splits its customers into partitions by customer_id range and never holds
more than one partition's rows in a process. Each method is a ``PartitionPlan``:

1. ``summarise`` each partition into a bounded summary (counts, distinct rows,
   sorted values, a sample), ``combine`` summaries as they arrive, and ``fit`` the
   run's global model on them;
2. when ``refines(model)``, a second pass: ``refine`` each partition against the
   model and ``settle`` the model on those refinements (value tiers ranked by a
   quantity only the fitted model can compute, such as predicted CLV);
3. ``assign`` each partition with the model: its assignment rows and a partial
   (per-segment sums and whatever else the method merges);
4. ``finish``: the segments, metrics and stored model from the merged partials.

Plans, summaries, models and partials are plain picklable values: partitions
run in other processes or on other machines. The same request and seed give the
same result whatever the partition size (``tests/engines/test_partitions*``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from segmentation_service.domain.model import Segment, SegmentDefinition
from segmentation_service.engines.behaviour_features import BehaviourCounts

ASSIGNMENT_COLUMNS = ("customer_id", "segment_code", "score", "value", "reason")

DEFAULT_HASH_KEY = "0123456789123456"  # pandas' own: the sample keys without a seed


def sample_keys(customer_ids: pd.Index, random_seed: int | None) -> npt.NDArray[np.uint64]:
    """Each customer's pseudo-random key for a fit sample, from the seed and the id alone."""
    hash_key = DEFAULT_HASH_KEY
    if random_seed is not None:
        hash_key = hashlib.blake2b(str(random_seed).encode(), digest_size=8).hexdigest()
    keys: npt.NDArray[np.uint64] = pd.util.hash_array(
        np.asarray(customer_ids, dtype=object), hash_key=hash_key
    )
    return keys


class Stage(str, Enum):
    """A pass over the partitions; only ``ASSIGN`` needs every frame of ``PartitionInput``."""

    SUMMARISE = "summarise"
    REFINE = "refine"
    ASSIGN = "assign"


@dataclass(frozen=True)
class PartitionInput:
    """One partition's customers, in customer_id order, as the store gives them.

    ``customers``: every customer column, indexed by customer_id (sorted).
    ``features``: ``value_features`` plus ``annual_cost_to_serve`` for value-based
    runs, ``money_features`` for the others; same index.
    ``responses``: long-format needs answers (customer_id, need, score) of these
    customers for needs-based runs, else None.
    ``profitability``: ``customer_profitability`` (revenue, cost); same index.
    ``behaviour``: the behaviour counts in the run's window for behavioural runs, else None.
    ``answers``: where the needs are known (the refine and assign passes of needs-based
    runs), the customer × need scores as the database pivoted them, in place of
    ``responses`` (then None).

    The summarise and refine passes read only what their method needs there (a
    priori: the customers; needs-based: the answers and the customer ids;
    value-based: the transaction features; behavioural: the behaviour counts and
    the customer ids); the other frames are then empty frames on the same index.
    """

    customers: pd.DataFrame
    features: pd.DataFrame
    responses: pd.DataFrame | None
    profitability: pd.DataFrame
    behaviour: BehaviourCounts | None = None
    answers: pd.DataFrame | None = None


@dataclass(frozen=True)
class SegmentTotals:
    """Per segment code: customers, value count and sum, revenue and cost; mergeable."""

    size: Mapping[str, int] = field(default_factory=dict)
    value_count: Mapping[str, int] = field(default_factory=dict)
    value_sum: Mapping[str, float] = field(default_factory=dict)
    revenue: Mapping[str, float] = field(default_factory=dict)
    cost: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        labels: npt.NDArray[np.object_],
        values: npt.ArrayLike,
        profitability: pd.DataFrame,
    ) -> SegmentTotals:
        """Totals of one partition's assigned customers (labels None are left out)."""
        frame = pd.DataFrame(
            {
                "code": labels,
                "value": np.asarray(values, dtype=float),
                "revenue": profitability["revenue"].to_numpy(dtype=float),
                "cost": profitability["cost"].to_numpy(dtype=float),
            }
        ).dropna(subset=["code"])
        grouped = frame.groupby("code")
        sums = grouped[["value", "revenue", "cost"]].sum()
        return cls(
            size={str(k): int(v) for k, v in grouped.size().items()},
            value_count={str(k): int(v) for k, v in grouped["value"].count().items()},
            value_sum={str(k): float(v) for k, v in sums["value"].items()},
            revenue={str(k): float(v) for k, v in sums["revenue"].items()},
            cost={str(k): float(v) for k, v in sums["cost"].items()},
        )

    @classmethod
    def merge(cls, parts: Sequence[SegmentTotals]) -> SegmentTotals:
        def add(name: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for part in parts:
                for code, amount in getattr(part, name).items():
                    out[code] = out.get(code, 0) + amount
            return out

        return cls(*(add(name) for name in ("size", "value_count", "value_sum", "revenue", "cost")))

    @property
    def assigned(self) -> int:
        return sum(self.size.values())

    def segments(self, definitions: Sequence[SegmentDefinition]) -> list[Segment]:
        """``summarise_segments`` from the totals: the non-empty segments, in definition order."""
        assigned = self.assigned
        out = []
        for definition in definitions:
            size = self.size.get(definition.code, 0)
            if not size:
                continue
            total = self.value_sum.get(definition.code, 0.0)
            counted = self.value_count.get(definition.code, 0)
            out.append(
                Segment(
                    code=definition.code,
                    name=definition.name,
                    description=definition.description,
                    size=size,
                    share=size / assigned,
                    total_value=_finite(total),
                    average_value=_finite(total / counted) if counted else 0.0,
                    profile=definition.profile,
                    revenue=_finite(self.revenue.get(definition.code, 0.0)),
                    cost=_finite(self.cost.get(definition.code, 0.0)),
                )
            )
        return out


@dataclass(frozen=True)
class PartitionOutput:
    """One partition's assignment rows (``ASSIGNMENT_COLUMNS``, one per customer, in order)
    and the partial its plan merges in ``finish``."""

    assignments: pd.DataFrame
    partial: Any


@dataclass(frozen=True)
class RunOutcome:
    """What a run keeps besides its assignments."""

    segments: list[Segment]
    metrics: dict[str, float]
    model: dict[str, Any] | None = None


class PartitionPlan(Protocol):
    """A method's run, partition by partition (see the module docstring).

    Summaries, models, refinements and partials are each method's own picklable
    types; the driver only carries them between the stages, hence ``Any`` here.
    """

    def summarise(self, data: PartitionInput) -> Any: ...

    def combine(self, summaries: Sequence[Any]) -> Any:
        """One summary standing for several: the driver folds summaries as they arrive,
        so it never holds one per partition (``fit([combine(s)]) == fit(s)``)."""
        ...

    def fit(self, summaries: Sequence[Any]) -> Any: ...

    def refines(self, model: Any) -> bool: ...

    def refine(self, data: PartitionInput, model: Any) -> Any: ...

    def settle(self, model: Any, refinements: Sequence[Any]) -> Any: ...

    def assign(self, data: PartitionInput, model: Any) -> PartitionOutput: ...

    def finish(self, model: Any, partials: Sequence[Any]) -> RunOutcome: ...


def assignment_frame(
    customer_ids: pd.Index,
    labels: npt.NDArray[np.object_],
    scores: npt.ArrayLike,
    values: npt.ArrayLike,
    reasons: npt.NDArray[np.object_],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": customer_ids,
            "segment_code": labels,
            "score": np.asarray(scores, dtype=float),
            "value": np.asarray(values, dtype=float),
            "reason": reasons,
        }
    )


def _finite(number: float) -> float:
    return float(number) if np.isfinite(number) else 0.0
