"""APrioriSegmenter: groups by known attributes, bands, the Other segment."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from segmentation_service.domain.model import GROUPABLE_ATTRIBUTES
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
