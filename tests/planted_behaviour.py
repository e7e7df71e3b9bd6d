"""Customers of known buying styles, for the behavioural method's tests."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import numpy as np
import pandas as pd


class Style(NamedTuple):
    purchases_per_year: float
    channel_shares: tuple[float, float, float]  # Online, Store, Phone
    mean_basket: float
    return_share: float  # of transactions
    category_shares: tuple[float, float, float]  # Hardware, Software, Supplies


CHANNELS = ("Online", "Store", "Phone")
CATEGORIES = ("Hardware", "Software", "Supplies")
PLANTED_STYLES: dict[str, Style] = {
    "online frequent": Style(30.0, (0.92, 0.04, 0.04), 40.0, 0.02, (0.1, 0.2, 0.7)),
    "store large baskets": Style(4.0, (0.04, 0.92, 0.04), 300.0, 0.02, (0.7, 0.2, 0.1)),
    "returns heavy": Style(10.0, (0.34, 0.33, 0.33), 90.0, 0.5, (0.2, 0.6, 0.2)),
}


def planted_behaviour(
    n_customers: int, as_of: date, seed: int, *, years: float = 2.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transactions, customers) of ``n_customers`` in equal thirds of ``PLANTED_STYLES``.

    Transactions: customer_id, occurred_at, amount (negative: a return), cost, channel,
    category, transaction_id; every customer buys at least twice within ``years``
    before ``as_of``. Customers: indexed by customer_id, with ``signup_date`` and
    ``style`` (the planted truth).
    """
    rng = np.random.default_rng(seed)
    names = list(PLANTED_STYLES)
    style_of = np.arange(n_customers) % len(names)
    end = pd.Timestamp(as_of) + pd.Timedelta(hours=12)
    rows = []
    ids = [f"B{i:05d}" for i in range(n_customers)]
    signups = []
    for i, customer in enumerate(ids):
        style = PLANTED_STYLES[names[style_of[i]]]
        joined_days = rng.uniform(100, years * 365)
        signups.append(end.normalize() - pd.Timedelta(days=int(joined_days)))
        count = max(2, rng.poisson(style.purchases_per_year * joined_days / 365))
        days_ago = np.sort(rng.uniform(0, joined_days - 1, count))[::-1]
        returns = rng.random(count) < style.return_share
        returns[0] = False  # the first transaction is a purchase
        amounts = np.round(rng.lognormal(np.log(style.mean_basket), 0.3, count), 2)
        amounts[returns] *= -0.5
        channels = rng.choice(len(CHANNELS), count, p=style.channel_shares)
        categories = rng.choice(len(CATEGORIES), count, p=style.category_shares)
        for j in range(count):
            rows.append(
                (
                    customer,
                    end - pd.Timedelta(days=float(days_ago[j])),
                    float(amounts[j]),
                    CHANNELS[channels[j]],
                    CATEGORIES[categories[j]],
                )
            )
    transactions = pd.DataFrame(
        rows, columns=["customer_id", "occurred_at", "amount", "channel", "category"]
    )
    transactions["occurred_at"] = transactions["occurred_at"].dt.floor("s")
    transactions["cost"] = (transactions["amount"] * 0.6).round(2)
    transactions["transaction_id"] = [f"T{i:07d}" for i in range(len(transactions))]
    customers = pd.DataFrame(
        {"signup_date": pd.to_datetime(signups), "style": [names[s] for s in style_of]},
        index=pd.Index(ids, name="customer_id"),
    )
    return transactions, customers
