"""value_features and ValueBasedSegmenter: hand-made aggregates and the demo store."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.engines import clv
from segmentation_service.engines.value_based import (
    ValueBasedSegmenter,
    ValueModel,
    predict_clv,
    score_with_model,
    spend_per_purchase,
    tier_names,
    tier_of,
)
from segmentation_service.engines.value_features import value_features
from tests.factories import END_DATE, demo

AS_OF = date(2026, 6, 30)
METRICS = ["Revenue", "Margin", "Rfm"]
VALUE_COLUMN = {"Revenue": "revenue", "Margin": "margin"}


def aggregates(*rows: tuple[object, ...]) -> pd.DataFrame:
    """Rows of the store's aggregate columns, indexed by customer_id."""
    columns = [
        "customer_id",
        "transaction_count",
        "purchase_count",
        "revenue",
        "gross_revenue",
        "cost",
        "first_purchase",
        "last_purchase",
        "purchase_days",
        "repeat_spend",
    ]
    frame = pd.DataFrame(list(rows), columns=columns).set_index("customer_id")
    for column in ("first_purchase", "last_purchase"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def demo_aggregates(transactions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """What the store's aggregate query returns, computed with pandas.

    Purchases have an amount of zero or more, returns a negative one; a day's purchases
    are one purchase day; repeat spend is spent on purchase days after the first.
    """
    tx = transactions[transactions["occurred_at"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    tx = tx.assign(cost=tx["cost"].fillna(0.0))
    purchases = tx[tx["amount"] >= 0].assign(day=lambda f: f["occurred_at"].dt.normalize())
    first_day = purchases.groupby("customer_id")["day"].transform("min")
    repeat = purchases[purchases["day"] > first_day]
    by_customer, by_buyer = tx.groupby("customer_id"), purchases.groupby("customer_id")
    frame = pd.DataFrame(
        {
            "transaction_count": by_customer.size(),
            "purchase_count": by_buyer.size(),
            "revenue": by_customer["amount"].sum(),
            "gross_revenue": by_buyer["amount"].sum(),
            "cost": by_customer["cost"].sum(),
            "first_purchase": by_buyer["occurred_at"].min(),
            "last_purchase": by_buyer["occurred_at"].max(),
            "purchase_days": by_buyer["day"].nunique(),
            "repeat_spend": repeat.groupby("customer_id")["amount"].sum(),
        }
    )
    filled = {"purchase_count": 0, "purchase_days": 0, "gross_revenue": 0.0, "repeat_spend": 0.0}
    return frame.fillna(filled)


@lru_cache(maxsize=4)
def _demo_features(n: int, seed: int) -> pd.DataFrame:
    data = demo(n, seed)
    customers = data.customers.set_index("customer_id")
    features = value_features(
        demo_aggregates(data.transactions, END_DATE), customers.index, END_DATE
    )
    features["annual_cost_to_serve"] = customers["annual_cost_to_serve"].astype(float)
    return features


def demo_features(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Value features of the demo store as of its end date (a fresh copy)."""
    return _demo_features(n, seed).copy()


@lru_cache(maxsize=8)
def _fitted(metric: str, tier_count: int = 4) -> ValueBasedSegmenter:
    return ValueBasedSegmenter(metric, tier_count, as_of=END_DATE).fit(demo_features())


@pytest.fixture(params=METRICS)
def fitted(request: pytest.FixtureRequest) -> ValueBasedSegmenter:
    """A four-tier segmenter fitted on the demo store; tests must not modify it."""
    return _fitted(request.param)


# value_features ------------------------------------------------------------


@pytest.fixture
def hand_made() -> pd.DataFrame:
    rows = aggregates(
        # two purchases on 2 June (one purchase day), one on 16 June, one return
        ("A", 4, 3, 250.0, 300.0, 100.0, "2026-06-02 15:30", "2026-06-16 09:00", 2, 100.0),
        # a single purchase day two years before the as-of date
        ("B", 1, 1, 2400.0, 2400.0, 400.0, "2024-06-30 10:00", "2024-06-30 10:00", 1, 0.0),
        # first purchase on the as-of date
        ("D", 1, 1, 80.0, 80.0, 0.0, "2026-06-30 18:00", "2026-06-30 18:00", 1, 0.0),
        # outside the population
        ("Z", 1, 1, 10.0, 10.0, 0.0, "2026-01-01 10:00", "2026-01-01 10:00", 1, 0.0),
    )
    return value_features(rows, pd.Index(["D", "C", "B", "A"], name="customer_id"), AS_OF)


def test_value_features_cover_the_population_in_its_order(hand_made: pd.DataFrame) -> None:
    assert list(hand_made.index) == ["D", "C", "B", "A"]
    assert hand_made["has_purchases"].tolist() == [True, False, True, True]


def test_frequency_counts_repeat_purchase_days(hand_made: pd.DataFrame) -> None:
    assert hand_made["frequency"].tolist() == [0, 0, 0, 1]
    assert hand_made.loc["A", "repeat_spend_mean"] == 100.0
    assert hand_made.loc["B", "repeat_spend_mean"] == 0.0


def test_recency_and_age_are_weeks_from_the_first_purchase_day(hand_made: pd.DataFrame) -> None:
    # A: 2 June (a 15:30 purchase counts from midnight) to 16 June, and to 30 June.
    assert hand_made.loc["A", "recency_weeks"] == pytest.approx(2.0)
    assert hand_made.loc["A", "T_weeks"] == pytest.approx(4.0)
    assert hand_made.loc["B", "recency_weeks"] == 0.0
    assert hand_made.loc["B", "T_weeks"] == pytest.approx(730 / 7)
    # A first purchase on the as-of date is observed for one day.
    assert hand_made.loc["D", "T_weeks"] == pytest.approx(1 / 7)
    assert hand_made["recency_days"].tolist()[2:] == [730, 14]


def test_margin_average_order_value_and_monthly_revenue(hand_made: pd.DataFrame) -> None:
    a, b = hand_made.loc["A"], hand_made.loc["B"]
    assert (a["revenue"], a["margin"]) == (250.0, 150.0)
    assert a["margin_rate"] == pytest.approx(0.6)
    assert a["average_order_value"] == pytest.approx(300.0 / 3)  # gross revenue per purchase
    assert a["monthly_revenue"] == 250.0  # observed less than a month: one month
    assert b["monthly_revenue"] == pytest.approx(2400.0 / (730 / (365.25 / 12)))
    assert b["margin"] == 2000.0
    assert b["first_purchase_date"] == date(2024, 6, 30)
    assert a["last_purchase_date"] == date(2026, 6, 16)


def test_customers_without_transactions_get_zeros_and_no_dates(hand_made: pd.DataFrame) -> None:
    c = hand_made.loc["C"]

    assert not c["has_purchases"]
    for column in (
        "transaction_count",
        "purchase_count",
        "revenue",
        "margin",
        "average_order_value",
        "monthly_revenue",
        "frequency",
        "recency_weeks",
        "T_weeks",
        "repeat_spend_mean",
    ):
        assert c[column] == 0, column
    assert pd.isna(c["recency_days"])
    assert c["first_purchase_date"] is None and c["last_purchase_date"] is None


def test_value_features_of_no_aggregates_are_all_zero() -> None:
    features = value_features(aggregates(), pd.Index(["A", "B"]), AS_OF)

    assert not features["has_purchases"].any()
    assert features["revenue"].tolist() == [0.0, 0.0]
    assert features["T_weeks"].tolist() == [0.0, 0.0]


def test_demo_aggregates_agree_with_the_transactions() -> None:
    data = demo(300, 0)
    features = demo_features(300, 0)
    tx = data.transactions

    assert features["revenue"].sum() == pytest.approx(tx["amount"].sum())
    assert features["transaction_count"].sum() == len(tx)
    assert features["purchase_count"].sum() == int((tx["amount"] >= 0).sum())
    assert features["has_purchases"].sum() == tx.loc[tx["amount"] >= 0, "customer_id"].nunique()


# ValueBasedSegmenter ---------------------------------------------------------


def test_customers_without_purchases_stay_unassigned(fitted: ValueBasedSegmenter) -> None:
    features = demo_features()
    non_buyers = ~features["has_purchases"].to_numpy(dtype=bool)

    assert non_buyers.any()
    assert all(label is None for label in fitted.labels_[non_buyers])
    assert all(label is not None for label in fitted.labels_[~non_buyers])
    assert set(fitted.reasons_[non_buyers]) == {f"no purchases on or before {END_DATE}"}
    assert np.isnan(fitted.scores_[non_buyers]).all()
    assert fitted.metrics_["value.customersWithPurchases"] == (~non_buyers).sum()


def test_four_tiers_are_coded_v1_to_v4_with_the_metal_ladder(
    fitted: ValueBasedSegmenter,
) -> None:
    assert [s.code for s in fitted.segments_] == ["V1", "V2", "V3", "V4"]
    assert [s.name for s in fitted.segments_] == ["Platinum", "Gold", "Silver", "Bronze"]
    assert set(fitted.labels_) - {None} == {"V1", "V2", "V3", "V4"}
    assert fitted.model_.tier_codes == ["V1", "V2", "V3", "V4"]


@pytest.mark.parametrize(
    ("count", "names"),
    [
        (1, ["Bronze"]),
        (3, ["Gold", "Silver", "Bronze"]),
        (5, ["Diamond", "Platinum", "Gold", "Silver", "Bronze"]),
        (6, ["Tier 1", "Tier 2", "Tier 3", "Tier 4", "Tier 5", "Tier 6"]),
    ],
)
def test_tier_names_end_at_bronze_and_are_numbered_beyond_five(
    count: int, names: list[str]
) -> None:
    assert tier_names(count) == names


@pytest.mark.parametrize("metric", ["Revenue", "Margin"])
def test_tiers_of_distinct_values_have_near_equal_sizes(metric: str) -> None:
    segmenter = _fitted(metric)

    sizes = pd.Series(segmenter.labels_).value_counts()

    assert len(sizes) == 4
    assert sizes.max() - sizes.min() <= 1


def test_rfm_tiers_are_as_equal_as_the_ties_of_rfm_totals_allow() -> None:
    segmenter = _fitted("Rfm")
    buyers = segmenter.labels_ != None  # noqa: E711
    labels, values = segmenter.labels_[buyers], segmenter.values_[buyers]

    for value in np.unique(values):
        assert len(set(labels[values == value])) == 1
    sizes = pd.Series(labels).value_counts()
    quarter = buyers.sum() / 4
    assert sizes.between(0.5 * quarter, 1.5 * quarter).all()


def test_tier_averages_fall_from_the_first_tier_to_the_last(fitted: ValueBasedSegmenter) -> None:
    buyers = fitted.labels_ != None  # noqa: E711
    frame = pd.DataFrame({"tier": fitted.labels_[buyers], "value": fitted.values_[buyers]})

    means = frame.groupby("tier")["value"].mean().loc[["V1", "V2", "V3", "V4"]]

    assert means.is_monotonic_decreasing and means.is_unique
    lows = frame.groupby("tier")["value"].min().loc[["V1", "V2", "V3"]].to_numpy()
    highs = frame.groupby("tier")["value"].max().loc[["V2", "V3", "V4"]].to_numpy()
    assert np.all(lows > highs)  # tiers do not overlap


def test_values_are_the_chosen_metric() -> None:
    features = demo_features()
    buyers = features["has_purchases"].to_numpy(dtype=bool)

    for metric, column in VALUE_COLUMN.items():
        values = _fitted(metric).values_
        assert np.array_equal(values[buyers], features[column].to_numpy(float)[buyers])
        assert np.isnan(values[~buyers]).all()
    rfm_totals = _fitted("Rfm").values_[buyers]
    assert set(np.unique(rfm_totals)) <= set(range(3, 16))


def test_reasons_state_the_tier_bounds_and_the_customers_value() -> None:
    segmenter = _fitted("Revenue")
    by_code = {s.code: s for s in segmenter.segments_}

    for i in np.flatnonzero(segmenter.labels_ != None)[:50]:  # noqa: E711
        segment = by_code[segmenter.labels_[i]]
        low, high = dict(segment.profile)["minimum"], dict(segment.profile)["maximum"]
        bounds = f"revenue from {float(low):,.2f} to {float(high):,.2f}"
        assert segment.description == f"{segment.name} tier: {bounds}"
        value = f"{segmenter.values_[i]:,.2f}"
        assert segmenter.reasons_[i] == (
            f"{segment.name} tier ({bounds}); this customer's revenue is {value}"
        )


def test_scores_are_percentile_ranks_of_the_value(fitted: ValueBasedSegmenter) -> None:
    buyers = fitted.labels_ != None  # noqa: E711
    scores, values = fitted.scores_[buyers], fitted.values_[buyers]

    assert scores.min() > 0 and scores.max() <= 1.0
    assert set(scores[values == values.max()]) == {scores.max()}
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)


def test_tier_of_places_values_by_the_first_floor_they_reach() -> None:
    floors = [10.0, 5.0, 1.0]

    tiers = tier_of([12, 10, 10, 9.99, 5, 5, 1, 0.5, -3], floors)

    assert tiers.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_equal_values_share_a_tier_even_across_an_equal_count_boundary() -> None:
    features = demo_features(300, 0)
    buyers = np.flatnonzero(features["has_purchases"].to_numpy(dtype=bool))
    # Twenty buyers around the V1/V2 cut (a quarter of the buyers) share one revenue.
    last_of_v1 = int(np.ceil(len(buyers) / 4)) - 1
    by_revenue = features.iloc[buyers].sort_values("revenue", ascending=False).index
    tied = by_revenue[last_of_v1 - 9 : last_of_v1 + 11]
    above, below = (
        float(features.loc[by_revenue[i], "revenue"]) for i in (last_of_v1 - 10, last_of_v1 + 11)
    )
    tie = round((above + below) / 2, 2)
    features.loc[tied, "revenue"] = tie
    ranked = features.iloc[buyers]["revenue"].sort_values(ascending=False).to_numpy()
    assert ranked[last_of_v1] == ranked[last_of_v1 + 1] == tie  # the cut falls in the tie

    segmenter = ValueBasedSegmenter("Revenue", 4, as_of=END_DATE).fit(features)

    position = features.index.get_indexer(tied)
    assert len(set(segmenter.labels_[position])) == 1


def test_the_value_model_round_trips_through_a_dict_and_json(fitted: ValueBasedSegmenter) -> None:
    model = fitted.model_

    data = model.to_dict()
    restored = ValueModel.from_dict(json.loads(json.dumps(data)))

    assert restored == model
    assert data["as_of"] == END_DATE.isoformat()
    assert restored.as_of == END_DATE
    assert len(model.tier_floors) == 4
    assert set(model.rfm_thresholds) == {"recency", "frequency", "monetary"}


def test_scoring_with_the_model_reproduces_the_fitted_tiers(fitted: ValueBasedSegmenter) -> None:
    features = demo_features()
    model = ValueModel.from_dict(json.loads(json.dumps(fitted.model_.to_dict())))

    scored = score_with_model(features, model, features["annual_cost_to_serve"], 12, 0.10)

    assert list(scored.columns) == [
        "rfm_score",
        "rfm_segment",
        "predicted_clv",
        "value_tier",
        "probability_alive",
        "expected_purchases",
    ]
    alive = scored["probability_alive"][features["has_purchases"].to_numpy(dtype=bool)]
    assert alive.between(0, 1).all()
    names = dict(zip(model.tier_codes, model.tier_names, strict=True))
    expected = [None if code is None else names[code] for code in fitted.labels_]
    assert scored["value_tier"].tolist() == expected
    buyers = features["has_purchases"].to_numpy(dtype=bool)
    assert scored["rfm_score"][~buyers].isna().all()
    assert scored["rfm_score"][buyers].str.fullmatch(r"[1-5]{3}").all()


def test_fewer_buyers_than_tiers_is_insufficient_data() -> None:
    rows = aggregates(
        ("A", 1, 1, 10.0, 10.0, 0.0, "2026-06-01 10:00", "2026-06-01 10:00", 1, 0.0),
        ("B", 1, 1, 20.0, 20.0, 0.0, "2026-06-02 10:00", "2026-06-02 10:00", 1, 0.0),
        ("C", 1, 1, 30.0, 30.0, 0.0, "2026-06-03 10:00", "2026-06-03 10:00", 1, 0.0),
    )
    features = value_features(rows, pd.Index(["A", "B", "C", "D", "E"]), AS_OF)
    features["annual_cost_to_serve"] = 0.0

    with pytest.raises(InsufficientData, match="3 customers have purchases; 4 tiers need at least"):
        ValueBasedSegmenter("Revenue", 4, as_of=AS_OF).fit(features)


def test_an_unknown_value_metric_raises_value_error() -> None:
    with pytest.raises(ValueError, match="Turnover"):
        ValueBasedSegmenter("Turnover").fit(demo_features(300, 0))


def test_a_missing_feature_column_raises_value_error_naming_it() -> None:
    features = demo_features(300, 0).drop(columns=["annual_cost_to_serve"])

    with pytest.raises(ValueError, match="annual_cost_to_serve") as raised:
        ValueBasedSegmenter("Margin", as_of=END_DATE).fit(features)
    assert not isinstance(raised.value, InsufficientData)  # the caller's bug, not the data


def test_a_tier_count_below_one_raises_value_error() -> None:
    with pytest.raises(ValueError, match="tier_count"):
        ValueBasedSegmenter("Margin", 0, as_of=END_DATE).fit(demo_features(300, 0))


def test_the_model_records_the_as_of_date_and_metric() -> None:
    segmenter = ValueBasedSegmenter("Margin", 3, as_of=datetime(2026, 6, 30).date())

    model = segmenter.fit(demo_features(300, 0)).model_

    assert (model.as_of, model.metric) == (date(2026, 6, 30), "Margin")
    assert model.tier_names == ["Gold", "Silver", "Bronze"]
    assert model.tier_floors == sorted(model.tier_floors, reverse=True)


# Purchases of zero value -----------------------------------------------------

FREE_ROWS = (
    # took free items on three days (two repeat purchases) and never paid
    ("FREE-REPEAT", 3, 3, 0.0, 0.0, 0.0, "2026-04-01 10:00", "2026-06-01 10:00", 3, 0.0),
    # took one free item
    ("FREE-ONCE", 1, 1, 0.0, 0.0, 0.0, "2026-05-04 10:00", "2026-05-04 10:00", 1, 0.0),
    # paid 60 once, then took free items on two later days
    ("PAID-THEN-FREE", 3, 3, 60.0, 60.0, 20.0, "2026-03-02 10:00", "2026-06-15 10:00", 3, 0.0),
)
FREE_IDS = [row[0] for row in FREE_ROWS]
GAMMA_GAMMA = clv.GammaGammaParams(p=5.0, q=6.0, v=50.0, customers=0)


def with_free_purchases() -> pd.DataFrame:
    """The demo features, repeat spend drawn from Gamma–Gamma (so it fits), and FREE_ROWS."""
    features = demo_features()
    repeaters = features["frequency"].to_numpy() > 0
    x = features.loc[repeaters, "frequency"].to_numpy(float)
    rng = np.random.default_rng(0)
    nu = rng.gamma(GAMMA_GAMMA.q, 1 / GAMMA_GAMMA.v, x.size)
    features.loc[repeaters, "repeat_spend_mean"] = rng.gamma(GAMMA_GAMMA.p * x, 1 / (nu * x))
    free = value_features(aggregates(*FREE_ROWS), pd.Index(FREE_IDS, name="customer_id"), AS_OF)
    free["annual_cost_to_serve"] = 0.0
    return pd.concat([features, free])


def test_customers_who_only_took_free_items_are_assigned_last_and_fitted() -> None:
    features = with_free_purchases()
    paid_repeaters = features[(features["frequency"] > 0) & (features["repeat_spend_mean"] > 0)]

    segmenter = ValueBasedSegmenter("Margin", 4, as_of=AS_OF).fit(features)

    position = features.index.get_indexer(["FREE-REPEAT", "FREE-ONCE"])
    assert segmenter.labels_[position].tolist() == ["V4", "V4"]
    assert segmenter.values_[position].tolist() == [0.0, 0.0]
    buyers = int(features["has_purchases"].sum())
    assert buyers == int(demo_features()["has_purchases"].sum()) + 3
    assert segmenter.metrics_["value.customersWithPurchases"] == buyers
    assert segmenter.metrics_["bgnbd.customers"] == buyers  # BG/NBD is fitted on them too
    # Gamma–Gamma models positive spend: the two free repeaters stay out of its fit only.
    assert len(paid_repeaters) == int((features["frequency"] > 0).sum()) - 2
    spend_model = clv.fit_gamma_gamma(
        paid_repeaters["frequency"], paid_repeaters["repeat_spend_mean"]
    )
    assert segmenter.metrics_["clv.spendModel"] == 1.0
    assert segmenter.metrics_["gammagamma.q"] == pytest.approx(spend_model.q)


def test_clv_of_buyers_who_paid_nothing_for_their_repeat_purchases_uses_their_own_spend() -> None:
    features = with_free_purchases()
    segmenter = ValueBasedSegmenter("Clv", 4, as_of=AS_OF).fit(features)
    buyers = features["has_purchases"].to_numpy(dtype=bool)
    assert np.isfinite(segmenter.values_[buyers]).all()

    free = features.loc[FREE_IDS]
    bgnbd = clv.BetaGeoParams(
        **{k: segmenter.metrics_[f"bgnbd.{k}"] for k in ("r", "alpha", "a", "b")},
        log_likelihood=0.0,
        customers=0,
    )
    gamma_gamma = clv.GammaGammaParams(
        **{k: segmenter.metrics_[f"gammagamma.{k}"] for k in ("p", "q", "v")}, customers=0
    )
    predicted = predict_clv(free, bgnbd, gamma_gamma, free["annual_cost_to_serve"], 12, 0.10)

    assert spend_per_purchase(free, gamma_gamma).tolist() == [0.0, 0.0, 20.0]
    assert predicted["clv"].tolist()[:2] == [0.0, 0.0]  # paid nothing, costs nothing to serve
    assert predicted["clv"][2] > 0
    assert all(np.isfinite(values).all() for values in predicted.values())


def test_spend_per_purchase_is_gamma_gammas_only_for_customers_who_paid() -> None:
    features = pd.DataFrame(
        {
            "frequency": [0, 2, 2, 0],
            "repeat_spend_mean": [0.0, 40.0, 0.0, 0.0],
            "average_order_value": [30.0, 45.0, 20.0, 0.0],
        }
    )
    p, q, v = GAMMA_GAMMA.p, GAMMA_GAMMA.q, GAMMA_GAMMA.v

    spend = spend_per_purchase(features, GAMMA_GAMMA)

    # One-off payer: the population mean; repeat payer: shrunk towards it; repeats all
    # free: its own average order value; never paid: nothing.
    assert spend.tolist() == pytest.approx([p * v / (q - 1), p * (v + 80) / (2 * p + q - 1), 20, 0])
    assert spend_per_purchase(features, None).tolist() == [30.0, 45.0, 20.0, 0.0]
