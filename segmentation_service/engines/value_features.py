"""Per-customer value features from transaction aggregates.

Conventions (the BG/NBD literature's): time in weeks; ``frequency`` is the
number of repeat purchase days (a day's purchases are one occasion);
``recency_weeks`` is the time from the first purchase day to the last;
``T_weeks`` the time from the first purchase day to the as-of date.
"""

from __future__ import annotations

from datetime import date

import numpy as np
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
    counts = ["transaction_count", "purchase_count", "purchase_days"]
    sums = ["revenue", "gross_revenue", "cost", "repeat_spend"]
    frame[counts] = frame[counts].fillna(0).astype(np.int64)
    frame[sums] = frame[sums].fillna(0.0).astype(float).round(MONEY_DECIMALS)
    features = pd.DataFrame(index=population)
    features["transaction_count"] = frame["transaction_count"]
    features["purchase_count"] = frame["purchase_count"]
    features["revenue"] = frame["revenue"]
    features["margin"] = frame["revenue"] - frame["cost"]

    first = pd.to_datetime(frame["first_purchase"]).dt.normalize()
    last = pd.to_datetime(frame["last_purchase"]).dt.normalize()
    end = pd.Timestamp(as_of)
    has_purchases = first.notna().to_numpy()
    features["has_purchases"] = has_purchases
    features["first_purchase_date"] = first.dt.date.where(first.notna(), None)
    features["last_purchase_date"] = last.dt.date.where(last.notna(), None)
    features["recency_days"] = (end - last).dt.days.astype("Int64")

    purchases = frame["purchase_count"].to_numpy()
    features["average_order_value"] = np.divide(
        frame["gross_revenue"].to_numpy(), purchases, out=np.zeros(len(frame)), where=purchases > 0
    )
    tenure_months = ((end - first).dt.days / DAYS_PER_MONTH).fillna(0).clip(lower=1)
    features["monthly_revenue"] = frame["revenue"] / tenure_months

    frequency = np.maximum(frame["purchase_days"].to_numpy() - 1, 0)
    features["frequency"] = frequency
    features["recency_weeks"] = ((last - first).dt.days / 7).fillna(0.0)
    observed = ((end - first).dt.days / 7).clip(lower=MIN_OBSERVATION_WEEKS)
    features["T_weeks"] = observed.fillna(0.0)
    features["repeat_spend_mean"] = np.divide(
        frame["repeat_spend"].to_numpy(), frequency, out=np.zeros(len(frame)), where=frequency > 0
    )
    revenue = frame["revenue"].to_numpy()
    margin = features["margin"].to_numpy()
    population_rate = margin.sum() / revenue.sum() if revenue.sum() > 0 else 0.0
    rate = np.divide(margin, revenue, out=np.full(len(frame), population_rate), where=revenue > 0)
    features["margin_rate"] = np.clip(rate, -1.0, 1.0)
    return features


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
