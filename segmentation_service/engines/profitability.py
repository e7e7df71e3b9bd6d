"""What each customer brought in and cost over the observation, for segment profit and loss."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25


def customer_profitability(
    features: pd.DataFrame, customers: pd.DataFrame, as_of: date
) -> pd.DataFrame:
    """Revenue and cost of each customer up to ``as_of``.

    Revenue is net of returns. Cost is the transactions' cost of goods plus
    the annual cost to serve, charged for the years the customer has been
    served: from sign-up (or, when unknown, the first purchase) to ``as_of``.
    ``features`` comes from ``value_features``; ``customers`` holds
    ``signup_date`` and ``annual_cost_to_serve``; both are indexed alike.
    """
    signup = pd.to_datetime(customers["signup_date"].reindex(features.index))
    first_purchase = pd.to_datetime(features["first_purchase_date"])
    start = signup.fillna(first_purchase)
    years = ((pd.Timestamp(as_of) - start).dt.days / DAYS_PER_YEAR).fillna(0.0).clip(lower=0.0)
    annual = customers["annual_cost_to_serve"].reindex(features.index).astype(float).fillna(0.0)
    goods = features["revenue"] - features["margin"]
    return pd.DataFrame(
        {
            "revenue": features["revenue"].to_numpy(dtype=float),
            "cost": (goods + annual * years).to_numpy(dtype=float),
        },
        index=features.index,
    ).replace([np.inf, -np.inf], 0.0)
