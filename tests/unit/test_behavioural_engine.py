"""BehaviouralSegmenter on planted buying styles: k, recovery, names, profiles, reasons."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_service.domain.errors import InsufficientData
from segmentation_service.domain.model import BehaviourFeature
from segmentation_service.engines.behaviour_features import (
    BehaviourWindow,
    behaviour_counts,
    behaviour_features,
)
from segmentation_service.engines.behavioural import BehaviouralSegmenter
from tests.planted_behaviour import PLANTED_STYLES, planted_behaviour

WINDOW = BehaviourWindow(date(2025, 6, 30), 24)


def features_of(transactions: pd.DataFrame, signups: pd.Series) -> pd.DataFrame:
    """The features, aggregated here as the store aggregates them (per customer,
    channel and category)."""
    return behaviour_features(behaviour_counts(long_frame(transactions), signups), WINDOW)


def long_frame(transactions: pd.DataFrame) -> pd.DataFrame:
    t = transactions.assign(
        purchase=transactions["amount"] >= 0,
        spent=transactions["amount"].clip(lower=0.0),
        when=transactions["occurred_at"].where(transactions["amount"] >= 0),
    )
    grouped = t.groupby(["customer_id", "channel", "category"], dropna=False)
    return grouped.agg(
        purchases=("purchase", "sum"),
        returns=("purchase", lambda p: int((~p).sum())),
        spend=("spent", "sum"),
        first_purchase=("when", "min"),
        last_purchase=("when", "max"),
    ).reset_index()


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.Series]:
    transactions, customers = planted_behaviour(900, WINDOW.as_of, seed=5)
    features = features_of(transactions, customers["signup_date"])
    return features, customers["style"].reindex(features.index)


def test_the_planted_number_of_styles_is_chosen_and_recovered(
    planted: tuple[pd.DataFrame, pd.Series],
) -> None:
    features, styles = planted
    segmenter = BehaviouralSegmenter(random_state=3).fit(features)
    assert segmenter.metrics_["behaviour.k"] == len(PLANTED_STYLES)
    assert adjusted_rand_score(styles, segmenter.labels_) >= 0.9
    assert segmenter.metrics_["behaviour.stability"] >= 0.9
    assert segmenter.metrics_["behaviour.silhouette"] > 0.2


def test_segments_are_named_after_their_distinguishing_behaviour(
    planted: tuple[pd.DataFrame, pd.Series],
) -> None:
    features, styles = planted
    segmenter = BehaviouralSegmenter(random_state=3).fit(features)
    names = {
        style: segmenter.segments_[
            [s.code for s in segmenter.segments_].index(
                pd.Series(segmenter.labels_[styles.to_numpy() == style]).mode()[0]
            )
        ].name
        for style in PLANTED_STYLES
    }
    assert names["online frequent"].startswith("Online-first")
    assert "frequent" in names["online frequent"]
    assert names["store large baskets"].startswith("Store-first")
    assert "large baskets" in names["store large baskets"]
    assert names["returns heavy"].startswith("Returns-heavy")


def test_profiles_give_each_features_mean_and_z_score(
    planted: tuple[pd.DataFrame, pd.Series],
) -> None:
    features, _ = planted
    segmenter = BehaviouralSegmenter(n_segments=3, random_state=3).fit(features)
    for segment in segmenter.segments_:
        profile = dict(segment.profile)
        members = features[segmenter.labels_ == segment.code]
        for feature in features.columns:
            assert float(profile[feature]) == pytest.approx(members[feature].mean(), abs=0.006)
            z = (members[feature].mean() - features[feature].mean()) / features[feature].std(ddof=0)
            assert float(profile[f"{feature}.zScore"]) == pytest.approx(z, abs=0.006)


def test_a_reason_names_the_customers_own_dominant_behaviours(
    planted: tuple[pd.DataFrame, pd.Series],
) -> None:
    features, styles = planted
    segmenter = BehaviouralSegmenter(n_segments=3, random_state=3).fit(features)
    returner = features.loc[(styles == "returns heavy").to_numpy(), "returnRate"].idxmax()
    reason = segmenter.reasons_[features.index.get_loc(returner)]
    assert "returns-heavy" in reason
    assert f"{features.loc[returner, 'returnRate']:.0%} returned" in reason
    code = segmenter.labels_[features.index.get_loc(returner)]
    assert f"segment {code}:" in reason


def test_mixes_are_compositional_so_spend_alone_does_not_split_segments() -> None:
    """Two styles that differ only in channel, with spend varying tenfold inside each:
    the segments follow the channel, not the spend."""
    rng = np.random.default_rng(0)
    n = 400
    online = rng.random(n) < 0.5
    share_online = np.where(online, 0.9, 0.1) + rng.normal(0, 0.03, n)
    features = pd.DataFrame(
        {
            "channel.Online": share_online,
            "channel.Store": 1 - share_online,
            "averageBasket": np.exp(rng.uniform(np.log(20), np.log(200), n)),
        }
    )
    labels = BehaviouralSegmenter(n_segments=2, random_state=0).fit(features).labels_
    assert adjusted_rand_score(online, labels) == 1.0


def test_features_follow_their_definitions() -> None:
    moments = pd.to_datetime(["2025-01-10", "2025-03-11", "2025-05-10", "2025-05-20"])
    transactions = pd.DataFrame(
        {
            "customer_id": ["C1"] * 4,
            "occurred_at": moments,
            "amount": [100.0, 50.0, 30.0, -20.0],
            "channel": ["Online", "Online", "Store", "Online"],
            "category": ["Home", "Toys", "Home", "Home"],
        }
    )
    signups = pd.Series([pd.Timestamp("2024-06-30")], index=["C1"])
    row = features_of(transactions, signups).loc["C1"]
    assert row["channel.Online"] == pytest.approx(2 / 3)
    assert row["channel.Store"] == pytest.approx(1 / 3)
    assert row["category.Home"] == pytest.approx(130 / 180)
    assert row["averageBasket"] == pytest.approx(60.0)
    assert row["returnRate"] == pytest.approx(0.25)
    assert row["daysBetweenPurchases"] == pytest.approx((moments[2] - moments[0]).days / 2)
    assert row["recencyDays"] == pytest.approx(52.0)  # 2025-05-10 to the end of 2025-06-30
    assert row["tenureYears"] == pytest.approx(366 / 365.25)
    assert row["purchasesPerYear"] == pytest.approx(3 / (366 / 365.25))


def test_a_subset_of_families_gives_only_their_features(
    planted: tuple[pd.DataFrame, pd.Series],
) -> None:
    transactions, customers = planted_behaviour(60, WINDOW.as_of, seed=1)
    counts = behaviour_counts(long_frame(transactions), customers["signup_date"])
    chosen = (BehaviourFeature.BASKET, BehaviourFeature.RETURNS)
    features = behaviour_features(counts, WINDOW, chosen)
    assert list(features.columns) == ["averageBasket", "returnRate"]


def test_too_few_purchasers_is_insufficient_data() -> None:
    features = pd.DataFrame({"averageBasket": [1.0, 2.0]})
    with pytest.raises(InsufficientData, match="2 customers bought in the window"):
        BehaviouralSegmenter(n_segments=2).fit(features)
