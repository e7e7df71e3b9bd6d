"""The hold-out check of a value-based run looking at the past: what its BG/NBD model
predicted for the weeks after ``asOfDate`` against what happened.

The calibration buyers (those with purchases up to ``asOfDate``) are compared on their
purchase occasions (days with a purchase, BG/NBD's unit) between ``asOfDate`` and the
end of the hold-out: the run date, or ``asOfDate`` plus the run's horizon, whichever is
earlier. The per-frequency table is the calibration plot CLV practitioners use: for the
customers with 0, 1, 2, … repeat purchases in calibration (``FREQUENCY_CAP`` and more
together), the mean predicted and the mean actual hold-out purchases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from segmentation_service.engines import clv

FREQUENCY_CAP = 7  # the last row of the table holds 7 and more repeat purchases
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class HoldoutWindow:
    """Purchases after ``as_of`` up to and including ``end``."""

    as_of: date
    end: date

    @classmethod
    def of(cls, as_of: date, run_date: date, horizon_months: int) -> HoldoutWindow | None:
        """The window of a run looking at ``as_of`` on ``run_date``; None when as_of is
        the run date (nothing has happened since)."""
        if as_of >= run_date:
            return None
        horizon_end = as_of + timedelta(days=round(horizon_months * DAYS_PER_MONTH))
        return cls(as_of, min(run_date, horizon_end))

    @property
    def weeks(self) -> float:
        return (self.end - self.as_of).days / 7


def holdout_metrics(
    params: clv.BetaGeoParams, rows: np.ndarray, counts: np.ndarray, window: HoldoutWindow
) -> dict[str, float]:
    """Run metrics of the check, from distinct rows (x, t_x, T, hold-out purchases) with
    how many calibration buyers have each."""
    x, t_x, T, actual = (rows[:, k] for k in range(4))
    predicted = clv.expected_purchases(params, window.weeks, x, t_x, T)
    customers = float(counts.sum())
    predicted_total = float(predicted @ counts)
    actual_total = float(actual @ counts)
    metrics = {
        "holdout.weeks": window.weeks,
        "holdout.customers": customers,
        "holdout.predictedPurchases": predicted_total,
        "holdout.actualPurchases": actual_total,
        # Per customer, so it reads the same whatever the size of the customer base.
        "holdout.meanAbsoluteError": float(np.abs(predicted - actual) @ counts) / customers,
    }
    if actual_total > 0:
        metrics["holdout.error"] = (predicted_total - actual_total) / actual_total
    bucket = np.minimum(x, FREQUENCY_CAP).astype(int)
    for frequency in range(FREQUENCY_CAP + 1):
        inside = bucket == frequency
        weight = float(counts[inside].sum())
        if weight == 0:
            continue
        name = f"holdout.byFrequency.{frequency}"
        metrics[f"{name}.customers"] = weight
        metrics[f"{name}.predicted"] = float(predicted[inside] @ counts[inside]) / weight
        metrics[f"{name}.actual"] = float(actual[inside] @ counts[inside]) / weight
    return metrics
