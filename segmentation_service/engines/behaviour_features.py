"""How customers buy, per customer: the behavioural features, from transaction counts.

The store gives a long frame: per customer, channel and
category of their transactions in the window, the purchases (amount ≥ 0), returns
(amount < 0), what the purchases came to and the first and last purchase
(columns customer_id, channel, category, purchases, returns, spend,
first_purchase, last_purchase).
``behaviour_counts`` pivots it into one row per customer (``BehaviourCounts``), which
adds up across partitions; ``behaviour_features`` turns those into the features a
marketer reads, in eight families:

- ``ChannelMix``: ``channel.<name>``, share of the customer's purchases per channel;
- ``CategoryMix``: ``category.<name>``, share of their spend per category;
- ``Frequency``: ``purchasesPerYear`` over the part of the window they were a customer;
- ``Basket``: ``averageBasket``, spend per purchase;
- ``Returns``: ``returnRate``, returns per transaction (the share of negative amounts);
- ``Interval``: ``daysBetweenPurchases``, mean days between first and last purchase;
- ``Tenure``: ``tenureYears`` since signing up (else since the first purchase seen);
- ``Recency``: ``recencyDays`` since the last purchase.

A customer without a purchase in the window has no behaviour to segment on: they
are not in the features frame (the run leaves them unassigned and counts them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from segmentation_service.domain.model import BehaviourFeature
from segmentation_service.engines.value_features import MONEY_DECIMALS

CHANNEL_PREFIX = "channel."
CATEGORY_PREFIX = "category."
UNKNOWN = "Unknown"  # a transaction without a channel or category
DAYS_PER_YEAR = 365.25
# A customer seen for less than this is rated over this much time: two purchases in
# their first week are not a rate of a hundred a year.
MINIMUM_EXPOSURE_DAYS = 30

ALL_FAMILIES: tuple[BehaviourFeature, ...] = tuple(BehaviourFeature)
MIX_FAMILIES = (BehaviourFeature.CHANNEL_MIX, BehaviourFeature.CATEGORY_MIX)
NUMBER_FEATURES: dict[BehaviourFeature, str] = {
    BehaviourFeature.FREQUENCY: "purchasesPerYear",
    BehaviourFeature.BASKET: "averageBasket",
    BehaviourFeature.RETURNS: "returnRate",
    BehaviourFeature.INTERVAL: "daysBetweenPurchases",
    BehaviourFeature.TENURE: "tenureYears",
    BehaviourFeature.RECENCY: "recencyDays",
}
# Skewed counts and amounts are clustered on their logarithm (log1p).
LOGGED_FEATURES = frozenset(
    {"purchasesPerYear", "averageBasket", "daysBetweenPurchases", "tenureYears", "recencyDays"}
)


@dataclass(frozen=True)
class BehaviourWindow:
    """Transactions dated after ``start`` (exclusive) up to ``as_of`` (inclusive)."""

    as_of: date
    lookback_months: int

    @property
    def start(self) -> date:
        return (pd.Timestamp(self.as_of) - pd.DateOffset(months=self.lookback_months)).date()

    @property
    def days(self) -> int:
        return (self.as_of - self.start).days


@dataclass(frozen=True)
class BehaviourCounts:
    """Per customer with a transaction in the window (index: customer_id, sorted):
    ``totals`` (purchases, returns, spend, first_purchase, last_purchase, signup_date),
    ``channels`` (purchases per channel) and ``categories`` (spend per category)."""

    totals: pd.DataFrame
    channels: pd.DataFrame
    categories: pd.DataFrame

    @property
    def purchasers(self) -> pd.Index:
        """The customers with at least one purchase in the window: the segmentable ones."""
        return self.totals.index[self.totals["purchases"].to_numpy() > 0]

    def take(self, customer_ids: pd.Index) -> BehaviourCounts:
        return BehaviourCounts(
            self.totals.loc[customer_ids],
            self.channels.loc[customer_ids],
            self.categories.loc[customer_ids],
        )

    @classmethod
    def concat(cls, parts: Sequence[BehaviourCounts]) -> BehaviourCounts:
        """Disjoint customers' counts as one, sorted by customer_id (0 for a column
        another part lacks)."""
        return cls(
            pd.concat([part.totals for part in parts]).sort_index(),
            _concat_counts([part.channels for part in parts]),
            _concat_counts([part.categories for part in parts]),
        )


def behaviour_counts(long: pd.DataFrame, signup_dates: pd.Series) -> BehaviourCounts:
    """``BehaviourCounts`` of the store's long frame; ``signup_dates`` by customer_id."""
    frame = long.fillna({"channel": UNKNOWN, "category": UNKNOWN})
    # The database adds amounts in any order: sums rounded, as value features round them,
    # so a customer's figures (and reasons) do not depend on the partitioning.
    frame["spend"] = frame["spend"].astype(float).round(MONEY_DECIMALS)
    by_customer = frame.groupby("customer_id", sort=True)
    totals = by_customer.agg(
        purchases=("purchases", "sum"),
        returns=("returns", "sum"),
        spend=("spend", "sum"),
        first_purchase=("first_purchase", "min"),
        last_purchase=("last_purchase", "max"),
    )
    totals["spend"] = totals["spend"].round(MONEY_DECIMALS)
    totals["signup_date"] = pd.to_datetime(signup_dates.reindex(totals.index))
    channels = _wide(frame, "channel", "purchases", totals.index)
    categories = _wide(frame, "category", "spend", totals.index)
    return BehaviourCounts(totals, channels, categories)


def behaviour_features(
    counts: BehaviourCounts,
    window: BehaviourWindow,
    families: Sequence[BehaviourFeature] = ALL_FAMILIES,
    channels: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The features of the customers with a purchase in the window, one column per
    feature of ``families`` (mixes over ``channels`` / ``categories``: the run's
    names, sorted; default the counts' own), indexed by customer_id."""
    counts = counts.take(counts.purchasers)
    totals = counts.totals
    purchases = totals["purchases"].to_numpy(dtype=float)
    as_of = pd.Timestamp(window.as_of) + pd.Timedelta(days=1)  # the end of as_of
    first_seen = totals["signup_date"].fillna(totals["first_purchase"])
    # a signup recorded after the first purchase: the purchase is when they began
    first_seen = first_seen.where(first_seen <= totals["first_purchase"], totals["first_purchase"])
    tenure_days = (as_of - first_seen).dt.total_seconds().to_numpy() / 86400
    exposure = np.clip(tenure_days, MINIMUM_EXPOSURE_DAYS, window.days)
    span = (totals["last_purchase"] - totals["first_purchase"]).dt.total_seconds().to_numpy()
    columns: dict[str, np.ndarray] = {}
    chosen = set(families)
    if BehaviourFeature.CHANNEL_MIX in chosen:
        names = sorted(counts.channels.columns) if channels is None else list(channels)
        columns |= _shares(counts.channels, names, CHANNEL_PREFIX)
    if BehaviourFeature.CATEGORY_MIX in chosen:
        names = sorted(counts.categories.columns) if categories is None else list(categories)
        columns |= _shares(counts.categories, names, CATEGORY_PREFIX)
    numbers = {
        "purchasesPerYear": purchases / (exposure / DAYS_PER_YEAR),
        "averageBasket": totals["spend"].to_numpy(dtype=float) / purchases,
        "returnRate": totals["returns"].to_numpy(dtype=float)
        / (purchases + totals["returns"].to_numpy(dtype=float)),
        # one purchase: no interval seen; it is at least as long as the time since
        "daysBetweenPurchases": np.where(
            purchases > 1,
            span / 86400 / np.maximum(purchases - 1, 1),
            (as_of - totals["first_purchase"]).dt.total_seconds().to_numpy() / 86400,
        ),
        "tenureYears": tenure_days / DAYS_PER_YEAR,
        "recencyDays": (as_of - totals["last_purchase"]).dt.total_seconds().to_numpy() / 86400,
    }
    for family, name in NUMBER_FEATURES.items():
        if family in chosen:
            columns[name] = numbers[name]
    return pd.DataFrame(columns, index=totals.index)


def feature_family(feature: str) -> BehaviourFeature:
    if feature.startswith(CHANNEL_PREFIX):
        return BehaviourFeature.CHANNEL_MIX
    if feature.startswith(CATEGORY_PREFIX):
        return BehaviourFeature.CATEGORY_MIX
    return next(family for family, name in NUMBER_FEATURES.items() if name == feature)


def _shares(wide: pd.DataFrame, names: Sequence[str], prefix: str) -> dict[str, np.ndarray]:
    """Each row's share per name (equal shares for a row with nothing, e.g. free items only)."""
    amounts = wide.reindex(columns=list(names), fill_value=0.0).to_numpy(dtype=float)
    amounts = np.clip(amounts, 0.0, None)
    totals = amounts.sum(axis=1, keepdims=True)
    shares = np.divide(
        amounts, totals, out=np.full_like(amounts, 1.0 / max(len(names), 1)), where=totals > 0
    )
    return {f"{prefix}{name}": shares[:, i] for i, name in enumerate(names)}


def _wide(frame: pd.DataFrame, key: str, amount: str, index: pd.Index) -> pd.DataFrame:
    wide = frame.pivot_table(index="customer_id", columns=key, values=amount, aggfunc="sum")
    wide.columns = [str(name) for name in wide.columns]
    wide = wide.reindex(index=index, columns=sorted(wide.columns)).fillna(0.0).astype(float)
    return wide.round(MONEY_DECIMALS)


def _concat_counts(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    names = sorted({str(name) for frame in frames for name in frame.columns})
    aligned = [frame.reindex(columns=names, fill_value=0.0) for frame in frames]
    return pd.concat(aligned).sort_index().fillna(0.0) if aligned else pd.DataFrame()
