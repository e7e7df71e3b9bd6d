"""Synthetic purchase histories following a BG/NBD-style buy-till-you-die process.

Each customer's buying style (``BUYING_STYLES``) sets the channels and categories of their
transactions and scales their purchase rate, churn, spend per purchase and share of returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_service.domain.formats import TRANSACTION_COLUMNS

from .customers import CustomerDraw
from .sampling import (
    SECONDS_PER_DAY,
    BoolArray,
    FloatArray,
    IntArray,
    choose_per_group,
    format_ids,
    pick,
    seconds_to_datetimes,
    text,
)
from .vocabulary import ARCHETYPES, BUYING_STYLES, CATEGORIES, CHANNELS

_NEVER_BUY_SHARE = 0.10
# Purchase rate per year ~ Gamma(shape, mean / shape), the mean being the type's base rate
# times the style's factor; B2B customers reorder more often. Most of the spread of rates
# between customers is the styles', so within a style it is moderate.
_RATE_SHAPE = 8.0
_B2C_PURCHASES_PER_YEAR = 9.0
_B2B_PURCHASES_PER_YEAR = 12.0
# Chance of becoming inactive after each purchase ~ Beta(a, b), mean about 4% at the type's
# base rate; a style that buys k times as often leaves after each purchase k times less often
# (times its churn factor), so how long customers stay does not follow from how often they buy.
_DROPOUT_BETA = (1.0, 22.0)
# At the type's base rate; a style that buys k times as often first buys k times sooner.
_FIRST_PURCHASE_MEAN_DAYS = 10.0
# Mean spend per customer: type base x needs multiplier x inverse-gamma heterogeneity (mean one).
_B2C_MEAN_SPEND = 70.0
_B2B_MEAN_SPEND = 650.0
_MEAN_SPEND_SHAPE = 4.0
_SPEND_SHAPE = 3.0
_MISSING_COST_SHARE = 0.05
_OPENING_SECOND = 7 * 3600
_OPEN_SECONDS = 13 * 3600


def draw_transactions(
    rng: np.random.Generator, customers: CustomerDraw, style: IntArray, end_day: int
) -> pd.DataFrame:
    """Draw every customer's purchases and returns up to and including ``end_day``.

    ``style`` is each customer's buying style, an index into ``BUYING_STYLES``.
    """
    owner, occurred_at = _purchase_times(rng, customers, style, end_day)
    owner_style = style[owner]
    category = choose_per_group(rng, [s.category_shares for s in BUYING_STYLES], owner_style)
    amount = _amounts(rng, customers, style, owner, occurred_at, category)
    cost = _costs(rng, customers, owner, category, amount)
    channel = choose_per_group(rng, [s.channel_shares for s in BUYING_STYLES], owner_style)
    n_transactions = len(owner)
    id_digits = max(8, len(str(n_transactions)))
    return pd.DataFrame(
        {
            "transaction_id": text(format_ids("T", np.arange(1, n_transactions + 1), id_digits)),
            "customer_id": text(customers.customer_ids[owner]),
            "occurred_at": seconds_to_datetimes(occurred_at),
            "amount": amount,
            "cost": cost,
            "channel": text(pick(CHANNELS, channel)),
            "category": text(pick([c.name for c in CATEGORIES], category)),
        },
        columns=list(TRANSACTION_COLUMNS),
        copy=False,
    )


def _amounts(
    rng: np.random.Generator,
    customers: CustomerDraw,
    style: IntArray,
    owner: IntArray,
    occurred_at: IntArray,
    category: IntArray,
) -> FloatArray:
    """Purchase amounts in cents precision, with returns (the style's share) as negative amounts."""
    mean_spend = _customer_mean_spend(rng, customers, style)[owner]
    amount_factor = np.array([c.amount_factor for c in CATEGORIES])[category]
    purchase = rng.gamma(_SPEND_SHAPE, mean_spend * amount_factor / _SPEND_SHAPE)
    # A return needs an earlier purchase, and gives back at most a typical purchase.
    first_purchase = np.full(len(customers.is_b2b), np.iinfo(np.int64).max)
    np.minimum.at(first_purchase, owner, occurred_at)
    can_return = occurred_at > first_purchase[owner]
    return_share = np.array([s.return_share for s in BUYING_STYLES])[style[owner]]
    return_rate = return_share * len(owner) / max(int(can_return.sum()), 1)
    is_return = can_return & (rng.random(len(owner)) < return_rate)
    refund = rng.uniform(0.1, 1.0, len(owner)) * mean_spend
    amount: FloatArray = np.maximum(np.round(np.where(is_return, refund, purchase), 2), 0.01)
    amount[is_return] *= -1.0
    return amount


def _costs(
    rng: np.random.Generator,
    customers: CustomerDraw,
    owner: IntArray,
    category: IntArray,
    amount: FloatArray,
) -> FloatArray:
    """Amount minus a margin that depends on category and customer; a few costs are unknown."""
    customer_margin = rng.normal(0.0, 0.05, len(customers.is_b2b)) - 0.04 * customers.is_b2b
    margin_rate = (
        np.array([c.margin_rate for c in CATEGORIES])[category]
        + customer_margin[owner]
        + rng.normal(0.0, 0.03, len(owner))
    )
    cost: FloatArray = np.round(amount * (1.0 - np.clip(margin_rate, 0.05, 0.8)), 2)
    cost[rng.random(len(owner)) < _MISSING_COST_SHARE] = np.nan
    return cost


def _purchase_times(
    rng: np.random.Generator, customers: CustomerDraw, style: IntArray, end_day: int
) -> tuple[IntArray, IntArray]:
    """Owner index and epoch second of every purchase, in time order (ties by customer).

    The first purchase follows signup after an exponential delay, short for frequent buyers.
    Further purchases are Poisson events, and after each purchase the customer drops out with
    probability ``p``: their count is min(Geometric(p) - 1, K) with K ~ Poisson(rate * window),
    and given K they are the first order statistics of K uniforms on the window, drawn via
    exponential spacings.
    """
    n = len(customers.is_b2b)
    is_b2b = customers.is_b2b
    rate_factor = np.array([s.rate_factor for s in BUYING_STYLES])[style]
    churn_factor = np.array([s.churn_factor for s in BUYING_STYLES])[style]
    yearly_rate = np.where(is_b2b, _B2B_PURCHASES_PER_YEAR, _B2C_PURCHASES_PER_YEAR) * rate_factor
    daily_rate = rng.gamma(_RATE_SHAPE, yearly_rate / _RATE_SHAPE) / 365.0
    dropout = np.minimum(rng.beta(*_DROPOUT_BETA, n) * churn_factor / rate_factor, 1.0)
    first_delay = rng.exponential(_FIRST_PURCHASE_MEAN_DAYS / rate_factor)
    first_time = customers.signup_day + first_delay
    buys = (rng.random(n) >= _NEVER_BUY_SHARE) & (first_time < end_day + 1)
    window = np.where(buys, end_day + 1 - first_time, 0.0)
    events_in_window = rng.poisson(daily_rate * window)
    repeat_count = np.where(buys, np.minimum(rng.geometric(dropout) - 1, events_in_window), 0)

    repeat_owner = np.repeat(np.arange(n), repeat_count)
    running_spacing = np.cumsum(rng.standard_exponential(len(repeat_owner)))
    group_end = np.cumsum(repeat_count)
    before_group = np.concatenate(([0.0], running_spacing))[group_end - repeat_count]
    spacings_so_far = running_spacing - before_group[repeat_owner]
    drawn_spacings = np.concatenate(([0.0], running_spacing))[group_end] - before_group
    # Sum of all K + 1 spacings: the m drawn ones plus a Gamma(K + 1 - m) remainder.
    total_spacing = drawn_spacings + rng.standard_gamma(events_in_window + 1 - repeat_count)
    repeat_time = first_time[repeat_owner] + (
        window[repeat_owner] * spacings_so_far / total_spacing[repeat_owner]
    )

    purchase_count = buys + repeat_count
    owner = np.repeat(np.arange(n), purchase_count)
    is_first = np.zeros(len(owner), dtype=bool)
    is_first[(np.cumsum(purchase_count) - purchase_count)[buys]] = True
    time = np.empty(len(owner))
    time[is_first] = first_time[buys]
    time[~is_first] = repeat_time  # already grouped by customer and in time order
    day = _move_b2b_off_weekends(rng, np.floor(time).astype(np.int64), is_b2b[owner])
    day = np.clip(day, customers.signup_day[owner], end_day)
    second_of_day = _OPENING_SECOND + (rng.beta(2.2, 2.2, len(owner)) * _OPEN_SECONDS).astype(
        np.int64
    )
    occurred_at = day * SECONDS_PER_DAY + second_of_day
    # Still grouped by customer here, so the stable sort breaks ties in customer order.
    chronological = np.argsort(occurred_at, kind="stable")
    return owner[chronological], occurred_at[chronological]


def _move_b2b_off_weekends(rng: np.random.Generator, day: IntArray, is_b2b: BoolArray) -> IntArray:
    """Move business purchases from a weekend to a random weekday of the same week."""
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0.
    moved = is_b2b & (weekday >= 5)
    new_weekday = rng.integers(0, 5, len(day))
    return np.where(moved, day - weekday + new_weekday, day)


def _customer_mean_spend(
    rng: np.random.Generator, customers: CustomerDraw, style: IntArray
) -> FloatArray:
    """Mean spend per purchase, with a heavy right tail (Gamma-Gamma style)."""
    n = len(customers.is_b2b)
    company_size = np.power(np.nan_to_num(customers.employees, nan=10.0) / 10.0, 0.3)
    base = np.where(customers.is_b2b, _B2B_MEAN_SPEND * company_size, _B2C_MEAN_SPEND)
    needs_factor = np.array([a.spend_factor for a in ARCHETYPES])[customers.archetype]
    heterogeneity = (_MEAN_SPEND_SHAPE - 1.0) / rng.gamma(_MEAN_SPEND_SHAPE, 1.0, n)
    style_factor = np.array([s.spend_factor for s in BUYING_STYLES])[style]
    mean_spend: FloatArray = base * needs_factor * style_factor * heterogeneity
    return mean_spend
