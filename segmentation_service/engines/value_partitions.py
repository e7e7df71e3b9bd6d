"""Value-based runs in partitions: the tiers, scores and model of ``ValueBasedSegmenter``.

What is global in a value-based run, and how the partitions supply it:

- RFM quintile thresholds: each partition's buyers as ``ValueCounts`` (sorted distinct
  values and how many buyers have each) of minus the recency days, the purchase count and
  the revenue; merged, the value at each threshold's position is ``rfm.quantile_thresholds``'.
- BG/NBD and Gamma–Gamma: fitted on the distinct (x, t_x, T) and (x, m̄) rows, with
  counts (``DistinctRows``), of the CLV fit sample: the at most ``clv_fit_sample_size``
  buyers with the smallest keys, a pseudo-random hash of the customer_id (``BuyerSample``),
  the same whatever the partitioning. Up to that many buyers the sample is every buyer and
  the likelihood the in-memory engine's; beyond, the fit's time and memory stop growing
  (nearly every buyer's (x, t_x, T) is distinct: the rows grow with the store).
- Tier floors, each tier's value range and every buyer's percent-rank score: the buyers'
  metric values as ``ValueCounts``. Revenue and margin come with the summaries; an RFM
  total needs the thresholds and a CLV the fitted models, so those run a ``refine`` pass.

Memory: a summary holds about 9–12 bytes per distinct revenue (and margin) value and 48
per sampled buyer (at most ``clv_fit_sample_size``), besides tables bounded by the
observation window; the model carries the buyers' metric values as ``ValueCounts`` to
``assign`` (at most 13 entries for Rfm, about 9–12 bytes per distinct value otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.domain.model import SegmentDefinition, ValueMetric
from segmentation_service.engines import clv, rfm
from segmentation_service.engines.holdout import HoldoutWindow, holdout_metrics
from segmentation_service.engines.partitions import (
    PartitionInput,
    PartitionOutput,
    RunOutcome,
    SegmentTotals,
    assignment_frame,
    sample_keys,
)
from segmentation_service.engines.value_based import (
    REQUIRED_COLUMNS,
    ValueModel,
    clv_metrics,
    covariance_list,
    fitted_params,
    no_purchases_reason,
    predict_clv,
    rfm_scores,
    tier_bounds,
    tier_definitions,
    tier_names,
    tier_of,
    tier_positions,
    tier_reasons,
    with_margin_rate_of,
)

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.unsignedinteger[Any]]
KeyArray = npt.NDArray[np.uint64]

# Buyers the BG/NBD and Gamma–Gamma models are fitted on. At 1M customers (~860k buyers,
# ~650k distinct (x, t_x, T) rows) the fits took ~4 s; at 10M, on every buyer, 44 s and
# ~1 GB. A random million buyers' estimates differ from the whole store's by sampling
# error alone, of the order of 1/√10⁶ = 0.1% (the fit's covariance, which the prediction
# intervals use, is the sample's: honest about it). Up to a million buyers: every buyer.
CLV_FIT_SAMPLE_SIZE = 1_000_000


@dataclass(frozen=True)
class ValueCounts:
    """Sorted distinct values and how many buyers have each (smallest unsigned type)."""

    values: FloatArray
    counts: CountArray

    @classmethod
    def of(cls, data: npt.ArrayLike) -> ValueCounts:
        values, counts = np.unique(np.asarray(data, dtype=np.float64), return_counts=True)
        return cls(values, _compact(counts))

    @classmethod
    def merge(cls, parts: Sequence[ValueCounts]) -> ValueCounts:
        stacked = np.concatenate([np.empty(0), *(part.values for part in parts)])
        values, inverse = np.unique(stacked, return_inverse=True)
        weights = np.concatenate([np.empty(0), *(part.counts.astype(np.float64) for part in parts)])
        counts = np.bincount(inverse, weights=weights, minlength=len(values))
        return cls(values, _compact(counts.astype(np.int64)))

    @property
    def total(self) -> int:
        return int(self.counts.sum(dtype=np.int64))

    def at(self, positions: Sequence[int]) -> list[float]:
        """The values at 0-based positions of all the values sorted ascending."""
        ends = np.cumsum(self.counts, dtype=np.int64)
        return [float(self.values[np.searchsorted(ends, p, side="right")]) for p in positions]

    def percent_rank(self, data: FloatArray) -> FloatArray:
        """Rank of each value among these, ties averaged, over their number: pandas'
        ``rank(pct=True)`` over all of them."""
        ends = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])
        below = ends[np.searchsorted(self.values, data, side="left")]
        through = ends[np.searchsorted(self.values, data, side="right")]
        return np.asarray((below + 1 + through) / 2 / self.total, dtype=np.float64)


@dataclass(frozen=True)
class DistinctRows:
    """Distinct rows of some columns in ``clv``'s order, and how many buyers have each."""

    rows: FloatArray  # (distinct rows, columns)
    counts: FloatArray  # whole numbers, as clv weighs rows

    @classmethod
    def of(cls, *columns: npt.ArrayLike) -> DistinctRows:
        rows, _, counts = clv._distinct(*(np.asarray(c, dtype=np.float64) for c in columns))
        return cls(rows, counts)


# A sampled buyer's CLV inputs: BG/NBD's (x, t_x, T), Gamma–Gamma's m̄, the hold-out's count.
SAMPLE_COLUMNS = ("frequency", "recency_weeks", "T_weeks", "repeat_spend_mean", "holdout_purchases")


@dataclass(frozen=True)
class BuyerSample:
    """The buyers with the smallest sample keys, at most ``size`` of them: each one's key and
    CLV inputs, ``SAMPLE_COLUMNS`` (holdout purchases NaN without a hold-out window)."""

    keys: KeyArray
    rows: FloatArray  # (buyers, len(SAMPLE_COLUMNS))

    @classmethod
    def of(cls, buyers: pd.DataFrame, size: int) -> BuyerSample:
        """``buyers``' own, cut to ``size``: their features hold every column but the
        hold-out purchases, which only runs with a hold-out window have."""
        rows = np.full((len(buyers), len(SAMPLE_COLUMNS)), np.nan)
        for position, name in enumerate(SAMPLE_COLUMNS):
            if name in buyers.columns:
                rows[:, position] = buyers[name].to_numpy(dtype=np.float64)
        return cls(sample_keys(buyers.index, None), rows)._cut(size)

    @classmethod
    def merge(cls, parts: Sequence[BuyerSample], size: int) -> BuyerSample:
        keys = np.concatenate([np.empty(0, np.uint64), *(part.keys for part in parts)])
        rows = np.concatenate([np.empty((0, len(SAMPLE_COLUMNS))), *(p.rows for p in parts)])
        return cls(keys, rows)._cut(size)

    def _cut(self, size: int) -> BuyerSample:
        """The ``size`` smallest keys; among equal keys at the cut, the smallest rows (a
        customer_id hash collision: the same buyers whatever the order of the parts)."""
        if len(self.keys) <= size:
            return self
        kth = np.partition(self.keys, size - 1)[size - 1]
        keep = self.keys < kth
        tied = np.flatnonzero(self.keys == kth)
        by_row = tied[np.lexsort(self.rows[tied].T[::-1])]
        keep[by_row[: size - int(keep.sum())]] = True
        return BuyerSample(self.keys[keep], self.rows[keep])

    def purchase_rows(self) -> DistinctRows:
        """(x, t_x, T): BG/NBD's rows."""
        return DistinctRows.of(*self.rows[:, :3].T)

    def spend_rows(self) -> DistinctRows:
        """(x, m̄) of the repeat buyers who paid for their repeat purchases: Gamma–Gamma's."""
        paid = self.rows[(self.rows[:, 0] > 0) & (self.rows[:, 3] > 0)]
        return DistinctRows.of(paid[:, 0], paid[:, 3])

    def holdout_rows(self) -> DistinctRows:
        """(x, t_x, T, purchases after as_of): the hold-out check's input."""
        return DistinctRows.of(*self.rows[:, :3].T, self.rows[:, 4])


@dataclass(frozen=True)
class ValueSummary:
    """One partition's buyers, bounded: value tables and the CLV fit sample's buyers.

    ``margin`` only when the run ranks by margin.
    """

    buyers: int
    recency: ValueCounts  # minus the days since the last purchase
    purchases: ValueCounts
    revenue: ValueCounts
    margin: ValueCounts | None
    clv_sample: BuyerSample  # the CLV fits' buyers among these
    # Every customer's revenue and margin, summed: the population's margin rate, which
    # stands in for the own rate of a buyer without positive revenue (value_features).
    revenue_sum: float = 0.0
    margin_sum: float = 0.0


@dataclass(frozen=True)
class ClvFit:
    """The run's BG/NBD and Gamma–Gamma fits, their metrics, and why a fit is missing."""

    bgnbd: clv.BetaGeoParams | None
    gamma_gamma: clv.GammaGammaParams | None
    metrics: dict[str, float]
    clv_unavailable_reason: str | None = None
    spend_model_reason: str | None = None


@dataclass(frozen=True)
class ValuePlanModel:
    """A fitted value-based run: ``value`` is what the run stores, ``ranked`` the buyers'
    metric values and ``bounds`` each tier's (lowest, highest) value; until settled,
    ``value.tier_floors`` is empty and ``ranked`` None."""

    value: ValueModel
    metrics: dict[str, float]
    clv: ClvFit
    ranked: ValueCounts | None = None
    bounds: tuple[tuple[float, float], ...] = ()

    @property
    def segments(self) -> list[SegmentDefinition]:
        return tier_definitions(self.value, self.bounds)


class ValueBasedPartitionPlan:
    """``PartitionPlan`` of a ``ValueBasedSegmenter`` with the same parameters.

    Parameters
    ----------
    value_metric : {"Revenue", "Margin", "Rfm", "Clv"}, default="Margin"
    tier_count : int, default=4
    as_of : date or None, default=None
    horizon_months : int, default=12
    annual_discount_rate : float, default=0.10
    holdout : HoldoutWindow or None, default=None
        The weeks after ``as_of`` to check the BG/NBD model against (``engines.holdout``);
        the partitions' features then carry ``holdout_purchases``.
    clv_fit_sample_size : int, default=CLV_FIT_SAMPLE_SIZE
        At most this many buyers are the CLV models' fit sample (see the module docstring).
    """

    def __init__(
        self,
        value_metric: str = "Margin",
        tier_count: int = 4,
        as_of: date | None = None,
        horizon_months: int = 12,
        annual_discount_rate: float = 0.10,
        holdout: HoldoutWindow | None = None,
        clv_fit_sample_size: int = CLV_FIT_SAMPLE_SIZE,
    ) -> None:
        if isinstance(clv_fit_sample_size, bool) or clv_fit_sample_size < 1:
            raise ValueError(f"clv_fit_sample_size must be at least 1, got {clv_fit_sample_size!r}")
        self.value_metric = value_metric
        self.tier_count = tier_count
        self.as_of = as_of
        self.horizon_months = horizon_months
        self.annual_discount_rate = annual_discount_rate
        self.holdout = holdout
        self.clv_fit_sample_size = clv_fit_sample_size

    def _metric(self) -> str:
        metric = ValueMetric(self.value_metric).value
        if self.tier_count < 1:
            raise ValueError(f"tier_count must be at least 1, got {self.tier_count}")
        return metric

    def summarise(self, data: PartitionInput) -> ValueSummary:
        metric = self._metric()
        missing = [column for column in REQUIRED_COLUMNS if column not in data.features.columns]
        if missing:
            raise ValueError(f"X lacks the column(s) {', '.join(missing)}")
        buyers = _buyers(data)
        return ValueSummary(
            buyers=len(buyers),
            recency=ValueCounts.of(-buyers["recency_days"].astype(float)),
            purchases=ValueCounts.of(buyers["purchase_count"]),
            revenue=ValueCounts.of(buyers["revenue"]),
            margin=ValueCounts.of(buyers["margin"]) if metric == "Margin" else None,
            clv_sample=BuyerSample.of(buyers, self.clv_fit_sample_size),
            revenue_sum=math.fsum(data.features["revenue"].to_numpy(float)),
            margin_sum=math.fsum(data.features["margin"].to_numpy(float)),
        )

    def combine(self, summaries: Sequence[ValueSummary]) -> ValueSummary:
        margins = [s.margin for s in summaries if s.margin is not None]
        return ValueSummary(
            buyers=sum(s.buyers for s in summaries),
            recency=ValueCounts.merge([s.recency for s in summaries]),
            purchases=ValueCounts.merge([s.purchases for s in summaries]),
            revenue=ValueCounts.merge([s.revenue for s in summaries]),
            margin=ValueCounts.merge(margins) if margins else None,
            clv_sample=self._sample_of(summaries),
            revenue_sum=math.fsum(s.revenue_sum for s in summaries),
            margin_sum=math.fsum(s.margin_sum for s in summaries),
        )

    def _sample_of(self, summaries: Sequence[ValueSummary]) -> BuyerSample:
        return BuyerSample.merge([s.clv_sample for s in summaries], self.clv_fit_sample_size)

    def fit(self, summaries: Sequence[ValueSummary]) -> ValuePlanModel:
        """Thresholds and CLV fits; floors too for Revenue and Margin. InsufficientData
        for fewer buyers than tiers, or for Clv without a BG/NBD fit."""
        metric = self._metric()
        buyers = sum(summary.buyers for summary in summaries)
        if buyers < self.tier_count:
            raise InsufficientData(
                f"{buyers} customers have purchases; {self.tier_count} tiers need at least "
                f"{self.tier_count}"
            )
        revenue = ValueCounts.merge([summary.revenue for summary in summaries])
        thresholds = {
            "recency": _quantile_thresholds(ValueCounts.merge([s.recency for s in summaries])),
            "frequency": _quantile_thresholds(ValueCounts.merge([s.purchases for s in summaries])),
            "monetary": _quantile_thresholds(revenue),
        }
        revenue_sum = math.fsum(summary.revenue_sum for summary in summaries)
        margin_sum = math.fsum(summary.margin_sum for summary in summaries)
        rate = margin_sum / revenue_sum if revenue_sum > 0 else 0.0
        sample = self._sample_of(summaries)
        fitted = _fit_clv(sample.purchase_rows(), sample.spend_rows(), metric)
        value = ValueModel(
            as_of=self.as_of or date.today(),
            metric=metric,
            tier_codes=[f"V{k}" for k in range(1, self.tier_count + 1)],
            tier_names=tier_names(self.tier_count),
            tier_floors=[],
            rfm_thresholds=thresholds,
            bgnbd=None if fitted.bgnbd is None else fitted_params(fitted.bgnbd),
            gamma_gamma=None if fitted.gamma_gamma is None else fitted_params(fitted.gamma_gamma),
            bgnbd_log_covariance=covariance_list(fitted.bgnbd),
            horizon_months=self.horizon_months,
            annual_discount_rate=self.annual_discount_rate,
            population_margin_rate=rate,
        )
        metrics = {"value.customersWithPurchases": float(buyers), **fitted.metrics}
        if fitted.bgnbd is not None and self.holdout is not None:
            holdout_rows = sample.holdout_rows()
            metrics.update(
                holdout_metrics(fitted.bgnbd, holdout_rows.rows, holdout_rows.counts, self.holdout)
            )
        model = ValuePlanModel(value, metrics, fitted)
        if metric == "Revenue":
            return _settled(model, revenue)
        if metric == "Margin":
            margins = [s.margin for s in summaries if s.margin is not None]
            return _settled(model, ValueCounts.merge(margins))
        return model

    def refines(self, model: ValuePlanModel) -> bool:
        """True until the buyers' metric values are known: RFM totals and CLVs."""
        return model.ranked is None

    def refine(self, data: PartitionInput, model: ValuePlanModel) -> ValueCounts:
        return ValueCounts.of(_values(_buyers(data), model))

    def settle(self, model: ValuePlanModel, refinements: Sequence[ValueCounts]) -> ValuePlanModel:
        return _settled(model, ValueCounts.merge(refinements))

    def assign(self, data: PartitionInput, model: ValuePlanModel) -> PartitionOutput:
        ranked, value = model.ranked, model.value
        assert ranked is not None, "settle the model before assigning"
        bought = data.features["has_purchases"].to_numpy(dtype=bool)
        values = _values(_buyers(data), model)
        tiers = tier_of(values, value.tier_floors)
        size = len(bought)
        labels = np.full(size, None, dtype=object)
        labels[bought] = np.asarray(value.tier_codes, dtype=object)[tiers]
        scores = np.full(size, np.nan)
        scores[bought] = ranked.percent_rank(values)
        all_values = np.full(size, np.nan)
        all_values[bought] = values
        reasons = np.full(size, no_purchases_reason(value.as_of), dtype=object)
        reasons[bought] = tier_reasons(value, model.bounds, values, tiers)
        frame = assignment_frame(data.customers.index, labels, scores, all_values, reasons)
        return PartitionOutput(frame, SegmentTotals.of(labels, all_values, data.profitability))

    def finish(self, model: ValuePlanModel, partials: Sequence[SegmentTotals]) -> RunOutcome:
        totals = SegmentTotals.merge(partials)
        metrics = {**model.metrics, "value.total": math.fsum(totals.value_sum.values())}
        return RunOutcome(totals.segments(model.segments), metrics, model.value.to_dict())


def _buyers(data: PartitionInput) -> pd.DataFrame:
    features = data.features
    return features[features["has_purchases"].to_numpy(dtype=bool)]


def _values(buyers: pd.DataFrame, model: ValuePlanModel) -> FloatArray:
    """The buyers' metric values, as ``ValueBasedSegmenter.fit`` computes them."""
    value = model.value
    if value.metric == "Revenue":
        return buyers["revenue"].to_numpy(float)
    if value.metric == "Margin":
        return buyers["margin"].to_numpy(float)
    if value.metric == "Rfm":
        scores = rfm_scores(buyers, value.rfm_thresholds)
        return (scores["r"] + scores["f"] + scores["m"]).to_numpy(float)
    assert model.clv.bgnbd is not None, "a Clv run without a BG/NBD fit does not fit"
    if buyers.empty:
        return np.empty(0)
    # The partition's features took its own customers' margin rate as the population's;
    # the run's is every customer's.
    buyers = with_margin_rate_of(buyers, value)
    return predict_clv(
        buyers,
        model.clv.bgnbd,
        model.clv.gamma_gamma,
        buyers["annual_cost_to_serve"],
        value.horizon_months,
        value.annual_discount_rate,
    )["clv"]


def _settled(model: ValuePlanModel, ranked: ValueCounts) -> ValuePlanModel:
    """The model with the tier floors and ranges of the buyers' metric values ``ranked``."""
    value, n = model.value, ranked.total
    count = len(value.tier_codes)
    floors = ranked.at([n - 1 - position for position in tier_positions(n, count)])
    bounds = tier_bounds(ranked.values, tier_of(ranked.values, floors), count)
    return replace(
        model, value=replace(value, tier_floors=floors), ranked=ranked, bounds=tuple(bounds)
    )


def _quantile_thresholds(table: ValueCounts) -> list[float]:
    """``rfm.quantile_thresholds`` of the values ``table`` counts."""
    n, quantiles = table.total, rfm.QUANTILES
    positions = [int(np.ceil(k * n / quantiles)) - 1 for k in range(1, quantiles)]
    return table.at([max(position, 0) for position in positions])


def _fit_clv(purchase_rows: DistinctRows, spend_rows: DistinctRows, metric: str) -> ClvFit:
    """``ValueBasedSegmenter._fit_clv`` on distinct rows: without BG/NBD no CLV (fatal for
    Clv), without Gamma–Gamma each buyer's own average order value stands in for spend."""
    try:
        bgnbd = clv.fit_bgnbd_counts(purchase_rows.rows, purchase_rows.counts)
    except InsufficientData as exc:
        if metric == ValueMetric.CLV.value:
            raise
        return ClvFit(None, None, {"clv.available": 0.0}, clv_unavailable_reason=str(exc))
    try:
        gamma_gamma = clv.fit_gamma_gamma_counts(spend_rows.rows, spend_rows.counts)
    except InsufficientData as exc:
        return ClvFit(bgnbd, None, clv_metrics(bgnbd, None), spend_model_reason=str(exc))
    return ClvFit(bgnbd, gamma_gamma, clv_metrics(bgnbd, gamma_gamma))


def _compact(counts: npt.NDArray[np.integer[Any]]) -> CountArray:
    largest = int(counts.max()) if counts.size else 0
    return np.asarray(counts.astype(np.min_scalar_type(largest)))
