"""APrioriSegmenter: groups by known attributes, bands, the Other segment, rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from segmentation_service.domain.model import (
    GROUPABLE_ATTRIBUTES,
    Band,
    Condition,
    ConditionOperator,
    Rule,
    SegmentDefinition,
)
from segmentation_service.engines.a_priori import APrioriSegmenter, derive_attributes
from segmentation_service.engines.base import summarise_segments
from tests.factories import END_DATE, customer, make_customers

REFERENCE = date(2026, 6, 30)


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).set_index("customer_id")


def ten_customers() -> pd.DataFrame:
    """B2B/North ×4, B2C/North ×3, B2C/South ×2, B2B/South ×1."""
    groups = [("B2B", "North")] * 4 + [("B2C", "North")] * 3 + [("B2C", "South")] * 2
    groups += [("B2B", "South")]
    return frame(
        *(
            customer(f"C{i:02d}", customer_type=kind, region=region)
            for i, (kind, region) in enumerate(groups)
        )
    )


def sizes(segmenter: APrioriSegmenter) -> dict[str, int]:
    values = np.zeros(len(segmenter.labels_))
    summary = summarise_segments(segmenter.segments_, segmenter.labels_, values)
    return {segment.code: segment.size for segment in summary}


def test_grouping_by_one_attribute_gives_one_segment_per_value() -> None:
    segmenter = APrioriSegmenter(group_by=["customerType"], min_segment_share=0).fit(
        ten_customers()
    )

    assert [s.code for s in segmenter.segments_] == ["B2B", "B2C"]
    assert [s.name for s in segmenter.segments_] == ["B2B", "B2C"]
    assert [s.profile for s in segmenter.segments_] == [
        (("customerType", "B2B"),),
        (("customerType", "B2C"),),
    ]
    assert sizes(segmenter) == {"B2B": 5, "B2C": 5}
    assert list(segmenter.labels_[:5]) == ["B2B"] * 4 + ["B2C"]


def test_grouping_by_two_attributes_combines_the_values_in_code_name_and_profile() -> None:
    segmenter = APrioriSegmenter(group_by=("customerType", "region"), min_segment_share=0).fit(
        ten_customers()
    )

    by_code = {s.code: s for s in segmenter.segments_}
    assert list(by_code) == ["B2B-NORTH", "B2B-SOUTH", "B2C-NORTH", "B2C-SOUTH"]
    assert by_code["B2B-NORTH"].name == "B2B / North"
    assert by_code["B2C-SOUTH"].profile == (("customerType", "B2C"), ("region", "South"))
    assert sizes(segmenter) == {"B2B-NORTH": 4, "B2B-SOUTH": 1, "B2C-NORTH": 3, "B2C-SOUTH": 2}
    assert segmenter.labels_[-1] == "B2B-SOUTH"
    assert segmenter.metrics_ == {
        "apriori.groups": 4.0,
        "apriori.mergedGroups": 0.0,
        "apriori.minimumSegmentSize": 1.0,
    }


def test_the_order_of_group_by_sets_the_order_of_the_code_parts() -> None:
    segmenter = APrioriSegmenter(group_by=["region", "customerType"], min_segment_share=0).fit(
        ten_customers()
    )

    assert segmenter.labels_[0] == "NORTH-B2B"
    assert segmenter.segments_[0].profile == (("region", "North"), ("customerType", "B2B"))


def test_groups_below_the_rounded_up_minimum_size_are_merged_into_other() -> None:
    # ceil(0.11 × 10) = 2: the single B2B/South customer is merged, B2C/South (2) is kept.
    segmenter = APrioriSegmenter(group_by=["customerType", "region"], min_segment_share=0.11).fit(
        ten_customers()
    )

    assert segmenter.min_segment_size_ == 2
    assert sizes(segmenter) == {"B2B-NORTH": 4, "B2C-NORTH": 3, "B2C-SOUTH": 2, "OTHER": 1}
    assert segmenter.labels_[-1] == "OTHER"
    other = segmenter.segments_[-1]
    assert (other.code, other.name) == ("OTHER", "Other")
    assert other.profile == (("customerType", "mixed"), ("region", "mixed"))
    assert "fewer than 2" in other.description
    assert segmenter.reasons_[-1] == (
        "customerType = B2B, region = South: that group is smaller than the minimum "
        "segment size (2), so it is merged into Other"
    )
    assert segmenter.metrics_["apriori.mergedGroups"] == 1.0
    assert segmenter.metrics_["apriori.minimumSegmentSize"] == 2.0


def test_no_other_segment_is_made_when_every_group_is_large_enough() -> None:
    segmenter = APrioriSegmenter(group_by=["customerType"], min_segment_share=0.5).fit(
        ten_customers()
    )

    assert "OTHER" not in [s.code for s in segmenter.segments_]
    assert "OTHER" not in set(segmenter.labels_)


def test_reasons_describe_the_customers_attribute_values() -> None:
    segmenter = APrioriSegmenter(group_by=["customerType", "region"], min_segment_share=0).fit(
        ten_customers()
    )

    assert segmenter.reasons_[0] == "customerType = B2B, region = North"
    assert segmenter.reasons_[5] == "customerType = B2C, region = North"


@pytest.mark.parametrize(
    ("employees", "size"),
    [
        (0, "Micro"),
        (9, "Micro"),
        (10, "Small"),
        (49, "Small"),
        (50, "Medium"),
        (249, "Medium"),
        (250, "Large"),
        (12000, "Large"),
        (None, "Unknown"),
    ],
)
def test_company_size_follows_the_eu_employee_bands(employees: int | None, size: str) -> None:
    customers = frame(customer("C1", employee_count=employees), customer("C2", employee_count=1))

    derived = derive_attributes(customers, REFERENCE, ["companySize"])

    assert derived.loc["C1", "companySize"] == size


@pytest.mark.parametrize(
    ("birth_year", "band"),
    [
        (2009, "Under 18"),  # 17 in 2026
        (2008, "18-24"),  # 18
        (2002, "18-24"),  # 24
        (2001, "25-34"),  # 25
        (1962, "55-64"),  # 64
        (1961, "65+"),  # 65
        (None, "Unknown"),
    ],
)
def test_age_band_is_taken_from_the_birth_year_at_the_reference_date(
    birth_year: int | None, band: str
) -> None:
    customers = frame(customer("C1", birth_year=birth_year), customer("C2", birth_year=1980))

    derived = derive_attributes(customers, REFERENCE, ["ageBand"])

    assert derived.loc["C1", "ageBand"] == band


def test_the_segmenter_computes_ages_at_its_reference_date() -> None:
    customers = frame(customer("C1", birth_year=2009), customer("C2", birth_year=2009))

    in_2026 = APrioriSegmenter(["ageBand"], 0, reference_date=date(2026, 1, 1)).fit(customers)
    in_2027 = APrioriSegmenter(["ageBand"], 0, reference_date=date(2027, 1, 1)).fit(customers)

    assert list(in_2026.labels_) == ["UNDER_18", "UNDER_18"]
    assert list(in_2027.labels_) == ["18_24", "18_24"]
    assert in_2027.segments_[0].name == "18-24"


def test_missing_attribute_values_become_unknown() -> None:
    customers = frame(
        customer("C1", customer_type="B2B", region=None),
        customer("C2", customer_type=None, region="North"),
        customer("C3", customer_type=float("nan"), region="North"),
    )

    segmenter = APrioriSegmenter(["customerType", "region"], 0).fit(customers)

    assert list(segmenter.labels_) == ["B2B-UNKNOWN", "UNKNOWN-NORTH", "UNKNOWN-NORTH"]
    assert segmenter.segments_[0].profile == (("customerType", "B2B"), ("region", "Unknown"))
    assert segmenter.reasons_[1] == "customerType = Unknown, region = North"


@pytest.mark.parametrize(
    "group_by",
    [["shoeSize"], ["region", "region"], ["customerType", "customer_type"], []],
    ids=["unknown", "repeated", "column-name-not-attribute", "empty"],
)
def test_an_unknown_repeated_or_empty_group_by_raises_value_error(group_by: list[str]) -> None:
    with pytest.raises(ValueError, match="group_by must name distinct attributes"):
        APrioriSegmenter(group_by=group_by).fit(ten_customers())


@pytest.mark.parametrize("share", [-0.1, 1.0])
def test_a_minimum_segment_share_outside_zero_to_one_raises_value_error(share: float) -> None:
    with pytest.raises(ValueError, match="min_segment_share"):
        APrioriSegmenter(min_segment_share=share).fit(ten_customers())


def test_a_missing_source_column_raises_value_error_naming_it() -> None:
    customers = ten_customers().drop(columns=["birth_year"])

    with pytest.raises(ValueError, match="birth_year"):
        APrioriSegmenter(group_by=["region", "ageBand"]).fit(customers)
    # Attributes that do not need the column still work.
    assert APrioriSegmenter(group_by=["region"]).fit(customers).labels_[0] == "NORTH"


def test_every_demo_customer_gets_a_listed_segment_and_kept_groups_are_large_enough() -> None:
    customers = make_customers(300)
    segmenter = APrioriSegmenter(
        group_by=["customerType", "companySize", "region"],
        min_segment_share=0.05,
        reference_date=END_DATE,
    ).fit(customers)

    codes = [s.code for s in segmenter.segments_]
    assert len(codes) == len(set(codes))
    assert set(segmenter.labels_) == set(codes)
    counted = sizes(segmenter)
    assert sum(counted.values()) == len(customers)
    assert all(size >= 15 for code, size in counted.items() if code != "OTHER")
    assert segmenter.metrics_["apriori.mergedGroups"] > 0
    # B2C customers have no employee count: their company size is Unknown.
    b2c = (customers["customer_type"] == "B2C").to_numpy()
    assert all("-UNKNOWN-" in label or label == "OTHER" for label in segmenter.labels_[b2c])


def test_derive_attributes_returns_every_groupable_attribute_by_default() -> None:
    derived = derive_attributes(make_customers(60), END_DATE)

    assert list(derived.columns) == list(GROUPABLE_ATTRIBUTES)
    assert not derived.isna().any().any()


def test_a_minimum_segment_size_overrides_the_share() -> None:
    # A share of 0 would keep every group; at least 3 customers merges both South groups.
    segmenter = APrioriSegmenter(min_segment_share=0, min_segment_size=3).fit(ten_customers())

    assert segmenter.min_segment_size_ == 3
    assert sizes(segmenter) == {"B2B-NORTH": 4, "B2C-NORTH": 3, "OTHER": 3}
    assert segmenter.metrics_["apriori.minimumSegmentSize"] == 3.0

    # ... and a minimum of 1 keeps the single B2B/South customer the share would merge.
    kept = APrioriSegmenter(min_segment_share=0.5, min_segment_size=1).fit(ten_customers())
    assert "OTHER" not in set(kept.labels_)


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_a_minimum_segment_size_below_one_or_fractional_raises_value_error(size: Any) -> None:
    with pytest.raises(ValueError, match="min_segment_size"):
        APrioriSegmenter(min_segment_size=size).fit(ten_customers())


THREE_SIZES = (Band("Solo", 2), Band("Team", 20), Band("Large"))


def staffed() -> pd.DataFrame:
    counts = [1, 1, 2, 19, 20, 5000, None]
    return frame(*(customer(f"C{i}", employee_count=n) for i, n in enumerate(counts)))


def test_custom_company_size_bands_replace_the_eu_bands_when_grouping() -> None:
    segmenter = APrioriSegmenter(["companySize"], 0, company_size_bands=THREE_SIZES).fit(staffed())

    assert list(segmenter.labels_) == ["SOLO", "SOLO", "TEAM", "TEAM", "LARGE", "LARGE", "UNKNOWN"]
    assert {s.name for s in segmenter.segments_} == {"Solo", "Team", "Large", "Unknown"}


def test_derive_attributes_applies_custom_bands() -> None:
    customers = frame(
        customer("C1", employee_count=19, birth_year=1996),
        customer("C2", employee_count=20, birth_year=1997),
    )
    ages = (Band("Under 30", 30), Band("30+"))

    derived = derive_attributes(customers, REFERENCE, ["companySize", "ageBand"], THREE_SIZES, ages)

    assert derived.to_dict("index") == {
        "C1": {"companySize": "Team", "ageBand": "30+"},  # 30 in 2026
        "C2": {"companySize": "Large", "ageBand": "Under 30"},
    }


def test_custom_age_bands_group_customers_by_the_given_bounds() -> None:
    customers = frame(*(customer(f"C{y}", birth_year=y) for y in (1950, 1986, 1987, 2010)))
    ages = (Band("Young", 40), Band("Senior"))

    segmenter = APrioriSegmenter(["ageBand"], 0, REFERENCE, age_bands=ages).fit(customers)

    # 2026 - 1986 = 40 is the first Senior age.
    assert list(segmenter.labels_) == ["SENIOR", "SENIOR", "YOUNG", "YOUNG"]


def when(attribute: str, operator: str, *values: str) -> Condition:
    return Condition(attribute, ConditionOperator(operator), values)


ENTERPRISE = Rule(
    "ENTERPRISE",
    "Enterprise",
    (when("employeeCount", "GreaterOrEqual", "250"), when("region", "In", "North", "West")),
)
CONSUMER = Rule("CONSUMER", "Consumers", (when("customerType", "Equals", "B2C"),))
NORTH = Rule("NORTH", "Northern", (when("region", "Equals", "North"),))


def mixed() -> pd.DataFrame:
    return frame(
        customer("C1", customer_type="B2B", employee_count=300, region="North"),
        customer("C2", customer_type="B2B", employee_count=300, region="South"),
        customer("C3", customer_type="B2B", employee_count=10, region="West"),
        customer("C4", customer_type="B2C", region="North"),
        customer("C5", customer_type="B2C", region="South"),
        customer("C6", customer_type=None, region=None),
    )


def test_a_customer_goes_to_the_first_rule_whose_conditions_all_hold() -> None:
    segmenter = APrioriSegmenter(rules=(ENTERPRISE, CONSUMER, NORTH)).fit(mixed())

    # C1 meets ENTERPRISE and NORTH: the first wins. C2 and C3 meet only one of
    # ENTERPRISE's two conditions; C4 meets CONSUMER and NORTH.
    assert list(segmenter.labels_) == [
        "ENTERPRISE",
        "OTHER",
        "OTHER",
        "CONSUMER",
        "CONSUMER",
        "OTHER",
    ]


def test_reordering_the_rules_changes_which_match_wins() -> None:
    segmenter = APrioriSegmenter(rules=(NORTH, ENTERPRISE, CONSUMER)).fit(mixed())

    assert list(segmenter.labels_) == ["NORTH", "OTHER", "OTHER", "NORTH", "CONSUMER", "OTHER"]


def test_unmatched_customers_go_to_a_custom_default_segment_named_after_its_code() -> None:
    segmenter = APrioriSegmenter(rules=(CONSUMER,), default_segment_code="REST").fit(mixed())

    assert list(segmenter.labels_) == ["REST", "REST", "REST", "CONSUMER", "CONSUMER", "REST"]
    assert [(s.code, s.name) for s in segmenter.segments_] == [
        ("CONSUMER", "Consumers"),
        ("REST", "REST"),
    ]
    assert segmenter.reasons_[0] == "matched no rule; default segment REST"


def test_rule_segments_come_in_rule_order_with_profiles_and_descriptions_then_other() -> None:
    segmenter = APrioriSegmenter(rules=(ENTERPRISE, CONSUMER)).fit(mixed())

    assert segmenter.segments_ == [
        SegmentDefinition(
            "ENTERPRISE",
            "Enterprise",
            "Rule 1: employeeCount >= 250 and region in North, West",
            (("employeeCount", "GreaterOrEqual 250"), ("region", "In North, West")),
        ),
        SegmentDefinition(
            "CONSUMER", "Consumers", "Rule 2: customerType = B2C", (("customerType", "Equals B2C"),)
        ),
        SegmentDefinition(
            "OTHER", "Other", "Customers matching none of the 2 rules", (("rule", "none matched"),)
        ),
    ]


def test_rules_sharing_a_code_make_one_segment_at_the_first_rules_place() -> None:
    south = Rule("CONSUMER", "Consumers", (when("region", "Equals", "South"),))
    missing = Rule("UNKNOWN", "No type", (when("customerType", "IsMissing"),))

    segmenter = APrioriSegmenter(rules=(CONSUMER, missing, south)).fit(mixed())

    assert [s.code for s in segmenter.segments_] == ["CONSUMER", "UNKNOWN", "OTHER"]
    assert (
        segmenter.segments_[0].description
        == "Rule 1: customerType = B2C; or rule 3: region = South"
    )
    assert segmenter.segments_[0].profile == (
        ("customerType", "Equals B2C"),
        ("region", "Equals South"),
    )
    assert list(segmenter.labels_) == [
        "OTHER",
        "CONSUMER",
        "OTHER",
        "CONSUMER",
        "CONSUMER",
        "UNKNOWN",
    ]
    assert segmenter.reasons_[1] == "matched rule 3 (CONSUMER): region = South"


def test_a_default_code_equal_to_a_rule_code_with_its_name_joins_that_segment() -> None:
    rest = Rule("REST", "REST", (when("region", "Equals", "South"),))

    segmenter = APrioriSegmenter(rules=(CONSUMER, rest), default_segment_code="REST").fit(mixed())

    assert [s.code for s in segmenter.segments_] == ["CONSUMER", "REST"]
    assert segmenter.segments_[1].description == "Rule 2: region = South; or matching no rule"
    assert list(segmenter.labels_) == ["REST", "REST", "REST", "CONSUMER", "CONSUMER", "REST"]
    assert segmenter.reasons_[1] == "matched rule 2 (REST): region = South"
    assert segmenter.reasons_[0] == "matched no rule; default segment REST"


def test_reasons_and_metrics_tell_which_rule_matched() -> None:
    segmenter = APrioriSegmenter(rules=(ENTERPRISE, CONSUMER)).fit(mixed())

    assert list(segmenter.reasons_[:4]) == [
        "matched rule 1 (ENTERPRISE): employeeCount >= 250 and region in North, West",
        "matched no rule; default segment OTHER",
        "matched no rule; default segment OTHER",
        "matched rule 2 (CONSUMER): customerType = B2C",
    ]
    assert segmenter.metrics_ == {
        "apriori.rules": 2.0,
        "apriori.matched": 3.0,
        "apriori.defaulted": 3.0,
    }
    assert np.isnan(segmenter.scores_).all() and len(segmenter.scores_) == 6


def test_reasons_put_every_operator_into_words() -> None:
    rule = Rule(
        "ALL",
        "All",
        (
            when("employeeCount", "NotEquals", "1"),
            when("region", "NotIn", "East", "West"),
            when("annualRevenue", "Between", "0", "1e9"),
            when("employeeCount", "LessThan", "1000"),
            when("employeeCount", "LessOrEqual", "999"),
            when("employeeCount", "GreaterThan", "0"),
            when("signupDate", "IsMissing"),
        ),
    )
    customers = frame(
        customer("C1", employee_count=5, region="North", annual_revenue=1.0, signup_date=None)
    )

    segmenter = APrioriSegmenter(rules=(rule,)).fit(customers)

    assert segmenter.reasons_[0] == (
        "matched rule 1 (ALL): employeeCount != 1 and region not in East, West and "
        "annualRevenue between 0 and 1e9 and employeeCount < 1000 and employeeCount <= 999 "
        "and employeeCount > 0 and signupDate is missing"
    )
    assert segmenter.segments_[0].profile[2] == ("annualRevenue", "Between 0, 1e9")
    assert segmenter.segments_[0].profile[6] == ("signupDate", "IsMissing")


def test_rules_never_merge_small_segments_into_other() -> None:
    segmenter = APrioriSegmenter(
        rules=(ENTERPRISE,), min_segment_share=0.9, min_segment_size=5
    ).fit(mixed())

    assert list(segmenter.labels_).count("ENTERPRISE") == 1


def test_rules_on_company_size_follow_custom_bands() -> None:
    large = Rule("LARGE", "Large", (when("companySize", "In", "Large"),))

    custom = APrioriSegmenter(rules=(large,), company_size_bands=THREE_SIZES).fit(staffed())
    eu = APrioriSegmenter(rules=(large,)).fit(staffed())

    assert list(custom.labels_ == "LARGE") == [False, False, False, False, True, True, False]
    assert list(eu.labels_ == "LARGE") == [False] * 5 + [True, False]


def test_rules_on_age_band_follow_custom_bands_at_the_reference_date() -> None:
    customers = frame(*(customer(f"C{y}", birth_year=y) for y in (1986, 1987)))
    senior = Rule("SENIOR", "Senior", (when("ageBand", "Equals", "Senior"),))
    ages = (Band("Young", 40), Band("Senior"))

    in_2026 = APrioriSegmenter(reference_date=REFERENCE, rules=(senior,), age_bands=ages)
    in_2027 = clone(in_2026).set_params(reference_date=date(2027, 1, 1))

    assert list(in_2026.fit(customers).labels_) == ["SENIOR", "OTHER"]
    assert list(in_2027.fit(customers).labels_) == ["SENIOR", "SENIOR"]


def test_rules_need_only_the_columns_their_attributes_read() -> None:
    customers = mixed()[["customer_type"]]

    assert list(APrioriSegmenter(rules=(CONSUMER,)).fit(customers).labels_)[3] == "CONSUMER"
    with pytest.raises(ValueError, match="employee_count"):
        APrioriSegmenter(rules=(CONSUMER, ENTERPRISE)).fit(customers)


def test_rules_are_evaluated_column_wise_on_200k_customers() -> None:
    n = 200_000
    rng = np.random.default_rng(0)
    employees = rng.integers(0, 1000, n).astype(float)
    employees[rng.random(n) < 0.1] = np.nan
    region = rng.choice(np.array(["North", "South", "East", "West"], dtype=object), n)
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D")
    customers = pd.DataFrame(
        {
            "employee_count": employees,
            "region": region,
            "signup_date": signup,
            "birth_year": rng.integers(1940, 2010, n),
        },
        index=pd.Index([f"C{i}" for i in range(n)], name="customer_id"),
    )
    new = Rule("NEW", "New", (when("signupDate", "GreaterOrEqual", "2024-01-01"),))
    rules = (ENTERPRISE, new, Rule("SENIOR", "Senior", (when("ageBand", "In", "65+"),)))

    segmenter = APrioriSegmenter(reference_date=REFERENCE, rules=rules).fit(customers)

    enterprise = (employees >= 250) & np.isin(region, ["North", "West"])
    later = ~enterprise & (signup >= pd.Timestamp("2024-01-01"))
    senior = ~enterprise & ~later & (customers["birth_year"].to_numpy() <= 1961)
    assert (segmenter.labels_ == "ENTERPRISE").sum() == enterprise.sum()
    assert (segmenter.labels_ == "NEW").sum() == later.sum()
    assert (segmenter.labels_ == "SENIOR").sum() == senior.sum()
    assert (
        segmenter.metrics_["apriori.defaulted"] == n - enterprise.sum() - later.sum() - senior.sum()
    )


def test_a_clone_keeps_rules_and_bands_and_fits_to_the_same_labels() -> None:
    engine = APrioriSegmenter(
        rules=(ENTERPRISE, CONSUMER),
        default_segment_code="REST",
        company_size_bands=THREE_SIZES,
        age_bands=(Band("Young", 40), Band("Senior")),
        min_segment_size=2,
        reference_date=REFERENCE,
    )

    copy = clone(engine)

    assert copy.get_params() == engine.get_params()
    assert copy.get_params()["rules"] == (ENTERPRISE, CONSUMER)
    assert list(copy.fit(mixed()).labels_) == list(clone(engine).fit(mixed()).labels_)
    assert APrioriSegmenter(**engine.get_params()).get_params() == engine.get_params()
