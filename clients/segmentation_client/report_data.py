"""What the HTML report shows, read out of the service's answers (no drawing here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .render import Z_SCORE_SUFFIX, migration_matrix

HOLDOUT_CAP = 7  # holdout.byFrequency.7 holds the customers with 7 or more repeat purchases


@dataclass(frozen=True)
class Profile:
    """Features (rows) x segments (columns): mean and z-score, None when not reported.

    The features are a needs-based run's needs or a behavioural run's behaviours
    ("channel.Online", "purchasesPerYear"): both profiles hold `<feature>` (the
    segment's mean) and `<feature>.zScore` entries.
    """

    features: list[str]
    segment_codes: list[str]
    z_scores: list[list[float | None]]
    means: list[list[str | None]]


@dataclass(frozen=True)
class ValueTier:
    code: str
    name: str
    metric: str | None
    minimum: float | None
    maximum: float | None
    size: int | None
    average: float | None


@dataclass(frozen=True)
class HoldoutRow:
    """The customers with `frequency` repeat purchases in calibration (HOLDOUT_CAP: that
    many or more) and their mean predicted and actual purchases in the hold-out."""

    frequency: int
    customers: float
    predicted: float
    actual: float

    @property
    def label(self) -> str:
        return f"{self.frequency}+" if self.frequency >= HOLDOUT_CAP else str(self.frequency)


@dataclass(frozen=True)
class HoldoutCheck:
    """A value-based run's hold-out check (`holdout.*` metrics): what its BG/NBD model
    predicted for the weeks after the as-of date against what happened."""

    weeks: float
    customers: float
    predicted: float
    actual: float
    error: float | None  # (predicted - actual) / actual; None when nothing happened
    mean_absolute_error: float | None  # per customer
    rows: list[HoldoutRow]


@dataclass(frozen=True)
class Migration:
    """CompareSegmentationRuns as a matrix: counts[i][j] moved from_codes[i] -> to_codes[j]."""

    from_run: dict[str, Any]
    to_run: dict[str, Any]
    from_codes: list[str]
    to_codes: list[str]
    counts: list[list[int]]
    stayed_share: float | None
    adjusted_rand_index: float | None
    entered_count: int | None
    left_count: int | None

    @property
    def customers_in_both(self) -> int:
        return sum(sum(row) for row in self.counts)


def segments_of(run: dict[str, Any]) -> list[dict[str, Any]]:
    segments: list[dict[str, Any]] = run["segments"]["segment"]
    return segments


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _profile(segment: dict[str, Any]) -> dict[str, str]:
    return {
        str(entry.get("attribute")): str(entry.get("value"))
        for entry in segment["profile"]["entry"]
    }


def z_score_profile(run: dict[str, Any]) -> Profile | None:
    """The `<feature>` / `<feature>.zScore` profile entries of the run's segments, features
    in the order the segments name them; None when there is none."""
    segments = segments_of(run)
    profiles = [_profile(segment) for segment in segments]
    features: list[str] = []
    for profile in profiles:
        for attribute in profile:
            feature = attribute[: -len(Z_SCORE_SUFFIX)]
            if attribute.endswith(Z_SCORE_SUFFIX) and feature and feature not in features:
                features.append(feature)
    if not features:
        return None
    return Profile(
        features=features,
        segment_codes=[str(segment.get("code")) for segment in segments],
        z_scores=[[_number(p.get(f + Z_SCORE_SUFFIX)) for p in profiles] for f in features],
        means=[[p.get(feature) for p in profiles] for feature in features],
    )


def value_tiers(run: dict[str, Any]) -> list[ValueTier]:
    """A value-based run's tiers with the range of the value metric in each."""
    tiers = []
    for segment in segments_of(run):
        profile = _profile(segment)
        if "minimum" not in profile and "maximum" not in profile:
            continue
        tiers.append(
            ValueTier(
                code=str(segment.get("code")),
                name=str(segment.get("name") or ""),
                metric=profile.get("valueMetric"),
                minimum=_number(profile.get("minimum")),
                maximum=_number(profile.get("maximum")),
                size=segment.get("size"),
                average=segment.get("averageValue"),
            )
        )
    return tiers


def value_metric(run: dict[str, Any]) -> str:
    """What totalValue/averageValue measure: the value-based run's metric, else margin."""
    if run.get("method") == "ValueBased":
        for tier in value_tiers(run):
            if tier.metric:
                return tier.metric
    return "Margin"


def metrics_of(run: dict[str, Any]) -> dict[str, float]:
    """The run's metrics by name (those with a value)."""
    metrics = (run.get("metrics") or {}).get("metric") or []
    return {
        str(metric.get("name")): float(metric["value"])
        for metric in metrics
        if metric.get("value") is not None
    }


def holdout_check(run: dict[str, Any]) -> HoldoutCheck | None:
    """The run's hold-out check; None when its metrics have none (a run looking at today,
    a model that could not be fitted, another method)."""
    metrics = metrics_of(run)
    names = ("weeks", "customers", "predictedPurchases", "actualPurchases")
    if any(f"holdout.{name}" not in metrics for name in names):
        return None
    rows = []
    for frequency in range(HOLDOUT_CAP + 1):
        prefix = f"holdout.byFrequency.{frequency}"
        found = [metrics.get(f"{prefix}.{part}") for part in ("customers", "predicted", "actual")]
        customers, predicted, actual = found
        if customers is not None and predicted is not None and actual is not None:
            rows.append(HoldoutRow(frequency, customers, predicted, actual))
    return HoldoutCheck(
        weeks=metrics["holdout.weeks"],
        customers=metrics["holdout.customers"],
        predicted=metrics["holdout.predictedPurchases"],
        actual=metrics["holdout.actualPurchases"],
        error=metrics.get("holdout.error"),
        mean_absolute_error=metrics.get("holdout.meanAbsoluteError"),
        rows=rows,
    )


def migration(comparison: dict[str, Any], runs_by_id: dict[int, dict[str, Any]]) -> Migration:
    """The comparison's transitions in the two runs' segment orders."""
    from_run = runs_by_id[comparison["fromRunId"]]
    to_run = runs_by_id[comparison["toRunId"]]

    def codes(run: dict[str, Any]) -> Sequence[str]:
        return [str(segment.get("code")) for segment in segments_of(run)]

    from_codes, to_codes, counts = migration_matrix(
        comparison["transitions"]["transition"], codes(from_run), codes(to_run)
    )
    return Migration(
        from_run=from_run,
        to_run=to_run,
        from_codes=from_codes,
        to_codes=to_codes,
        counts=[[counts.get((f, t), 0) for t in to_codes] for f in from_codes],
        stayed_share=comparison.get("stayedShare"),
        adjusted_rand_index=comparison.get("adjustedRandIndex"),
        entered_count=comparison.get("enteredCount"),
        left_count=comparison.get("leftCount"),
    )
