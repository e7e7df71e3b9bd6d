"""The demo data generator: reproducible, well-formed, and with the planted structure."""

from __future__ import annotations

import datetime
import pathlib

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from segmentation_service.demo_data import (
    CUSTOMER_COLUMNS,
    NEED_COLUMNS,
    NEEDS,
    TRANSACTION_COLUMNS,
    DemoData,
    generate_demo_data,
    write_demo_csv,
)
from segmentation_service.demo_data.vocabulary import BUYING_STYLES
from segmentation_service.engines.behaviour_features import (
    BehaviourWindow,
    behaviour_counts,
    behaviour_features,
)
from segmentation_service.engines.behavioural import BehaviouralSegmenter
from tests.unit.test_behavioural_engine import long_frame

END_DATE = datetime.date(2025, 6, 30)
N_CUSTOMERS = 2000


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate_demo_data(N_CUSTOMERS, seed=0, end_date=END_DATE)


@pytest.fixture(scope="module")
def customer_types(data: DemoData) -> pd.Series:
    return data.customers.set_index("customer_id")["customer_type"]


def test_the_same_seed_gives_identical_frames(data: DemoData) -> None:
    again = generate_demo_data(N_CUSTOMERS, seed=0, end_date=END_DATE)
    pd.testing.assert_frame_equal(again.customers, data.customers)
    pd.testing.assert_frame_equal(again.transactions, data.transactions)
    pd.testing.assert_frame_equal(again.needs, data.needs)
    pd.testing.assert_series_equal(again.needs_truth, data.needs_truth)
    pd.testing.assert_series_equal(again.behaviour_truth, data.behaviour_truth)


def test_a_different_seed_gives_different_data(data: DemoData) -> None:
    other = generate_demo_data(N_CUSTOMERS, seed=1, end_date=END_DATE)
    assert not other.customers.equals(data.customers)
    assert not other.transactions.equals(data.transactions)
    assert not other.needs.equals(data.needs)


def test_frames_have_exactly_the_specified_columns_and_dtypes(data: DemoData) -> None:
    assert tuple(data.customers.columns) == CUSTOMER_COLUMNS
    assert tuple(data.transactions.columns) == TRANSACTION_COLUMNS
    assert tuple(data.needs.columns) == NEED_COLUMNS
    customers, transactions, needs = data.customers, data.transactions, data.needs
    assert customers["employee_count"].dtype == "Int64"
    assert customers["birth_year"].dtype == "Int64"
    for column in ("annual_revenue", "acquisition_cost", "annual_cost_to_serve"):
        assert customers[column].dtype == np.float64
    assert customers["signup_date"].dtype == "datetime64[s]"
    assert transactions["occurred_at"].dtype == "datetime64[s]"
    assert transactions["amount"].dtype == np.float64
    assert transactions["cost"].dtype == np.float64
    assert needs["score"].dtype == np.int64
    assert needs["surveyed_at"].dtype == "datetime64[s]"
    for frame, column in [(customers, "name"), (transactions, "channel"), (needs, "need")]:
        assert pd.api.types.is_string_dtype(frame[column])


def test_ids_are_unique_and_formatted(data: DemoData) -> None:
    customer_ids = data.customers["customer_id"]
    transaction_ids = data.transactions["transaction_id"]
    assert customer_ids.is_unique and transaction_ids.is_unique
    assert customer_ids.str.fullmatch(r"C\d{7}").all()
    assert transaction_ids.str.fullmatch(r"T\d{8}").all()
    assert data.needs.duplicated(["customer_id", "need"]).sum() == 0


def test_every_transaction_and_answer_refers_to_an_existing_customer(data: DemoData) -> None:
    known = set(data.customers["customer_id"])
    assert set(data.transactions["customer_id"]) <= known
    assert set(data.needs["customer_id"]) <= known
    assert set(data.needs_truth.index) == set(data.needs["customer_id"])


def test_transactions_happen_between_signup_and_end_date_in_business_hours(
    data: DemoData,
) -> None:
    signup = data.customers.set_index("customer_id")["signup_date"]
    occurred_at = data.transactions["occurred_at"]
    occurred_on = occurred_at.dt.normalize()
    assert (occurred_on >= data.transactions["customer_id"].map(signup)).all()
    assert (occurred_on <= pd.Timestamp(END_DATE)).all()
    assert occurred_at.dt.hour.between(7, 20).all()


def test_signups_fall_within_the_requested_years_with_a_few_earlier(data: DemoData) -> None:
    signup = data.customers["signup_date"]
    assert (signup <= pd.Timestamp(END_DATE)).all()
    assert (signup == signup.dt.normalize()).all()
    earlier = (signup < pd.Timestamp(END_DATE) - pd.Timedelta(days=3 * 365)).mean()
    assert 0.01 < earlier < 0.1


def test_b2b_customers_have_firmographics_and_b2c_customers_a_birth_year(
    data: DemoData,
) -> None:
    customers = data.customers
    b2b = customers["customer_type"] == "B2B"
    assert set(customers["customer_type"]) == {"B2B", "B2C"}
    assert 0.35 < b2b.mean() < 0.45
    firmographics = ["industry", "employee_count", "annual_revenue"]
    assert customers.loc[b2b, firmographics].notna().all().all()
    assert customers.loc[b2b, "birth_year"].isna().all()
    assert customers.loc[~b2b, firmographics].isna().all().all()
    assert customers.loc[~b2b, "birth_year"].notna().all()


def test_missing_values_are_na_and_never_empty_strings(data: DemoData) -> None:
    for frame in (data.customers, data.transactions, data.needs):
        for column in frame.columns:
            if pd.api.types.is_string_dtype(frame[column]):
                assert not (frame[column] == "").any(), column
    assert data.customers["name"].notna().all()


def test_company_sizes_from_micro_to_large_occur_with_micro_and_small_most_common(
    data: DemoData,
) -> None:
    employees = data.customers["employee_count"].dropna().astype("int64")
    bands = pd.cut(employees, [0, 9, 49, 249, np.inf], labels=["micro", "small", "medium", "l"])
    shares = bands.value_counts(normalize=True)
    assert (shares > 0.01).all()
    assert shares["micro"] > shares["medium"] > shares["l"]
    assert shares["small"] > shares["medium"]
    revenue = data.customers["annual_revenue"].dropna()
    assert np.corrcoef(np.log(employees), np.log(revenue))[0, 1] > 0.7


def test_consumers_are_adults_spread_over_all_age_bands(data: DemoData) -> None:
    age = END_DATE.year - data.customers["birth_year"].dropna().astype("int64")
    assert age.min() >= 18 and data.customers["birth_year"].min() >= 1940
    bands = pd.cut(age, [17, 24, 34, 44, 54, 64, 120]).value_counts(normalize=True)
    assert (bands > 0.05).all()


def test_channels_lean_to_field_sales_for_b2b_and_online_or_store_for_b2c(
    data: DemoData,
) -> None:
    customers = data.customers
    b2b = customers["customer_type"] == "B2B"
    direct = customers["preferred_channel"].isin(["Field Sales", "Partner", "Phone"])
    assert direct[b2b].mean() > 0.6
    assert direct[~b2b].mean() < 0.25
    assert (customers[["acquisition_cost", "annual_cost_to_serve"]] >= 0).all().all()
    mean_costs = customers.groupby("customer_type")[["acquisition_cost", "annual_cost_to_serve"]]
    assert (mean_costs.mean().loc["B2B"] > 5 * mean_costs.mean().loc["B2C"]).all()


def test_customers_average_between_eight_and_twelve_transactions(data: DemoData) -> None:
    assert 8 <= len(data.transactions) / N_CUSTOMERS <= 12


def test_some_customers_never_buy(data: DemoData) -> None:
    buyers = data.transactions["customer_id"].nunique()
    assert 0.05 < 1 - buyers / N_CUSTOMERS < 0.2


def test_returns_are_a_few_percent_of_transactions_and_follow_a_purchase(data: DemoData) -> None:
    transactions = data.transactions
    is_return = transactions["amount"] < 0
    assert 0.01 < is_return.mean() < 0.06
    first_purchase = transactions.groupby("customer_id")["occurred_at"].min()
    returns = transactions[is_return]
    assert (returns["occurred_at"] > returns["customer_id"].map(first_purchase)).all()
    assert (transactions["amount"] != 0).all()
    assert (transactions["amount"].round(2) == transactions["amount"]).all()


def test_b2b_customers_spend_several_times_more_per_purchase(
    data: DemoData, customer_types: pd.Series
) -> None:
    purchases = data.transactions[data.transactions["amount"] > 0]
    mean_amount = purchases.groupby(purchases["customer_id"].map(customer_types))["amount"].mean()
    assert mean_amount["B2B"] > 4 * mean_amount["B2C"]


def test_cost_is_sometimes_missing_and_otherwise_leaves_a_plausible_margin(data: DemoData) -> None:
    transactions = data.transactions
    assert 0.02 < transactions["cost"].isna().mean() < 0.08
    priced = transactions.dropna(subset=["cost"])
    margin_rate = 1 - priced["cost"] / priced["amount"]
    assert margin_rate.between(0, 1).all()
    assert 0.2 < margin_rate.median() < 0.6
    assert set(transactions["category"]) == {
        "Hardware",
        "Software",
        "Services",
        "Supplies",
        "Training",
    }


def test_about_eighty_percent_answered_the_survey_some_only_partly(data: DemoData) -> None:
    needs = data.needs
    assert 0.75 < len(data.needs_truth) / N_CUSTOMERS < 0.85
    answers_per_respondent = needs.groupby("customer_id").size()
    assert answers_per_respondent.max() == len(NEEDS)
    assert 0.05 < (answers_per_respondent < len(NEEDS)).mean() < 0.15
    assert answers_per_respondent.min() >= len(NEEDS) - 3
    assert set(needs["need"]) == set(NEEDS)


def test_scores_run_from_one_to_seven_with_one_recent_survey_date_per_respondent(
    data: DemoData,
) -> None:
    needs = data.needs
    assert needs["score"].between(1, 7).all()
    assert needs.groupby("customer_id")["surveyed_at"].nunique().eq(1).all()
    end = pd.Timestamp(END_DATE)
    assert needs["surveyed_at"].between(end - pd.Timedelta(days=365), end).all()
    signup = data.customers.set_index("customer_id")["signup_date"]
    assert (needs["surveyed_at"] >= needs["customer_id"].map(signup)).all()


def test_planted_needs_segments_are_recovered_by_kmeans(data: DemoData) -> None:
    matrix = data.needs.pivot(index="customer_id", columns="need", values="score").dropna()
    scaled = StandardScaler().fit_transform(matrix.to_numpy(dtype=float))
    labels = KMeans(n_clusters=5, n_init=10, random_state=0).fit_predict(scaled)
    truth = data.needs_truth.loc[matrix.index]
    assert sorted(truth.unique()) == [0, 1, 2, 3, 4]
    assert adjusted_rand_score(truth, labels) >= 0.9


def test_quality_and_innovation_seekers_spend_more_than_price_seekers(data: DemoData) -> None:
    spend = data.transactions.groupby("customer_id")["amount"].sum()
    spend_per_respondent = spend.reindex(data.needs_truth.index, fill_value=0.0)
    mean_by_segment = spend_per_respondent.groupby(data.needs_truth).mean()
    price_and_speed, quality_and_brand, innovation_and_sustainability = 0, 1, 3
    assert mean_by_segment[quality_and_brand] > 1.3 * mean_by_segment[price_and_speed]
    assert mean_by_segment[innovation_and_sustainability] > 1.3 * mean_by_segment[price_and_speed]


def test_every_customer_has_a_buying_style_and_businesses_buy_through_field_accounts(
    data: DemoData, customer_types: pd.Series
) -> None:
    styles = data.behaviour_truth
    assert list(styles.index) == list(data.customers["customer_id"])
    assert set(styles) == {style.label for style in BUYING_STYLES}
    is_b2b = customer_types.reindex(styles.index) == "B2B"
    assert (styles[is_b2b] == "field accounts").all()
    assert (styles[~is_b2b] != "field accounts").all()


def test_planted_buying_styles_are_chosen_and_recovered_by_the_behavioural_method() -> None:
    data = generate_demo_data(3000, seed=0, end_date=END_DATE)
    window = BehaviourWindow(END_DATE, 24)
    # As the store reads the window: whole days after window.start, up to END_DATE.
    first_day = pd.Timestamp(window.start) + pd.Timedelta(days=1)
    in_window = data.transactions[data.transactions["occurred_at"] >= first_day]
    signups = data.customers.set_index("customer_id")["signup_date"]
    features = behaviour_features(behaviour_counts(long_frame(in_window), signups), window)
    truth = data.behaviour_truth.loc[features.index]
    segmenter = BehaviouralSegmenter(random_state=0).fit(features)
    assert segmenter.metrics_["behaviour.k"] == len(BUYING_STYLES) == truth.nunique()
    assert adjusted_rand_score(truth, segmenter.labels_) >= 0.9


def test_invalid_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_customers"):
        generate_demo_data(0, end_date=END_DATE)
    with pytest.raises(ValueError, match="years"):
        generate_demo_data(10, end_date=END_DATE, years=0)


def test_write_demo_csv_writes_headers_and_rows_pandas_reads_back(
    data: DemoData, tmp_path: pathlib.Path
) -> None:
    paths = write_demo_csv(data, tmp_path / "demo")
    expected = {
        "customers": (CUSTOMER_COLUMNS, data.customers),
        "transactions": (TRANSACTION_COLUMNS, data.transactions),
        "needs": (NEED_COLUMNS, data.needs),
    }
    assert set(paths) == set(expected)
    for kind, (columns, frame) in expected.items():
        assert paths[kind] == tmp_path / "demo" / f"{kind}.csv"
        header = paths[kind].read_text(encoding="utf-8").splitlines()[0]
        assert tuple(header.split(",")) == columns
        read_back = pd.read_csv(paths[kind])
        assert len(read_back) == len(frame)
        assert tuple(read_back.columns) == columns
