"""Per-customer value features from transaction aggregates.

Conventions (the BG/NBD literature's): time in weeks; ``frequency`` is the
number of repeat purchase days (a day's purchases are one occasion);
``recency_weeks`` is the time from the first purchase day to the last;
``T_weeks`` the time from the first purchase day to the as-of date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

DAYS_PER_MONTH = 365.25 / 12
# A customer whose first purchase falls on the as-of date is observed for one day.
MIN_OBSERVATION_WEEKS = 1 / 7
# Sums of money are rounded to this many decimals. A database adds a customer's amounts
# in the order its plan reads them, and a float sum's last bits depend on that order:
# unrounded, two customers with the same revenue could differ in the 12th digit in one
# run and not in the next (or in a run cut into other partitions), and rank differently.
MONEY_DECIMALS = 6

FEATURE_COLUMNS = (
    "transaction_count",
    "purchase_count",
    "revenue",
    "margin",
    "average_order_value",
    "monthly_revenue",
    "first_purchase_date",
    "last_purchase_date",
    "recency_days",
    "has_purchases",
    "frequency",
    "recency_weeks",
    "T_weeks",
    "repeat_spend_mean",
    "margin_rate",
)


def value_features(aggregates: pd.DataFrame, population: pd.Index, as_of: date) -> pd.DataFrame:
    """Features of every customer in ``population``; customers without transactions get zeros.

    ``aggregates`` has the store's aggregate columns, indexed by customer_id.
    """
    frame = aggregates.reindex(population)
    columns = {column: frame[column].to_numpy() for column in AGGREGATE_INPUTS}
    features = pd.DataFrame(feature_columns(columns, as_of), index=population)
    features["recency_days"] = features["recency_days"].astype("Int64")
    return features


# The store's aggregate columns the features are made of (store.transactions.aggregates).
AGGREGATE_INPUTS = (
    "transaction_count",
    "purchase_count",
    "purchase_days",
    "revenue",
    "gross_revenue",
    "cost",
    "repeat_spend",
    "first_purchase",
    "last_purchase",
)


def feature_columns(aggregates: Mapping[str, npt.ArrayLike], as_of: date) -> dict[str, Any]:
    """``FEATURE_COLUMNS`` as arrays, from ``AGGREGATE_INPUTS`` as arrays of the same
    customers (missing values where a customer has no transactions: NaN, None or NaT).

    The arrays behind ``value_features``, without a frame: scoring a hundred customers
    (ScoreCustomerValue) costs a fraction of building one. ``recency_days`` is a float
    array here, NaN without purchases.
    """
    counts = {
        column: np.nan_to_num(np.asarray(aggregates[column], dtype=float)).astype(np.int64)
        for column in ("transaction_count", "purchase_count", "purchase_days")
    }
    sums = {
        column: np.round(np.nan_to_num(np.asarray(aggregates[column], dtype=float)), MONEY_DECIMALS)
        for column in ("revenue", "gross_revenue", "cost", "repeat_spend")
    }
    first = np.asarray(aggregates["first_purchase"], dtype="datetime64[us]").astype("datetime64[D]")
    last = np.asarray(aggregates["last_purchase"], dtype="datetime64[us]").astype("datetime64[D]")
    end = np.datetime64(as_of, "D")
    has_purchases = ~np.isnat(first)
    since_first = _days(end - first)
    revenue, purchases = sums["revenue"], counts["purchase_count"]
    margin = revenue - sums["cost"]
    frequency = np.maximum(counts["purchase_days"] - 1, 0)
    size = len(revenue)
    tenure_months = np.maximum(np.nan_to_num(since_first / DAYS_PER_MONTH, nan=0.0), 1.0)
    population_rate = margin.sum() / revenue.sum() if revenue.sum() > 0 else 0.0
    rate = np.divide(margin, revenue, out=np.full(size, population_rate), where=revenue > 0)
    return {
        "transaction_count": counts["transaction_count"],
        "purchase_count": purchases,
        "revenue": revenue,
        "margin": margin,
        "average_order_value": np.divide(
            sums["gross_revenue"], purchases, out=np.zeros(size), where=purchases > 0
        ),
        "monthly_revenue": revenue / tenure_months,
        "first_purchase_date": first.astype(object),  # dates, None without purchases
        "last_purchase_date": last.astype(object),
        "recency_days": _days(end - last),
        "has_purchases": has_purchases,
        "frequency": frequency,
        "recency_weeks": np.nan_to_num(_days(last - first) / 7, nan=0.0),
        "T_weeks": np.nan_to_num(np.maximum(since_first / 7, MIN_OBSERVATION_WEEKS), nan=0.0),
        "repeat_spend_mean": np.divide(
            sums["repeat_spend"], frequency, out=np.zeros(size), where=frequency > 0
        ),
        "margin_rate": np.clip(rate, -1.0, 1.0),
    }


def _days(spans: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Whole days of day-resolution time spans; NaN where a span is NaT."""
    days = spans.astype("timedelta64[D]").astype(np.int64).astype(float)
    return np.where(np.isnat(spans), np.nan, days)


def money_features(totals: pd.DataFrame, population: pd.Index) -> pd.DataFrame:
    """Revenue, margin, first and last purchase date of every customer in ``population``.

    The part of ``value_features`` that runs which do not rank by value need,
    from the store's per-customer ``totals``; customers without transactions get zeros.
    """
    frame = totals.reindex(population)
    features = pd.DataFrame(index=population)
    features["revenue"] = frame["revenue"].astype(float).fillna(0.0).round(MONEY_DECIMALS)
    features["margin"] = features["revenue"] - frame["cost"].astype(float).fillna(0.0).round(
        MONEY_DECIMALS
    )
    first = pd.to_datetime(frame["first_purchase"]).dt.normalize()
    features["first_purchase_date"] = first.dt.date.where(first.notna(), None)
    last = pd.to_datetime(frame["last_purchase"]).dt.normalize()
    features["last_purchase_date"] = last.dt.date.where(last.notna(), None)
    return features
