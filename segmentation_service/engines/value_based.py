"""Value-based segmentation: tiers by revenue, margin, RFM or predicted lifetime value."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.domain.model import SegmentDefinition, ValueMetric
from segmentation_service.engines import clv, rfm
from segmentation_service.engines.base import FittedSegmentation, format_number

# Features by column: a frame's, or arrays (ScoreCustomerValue scores without a frame).
Columns = pd.DataFrame | Mapping[str, Any]
FloatArray = npt.NDArray[np.float64]
TIER_LADDER = ("Diamond", "Platinum", "Gold", "Silver", "Bronze")
METRIC_WORDS = {
    "Revenue": "revenue",
    "Margin": "margin",
    "Rfm": "RFM total",
    "Clv": "predicted CLV",
}
# What fit reads: value_features' columns plus the yearly cost to serve.
REQUIRED_COLUMNS = (
    "has_purchases",
    "recency_days",
    "purchase_count",
    "revenue",
    "margin",
    "average_order_value",
    "frequency",
    "recency_weeks",
    "T_weeks",
    "repeat_spend_mean",
    "margin_rate",
    "annual_cost_to_serve",
)


def tier_ranks(codes: Sequence[str]) -> dict[str, float]:
    """Each tier's rank from the top of its ladder: 0 the best (V1), 1 the worst.

    Ranks, not positions, so runs with different tier counts compare.
    """
    last = max(len(codes) - 1, 1)
    return {code: position / last for position, code in enumerate(codes)}


def tier_names(count: int) -> list[str]:
    """Platinum/Gold/Silver/Bronze for four tiers; "Tier k" beyond five."""
    if count <= len(TIER_LADDER):
        return list(TIER_LADDER[-count:])
    return [f"Tier {k}" for k in range(1, count + 1)]


@dataclass
class ValueModel:
    """What a value-based run fitted, kept with the run to score customers later."""

    as_of: date
    metric: str
    tier_codes: list[str]
    tier_names: list[str]
    tier_floors: list[float]
    rfm_thresholds: dict[str, list[float]]
    bgnbd: dict[str, float] | None = None
    gamma_gamma: dict[str, float] | None = None
    horizon_months: int = 12
    annual_discount_rate: float = 0.10
    extra: dict[str, Any] = field(default_factory=dict)
    # (1.5) BG/NBD's covariance of log-parameters, for prediction intervals; None in
    # runs made before, or where unknown (``clv.log_covariance``).
    bgnbd_log_covariance: list[list[float]] | None = None
    # (1.5) Margin over revenue of every customer the run saw: the margin rate of a buyer
    # without positive revenue, so scoring one reproduces the run's CLV whoever is scored
    # with it; None in runs made before (the scored batch's own rate stands in).
    population_margin_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValueModel:
        return cls(**{**data, "as_of": date.fromisoformat(data["as_of"])})

    def purchase_params(self) -> clv.BetaGeoParams | None:
        """The BG/NBD fit, with its covariance where the run kept one."""
        if self.bgnbd is None:
            return None
        covariance = self.bgnbd_log_covariance
        return clv.BetaGeoParams(
            **self.bgnbd,  # type: ignore[arg-type]  # the fit's figures, as fitted_params wrote them
            log_covariance=None if covariance is None else tuple(map(tuple, covariance)),
        )

    def spend_params(self) -> clv.GammaGammaParams | None:
        return None if self.gamma_gamma is None else clv.GammaGammaParams(**self.gamma_gamma)  # type: ignore[arg-type]


def rfm_scores(features: pd.DataFrame, thresholds: dict[str, list[float]]) -> pd.DataFrame:
    """R, F and M scores, code and segment name of customers with purchases."""
    return pd.DataFrame(rfm_columns(features, thresholds), index=features.index)


def rfm_columns(features: Columns, thresholds: dict[str, list[float]]) -> dict[str, Any]:
    """``rfm_scores``' columns as arrays."""
    r = rfm.score(-_floats(features, "recency_days"), thresholds["recency"])
    f = rfm.score(features["purchase_count"], thresholds["frequency"])
    m = rfm.score(features["revenue"], thresholds["monetary"])
    return {
        "r": r,
        "f": f,
        "m": m,
        "code": rfm.score_codes(r, f, m),
        "segment": rfm.segment_names(r, f),
    }


def predict_clv(
    features: Columns,
    bgnbd: clv.BetaGeoParams,
    gamma_gamma: clv.GammaGammaParams | None,
    cost_to_serve: npt.ArrayLike,
    horizon_months: int,
    annual_discount_rate: float,
) -> dict[str, FloatArray]:
    """Discounted expected margin over the horizon minus the discounted cost to serve.

    Expected purchases come from BG/NBD, spend per purchase from Gamma–Gamma
    (or, when spend could not be modelled, the customer's average order
    value; see ``spend_per_purchase``), margin per purchase from the customer's
    own margin rate. The cost to serve (per year, one per customer in the order of
    ``features``; missing: none) is charged monthly while the customer is likely
    alive today. Arrays ``clv``, ``probability_alive``, ``expected_purchases`` and
    the parts of the CLV.
    """
    f, t_x, T = (_floats(features, name) for name in ("frequency", "recency_weeks", "T_weeks"))
    purchases = clv.discounted_purchases(
        bgnbd, f, t_x, T, horizon_months=horizon_months, annual_discount_rate=annual_discount_rate
    )
    spend = spend_per_purchase(features, gamma_gamma)
    alive = clv.probability_alive(bgnbd, f, t_x, T)
    months = np.arange(1, horizon_months + 1)
    discounted_months = float(np.sum((1 + annual_discount_rate) ** (-months / 12)))
    cost = np.asarray(cost_to_serve, dtype=float)
    monthly_cost = np.where(np.isnan(cost), 0.0, cost) / 12
    horizon_cost = monthly_cost * discounted_months
    value = purchases * spend * _floats(features, "margin_rate") - alive * horizon_cost
    expected = clv.expected_purchases(bgnbd, horizon_months * 52 / 12, f, t_x, T)
    return {
        "clv": np.asarray(value, dtype=float),
        "probability_alive": np.asarray(alive, dtype=float),
        "expected_purchases": np.asarray(expected, dtype=float),
        # The parts, for the CLV's prediction interval (engines.value_forecast).
        "discounted_purchases": np.asarray(purchases, dtype=float),
        "spend_per_purchase": spend,
        "horizon_cost": horizon_cost,
    }


def spend_per_purchase(
    features: Columns, gamma_gamma: clv.GammaGammaParams | None
) -> npt.NDArray[np.float64]:
    """Gamma–Gamma's expected spend per purchase, else the customer's average order value.

    Gamma–Gamma models positive spend, so it speaks only for customers who
    paid: a repeat buyer whose repeat purchases were all free (left out of
    its fit) and a one-off buyer who paid nothing keep their own average
    order value, as everybody does when there is no spend model.
    """
    own = _floats(features, "average_order_value")
    if gamma_gamma is None:
        return own
    x = _floats(features, "frequency")
    m = _floats(features, "repeat_spend_mean")
    modelled = spend_modelled(features)
    spend = own.copy()
    spend[modelled] = clv.expected_spend(gamma_gamma, x[modelled], m[modelled])
    return spend


def spend_modelled(features: Columns) -> npt.NDArray[np.bool_]:
    """The customers whose spend Gamma–Gamma speaks for: repeat buyers who paid for their
    repeat purchases, and one-off buyers who paid (see ``spend_per_purchase``)."""
    x = _floats(features, "frequency")
    paid = _floats(features, "average_order_value") > 0
    return np.asarray(np.where(x > 0, _floats(features, "repeat_spend_mean") > 0, paid))


def tier_of(values: npt.ArrayLike, floors: list[float]) -> npt.NDArray[np.int64]:
    """Index of the first tier (top down) whose floor the value reaches; the last otherwise."""
    data = np.asarray(values, dtype=float)
    reached = data[:, None] >= np.asarray(floors)[None, :]
    return np.where(reached.any(axis=1), reached.argmax(axis=1), len(floors) - 1).astype(np.int64)


class ValueBasedSegmenter(FittedSegmentation, ClusterMixin, BaseEstimator):
    """Rank customers with purchases by a value metric and cut equal-sized tiers.

    ``X`` holds the columns of ``value_features`` plus ``annual_cost_to_serve``.
    Customers without purchases stay unassigned. Tier floors are the lowest
    value of each equal-count tier; customers are then placed by floor, so
    equal values share a tier and later customers can be placed the same way.

    Parameters
    ----------
    value_metric : {"Revenue", "Margin", "Rfm", "Clv"}, default="Margin"
    tier_count : int, default=4
    as_of : date or None, default=None
    horizon_months : int, default=12
    annual_discount_rate : float, default=0.10
    """

    def __init__(
        self,
        value_metric: str = "Margin",
        tier_count: int = 4,
        as_of: date | None = None,
        horizon_months: int = 12,
        annual_discount_rate: float = 0.10,
    ) -> None:
        self.value_metric = value_metric
        self.tier_count = tier_count
        self.as_of = as_of
        self.horizon_months = horizon_months
        self.annual_discount_rate = annual_discount_rate

    def fit(self, X: pd.DataFrame, y: None = None) -> ValueBasedSegmenter:
        metric = ValueMetric(self.value_metric).value
        if self.tier_count < 1:
            raise ValueError(f"tier_count must be at least 1, got {self.tier_count}")
        missing = [column for column in REQUIRED_COLUMNS if column not in X.columns]
        if missing:
            raise ValueError(f"X lacks the column(s) {', '.join(missing)}")
        buyers = X[X["has_purchases"].to_numpy(dtype=bool)]
        if len(buyers) < self.tier_count:
            raise InsufficientData(
                f"{len(buyers)} customers have purchases; {self.tier_count} tiers need at least "
                f"{self.tier_count}"
            )
        thresholds = {
            "recency": rfm.quantile_thresholds(-buyers["recency_days"].astype(float)),
            "frequency": rfm.quantile_thresholds(buyers["purchase_count"]),
            "monetary": rfm.quantile_thresholds(buyers["revenue"]),
        }
        scores = rfm_scores(buyers, thresholds)
        self.metrics_ = {"value.customersWithPurchases": float(len(buyers))}
        bgnbd, gamma_gamma, clv_frame = self._fit_clv(buyers, metric)
        values = {
            "Revenue": buyers["revenue"].to_numpy(float),
            "Margin": buyers["margin"].to_numpy(float),
            "Rfm": (scores["r"] + scores["f"] + scores["m"]).to_numpy(float),
            "Clv": None if clv_frame is None else clv_frame["clv"],
        }[metric]
        assert values is not None
        floors = _tier_floors(values, buyers.index, self.tier_count)
        tiers = tier_of(values, floors)
        codes = [f"V{k}" for k in range(1, self.tier_count + 1)]
        names = tier_names(self.tier_count)
        self.model_ = ValueModel(
            as_of=self.as_of or date.today(),
            metric=metric,
            tier_codes=codes,
            tier_names=names,
            tier_floors=floors,
            rfm_thresholds=thresholds,
            bgnbd=None if bgnbd is None else fitted_params(bgnbd),
            gamma_gamma=None if gamma_gamma is None else fitted_params(gamma_gamma),
            bgnbd_log_covariance=covariance_list(bgnbd),
            horizon_months=self.horizon_months,
            annual_discount_rate=self.annual_discount_rate,
            population_margin_rate=population_margin_rate(X),
        )
        self._label(X, buyers.index, values, tiers)
        self.metrics_["value.total"] = float(values.sum())
        return self

    def _fit_clv(
        self, buyers: pd.DataFrame, metric: str
    ) -> tuple[clv.BetaGeoParams | None, clv.GammaGammaParams | None, dict[str, FloatArray] | None]:
        """Fit BG/NBD and Gamma–Gamma; without a BG/NBD fit there is no CLV (fatal for Clv)."""
        try:
            bgnbd = clv.fit_bgnbd(buyers["frequency"], buyers["recency_weeks"], buyers["T_weeks"])
        except InsufficientData as exc:
            if metric == ValueMetric.CLV.value:
                raise
            self.metrics_["clv.available"] = 0.0
            self.clv_unavailable_reason_ = str(exc)
            return None, None, None
        # Gamma–Gamma needs positive spend: repeat buyers whose repeat purchases
        # were all free stay out of its fit (see spend_per_purchase), not out of BG/NBD's.
        repeat = buyers[(buyers["frequency"] > 0) & (buyers["repeat_spend_mean"] > 0)]
        try:
            gamma_gamma = clv.fit_gamma_gamma(repeat["frequency"], repeat["repeat_spend_mean"])
        except InsufficientData as exc:
            # Spend too heterogeneous (q <= 1) or too few repeat buyers to model:
            # each customer's own average order value stands in for expected spend.
            gamma_gamma = None
            self.spend_model_reason_ = str(exc)
        # The run keeps the fitted parameters either way; the CLV of every buyer
        # is only needed when it is what the tiers rank by.
        frame = None
        if metric == ValueMetric.CLV.value:
            frame = predict_clv(
                buyers,
                bgnbd,
                gamma_gamma,
                buyers["annual_cost_to_serve"],
                self.horizon_months,
                self.annual_discount_rate,
            )
        self.metrics_.update(clv_metrics(bgnbd, gamma_gamma))
        return bgnbd, gamma_gamma, frame

    def _label(
        self,
        X: pd.DataFrame,
        buyers: pd.Index,
        values: npt.NDArray[np.float64],
        tiers: npt.NDArray[np.int64],
    ) -> None:
        model = self.model_
        position = X.index.get_indexer(buyers)
        self.labels_ = np.full(len(X), None, dtype=object)
        self.labels_[position] = np.asarray(model.tier_codes, dtype=object)[tiers]
        self.scores_ = np.full(len(X), np.nan)
        self.scores_[position] = pd.Series(values).rank(pct=True).to_numpy()
        self.values_ = np.full(len(X), np.nan)
        self.values_[position] = values
        self.reasons_ = np.full(len(X), no_purchases_reason(model.as_of), dtype=object)
        bounds = tier_bounds(values, tiers, len(model.tier_codes))
        self.segments_ = tier_definitions(model, bounds)
        self.reasons_[position] = tier_reasons(model, bounds, values, tiers)


def _tier_floors(values: npt.NDArray[np.float64], ids: pd.Index, count: int) -> list[float]:
    """The lowest value of each of ``count`` equal-count tiers, best first (ties by id)."""
    order = np.lexsort((ids.to_numpy(), -values))
    ranked = values[order]
    return [float(ranked[b]) for b in tier_positions(len(ranked), count)]


def tier_positions(n: int, count: int) -> list[int]:
    """Where each of ``count`` equal-count tiers of ``n`` ranked values ends, best first."""
    return [int(np.ceil((k + 1) * n / count)) - 1 for k in range(count)]


def tier_bounds(
    values: npt.NDArray[np.float64], tiers: npt.NDArray[np.int64], count: int
) -> list[tuple[float, float]]:
    """The lowest and highest value in each tier; NaN for an empty tier."""
    bounds = []
    for tier in range(count):
        members = values[tiers == tier]
        empty = not members.size
        bounds.append((np.nan, np.nan) if empty else (float(members.min()), float(members.max())))
    return bounds


def _bounds_text(word: str, low: float, high: float) -> str:
    return f"{word} from {format_number(low)} to {format_number(high)}"


def tier_definitions(
    model: ValueModel, bounds: Sequence[tuple[float, float]]
) -> list[SegmentDefinition]:
    """One definition per tier, its value range (``tier_bounds``) in description and profile."""
    word = METRIC_WORDS[model.metric]
    return [
        SegmentDefinition(
            code=code,
            name=name,
            description=f"{name} tier: {_bounds_text(word, low, high)}",
            profile=(
                ("valueMetric", model.metric),
                ("minimum", f"{low:.2f}"),
                ("maximum", f"{high:.2f}"),
            ),
        )
        for code, name, (low, high) in zip(model.tier_codes, model.tier_names, bounds, strict=True)
    ]


def tier_reasons(
    model: ValueModel,
    bounds: Sequence[tuple[float, float]],
    values: npt.NDArray[np.float64],
    tiers: npt.NDArray[np.int64],
) -> npt.NDArray[np.object_]:
    """Each buyer's reason: its tier, the tier's value range and its own value."""
    word = METRIC_WORDS[model.metric]
    heads = [
        f"{name} tier ({_bounds_text(word, low, high)}); this customer's {word} is "
        for name, (low, high) in zip(model.tier_names, bounds, strict=True)
    ]
    reasons = np.empty(len(values), dtype=object)
    reasons[:] = [heads[tier] + format_number(v) for tier, v in zip(tiers, values, strict=True)]
    return reasons


def no_purchases_reason(as_of: date) -> str:
    return f"no purchases on or before {as_of}"


def clv_metrics(
    bgnbd: clv.BetaGeoParams, gamma_gamma: clv.GammaGammaParams | None
) -> dict[str, float]:
    """The run metrics of a BG/NBD fit and, when spend could be modelled, its Gamma–Gamma fit."""
    metrics = {
        "clv.available": 1.0,
        "bgnbd.r": bgnbd.r,
        "bgnbd.alpha": bgnbd.alpha,
        "bgnbd.a": bgnbd.a,
        "bgnbd.b": bgnbd.b,
        "bgnbd.logLikelihood": bgnbd.log_likelihood,
        "bgnbd.customers": float(bgnbd.customers),
        "clv.spendModel": 0.0 if gamma_gamma is None else 1.0,
    }
    if gamma_gamma is not None:
        metrics.update(
            {
                "gammagamma.p": gamma_gamma.p,
                "gammagamma.q": gamma_gamma.q,
                "gammagamma.v": gamma_gamma.v,
            }
        )
    return metrics


def population_margin_rate(features: pd.DataFrame) -> float:
    """Every customer's margin over every customer's revenue (0 without revenue), as
    ``value_features`` takes it for buyers without positive revenue."""
    revenue = math.fsum(features["revenue"].to_numpy(float))
    margin = math.fsum(features["margin"].to_numpy(float))
    return margin / revenue if revenue > 0 else 0.0


def with_margin_rate_of(features: pd.DataFrame, model: ValueModel) -> pd.DataFrame:
    """``features`` with the run's population margin rate for buyers without positive
    revenue (where the run kept one): what the run computed their CLV with."""
    if model.population_margin_rate is None:
        return features
    return features.assign(margin_rate=margin_rates_of(features, model))


def margin_rates_of(features: Columns, model: ValueModel) -> FloatArray:
    """``with_margin_rate_of``'s margin rates, as an array."""
    rates = _floats(features, "margin_rate")
    if model.population_margin_rate is None:
        return rates
    own = _floats(features, "revenue") > 0
    fallback = float(np.clip(model.population_margin_rate, -1.0, 1.0))
    return np.where(own, rates, fallback)


def fitted_params(params: Any) -> dict[str, float]:
    """The parameters and fit figures, without the covariance (kept apart, as lists)."""
    return {key: float(value) for key, value in asdict(params).items() if key != "log_covariance"}


def covariance_list(params: Any) -> list[list[float]] | None:
    covariance = None if params is None else params.log_covariance
    return None if covariance is None else [list(row) for row in covariance]


# What scoring reads of a buyer's features.
BUYER_COLUMNS = (
    "recency_days",
    "purchase_count",
    "revenue",
    "margin",
    "frequency",
    "recency_weeks",
    "T_weeks",
    "average_order_value",
    "repeat_spend_mean",
    "margin_rate",
)
SCORE_COLUMNS = (
    "rfm_score",
    "rfm_segment",
    "predicted_clv",
    "value_tier",
    "probability_alive",
    "expected_purchases",
)


def score_with_model(
    features: pd.DataFrame,
    model: ValueModel,
    cost_to_serve: pd.Series,
    horizon_months: int,
    annual_discount_rate: float,
) -> pd.DataFrame:
    """RFM code and segment, CLV figures and value tier of customers, by a fitted model.

    Columns ``SCORE_COLUMNS`` (see ``score_columns``), indexed as ``features``.
    """
    cost = cost_to_serve.reindex(features.index).to_numpy(float)
    scores = score_columns(features, model, cost, horizon_months, annual_discount_rate)
    return pd.DataFrame(scores, index=features.index, dtype=object)


def score_columns(
    features: Columns,
    model: ValueModel,
    cost_to_serve: npt.ArrayLike,
    horizon_months: int,
    annual_discount_rate: float,
    prediction: dict[str, FloatArray] | None = None,
) -> dict[str, npt.NDArray[np.object_]]:
    """``SCORE_COLUMNS`` as arrays of objects: ``rfm_score``, ``rfm_segment``,
    ``predicted_clv``, ``value_tier``, ``probability_alive``, ``expected_purchases``
    (over the horizon); None where a customer has no purchases or the model has no
    CLV fit. ``cost_to_serve`` is per customer of ``features``. The tier uses the
    model's own CLV horizon and rate, so it matches the run. ``prediction``: the buyers'
    ``predict_clv`` at this horizon and rate, when the caller has it already.
    """
    has_purchases = np.asarray(features["has_purchases"], dtype=bool)
    size = len(has_purchases)
    result = {column: np.full(size, None, dtype=object) for column in SCORE_COLUMNS}
    if not has_purchases.any():
        return result
    buyers = {name: np.asarray(features[name])[has_purchases] for name in BUYER_COLUMNS}
    cost = np.asarray(cost_to_serve, dtype=float)[has_purchases]
    scores = rfm_columns(buyers, model.rfm_thresholds)
    result["rfm_score"][has_purchases] = scores["code"]
    result["rfm_segment"][has_purchases] = scores["segment"]
    metric_values: npt.NDArray[np.float64] | None
    if model.metric == "Revenue":
        metric_values = _floats(buyers, "revenue")
    elif model.metric == "Margin":
        metric_values = _floats(buyers, "margin")
    elif model.metric == "Rfm":
        metric_values = (scores["r"] + scores["f"] + scores["m"]).astype(float)
    else:
        metric_values = None
    bgnbd, gamma_gamma = model.purchase_params(), model.spend_params()
    if bgnbd is not None:
        requested = prediction or predict_clv(
            buyers, bgnbd, gamma_gamma, cost, horizon_months, annual_discount_rate
        )
        for column in ("predicted_clv", "probability_alive", "expected_purchases"):
            source = "clv" if column == "predicted_clv" else column
            result[column][has_purchases] = requested[source].astype(object)
        if model.metric == "Clv":
            same = (horizon_months, annual_discount_rate) == (
                model.horizon_months,
                model.annual_discount_rate,
            )
            metric_values = (
                requested
                if same
                else predict_clv(
                    buyers,
                    bgnbd,
                    gamma_gamma,
                    cost,
                    model.horizon_months,
                    model.annual_discount_rate,
                )
            )["clv"]
    if metric_values is not None:
        tiers = tier_of(metric_values, model.tier_floors)
        result["value_tier"][has_purchases] = np.asarray(model.tier_names, dtype=object)[tiers]
    return result


def _floats(features: Columns, column: str) -> FloatArray:
    return np.asarray(features[column], dtype=float)
