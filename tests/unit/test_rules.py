"""Rule conditions: every operator on text, number and date attributes, and invalid rules."""

from __future__ import annotations

import pickle
from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest

from segmentation_service.domain.model import Band, Condition, ConditionOperator, Rule
from segmentation_service.engines.a_priori import APrioriSegmenter
from segmentation_service.engines.rules import InvalidRuleError
from tests.factories import customer

REFERENCE = date(2026, 6, 30)


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).set_index("customer_id")


def rule(code: str, *conditions: tuple[str, str, tuple[str, ...]], name: str = "") -> Rule:
    parsed = tuple(Condition(a, ConditionOperator(op), values) for a, op, values in conditions)
    return Rule(code, name or code.title(), parsed)


def matched(customers: pd.DataFrame, attribute: str, operator: str, *values: str) -> list[str]:
    """The customers a single rule with the single condition assigns to its segment."""
    segmenter = APrioriSegmenter(
        rules=(rule("HIT", (attribute, operator, values)),), reference_date=REFERENCE
    ).fit(customers)
    return [
        cid for cid, label in zip(customers.index, segmenter.labels_, strict=True) if label == "HIT"
    ]


def regions() -> pd.DataFrame:
    return frame(
        customer("C1", region="North"),
        customer("C2", region="South"),
        customer("C3", region="  West "),
        customer("C4", region=None),
        customer("C5", region="   "),
    )


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("Equals", ("North",), ["C1"]),
        ("Equals", (" West",), ["C3"]),  # values and data are compared stripped
        ("Equals", ("north",), []),  # exact, so case matters
        ("NotEquals", ("North",), ["C2", "C3"]),
        ("In", ("North", "West"), ["C1", "C3"]),
        ("In", ("East",), []),
        ("NotIn", ("North", "South"), ["C3"]),
        ("IsMissing", (), ["C4", "C5"]),  # blank text counts as missing
    ],
)
def test_text_operators_compare_stripped_exact_strings(
    operator: str, values: tuple[str, ...], expected: list[str]
) -> None:
    assert matched(regions(), "region", operator, *values) == expected


def employees() -> pd.DataFrame:
    return frame(
        customer("C1", employee_count=9),
        customer("C2", employee_count=10),
        customer("C3", employee_count=11),
        customer("C4", employee_count=None),
    )


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("Equals", ("10",), ["C2"]),
        ("Equals", ("10.0",), ["C2"]),  # numbers, not strings
        ("NotEquals", ("10",), ["C1", "C3"]),
        ("In", ("9", "11"), ["C1", "C3"]),
        ("NotIn", ("9",), ["C2", "C3"]),
        ("GreaterThan", ("10",), ["C3"]),
        ("GreaterOrEqual", ("10",), ["C2", "C3"]),
        ("LessThan", ("10",), ["C1"]),
        ("LessOrEqual", ("10",), ["C1", "C2"]),
        ("Between", ("9", "10"), ["C1", "C2"]),  # both ends included
        ("Between", ("10", "10"), ["C2"]),
        ("Between", ("9.5", "10.5"), ["C2"]),
        ("IsMissing", (), ["C4"]),
    ],
)
def test_numeric_operators_compare_numbers_with_inclusive_boundaries(
    operator: str, values: tuple[str, ...], expected: list[str]
) -> None:
    assert matched(employees(), "employeeCount", operator, *values) == expected


@pytest.mark.parametrize(
    ("attribute", "column"),
    [
        ("annualRevenue", "annual_revenue"),
        ("birthYear", "birth_year"),
        ("acquisitionCost", "acquisition_cost"),
        ("annualCostToServe", "annual_cost_to_serve"),
    ],
)
def test_each_numeric_attribute_reads_its_own_column(attribute: str, column: str) -> None:
    customers = frame(
        customer("C1", **{column: 1999.5}),
        customer("C2", **{column: 2000.0}),
        customer("C3", **{column: None}),
    )

    assert matched(customers, attribute, "GreaterOrEqual", "2000") == ["C2"]
    assert matched(customers, attribute, "LessThan", "2000") == ["C1"]


def signups() -> pd.DataFrame:
    return frame(
        customer("C1", signup_date=date(2024, 12, 31)),
        customer("C2", signup_date=date(2025, 1, 1)),
        customer("C3", signup_date=date(2025, 1, 2)),
        customer("C4", signup_date=None),
    )


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("Equals", ("2025-01-01",), ["C2"]),
        ("NotEquals", ("2025-01-01",), ["C1", "C3"]),
        ("In", ("2024-12-31", "2025-01-02"), ["C1", "C3"]),
        ("NotIn", ("2025-01-01",), ["C1", "C3"]),
        ("GreaterThan", ("2025-01-01",), ["C3"]),
        ("GreaterOrEqual", ("2025-01-01",), ["C2", "C3"]),
        ("LessThan", ("2025-01-01",), ["C1"]),
        ("LessOrEqual", ("2025-01-01",), ["C1", "C2"]),
        ("Between", ("2024-12-31", "2025-01-01"), ["C1", "C2"]),
        ("IsMissing", (), ["C4"]),
    ],
)
def test_date_operators_compare_dates(
    operator: str, values: tuple[str, ...], expected: list[str]
) -> None:
    assert matched(signups(), "signupDate", operator, *values) == expected


def test_signup_timestamps_compare_by_their_date() -> None:
    customers = frame(
        customer("C1", signup_date=datetime(2025, 1, 1, 23, 59)),
        customer("C2", signup_date=datetime(2025, 1, 2, 0, 0)),
        customer("C3", signup_date=datetime(1969, 12, 31, 18, 0)),
    )
    customers["signup_date"] = pd.to_datetime(customers["signup_date"])

    assert matched(customers, "signupDate", "LessOrEqual", "2025-01-01") == ["C1", "C3"]
    assert matched(customers, "signupDate", "Equals", "2025-01-02") == ["C2"]
    assert matched(customers, "signupDate", "Equals", "1969-12-31") == ["C3"]


@pytest.mark.parametrize(
    ("attribute", "operator", "values"),
    [
        ("region", "NotEquals", ("North",)),
        ("region", "NotIn", ("North", "South")),
        ("employeeCount", "NotEquals", ("10",)),
        ("employeeCount", "NotIn", ("10",)),
        ("employeeCount", "LessThan", ("1000000",)),
        ("signupDate", "NotEquals", ("2025-01-01",)),
        ("signupDate", "GreaterThan", ("1900-01-01",)),
        ("companySize", "NotEquals", ("Large",)),
        ("ageBand", "NotIn", ("65+",)),
    ],
)
def test_a_missing_value_meets_no_operator_but_is_missing(
    attribute: str, operator: str, values: tuple[str, ...]
) -> None:
    customers = frame(customer("C1"))  # every attribute missing

    assert matched(customers, attribute, operator, *values) == []
    assert matched(customers, attribute, "IsMissing") == ["C1"]


def test_company_size_and_age_band_compare_band_names() -> None:
    customers = frame(
        customer("C1", employee_count=9, birth_year=1990),
        customer("C2", employee_count=10, birth_year=1961),
        customer("C3", employee_count=300, birth_year=None),
    )

    assert matched(customers, "companySize", "Equals", "Small") == ["C2"]
    assert matched(customers, "companySize", "In", "Micro", "Large") == ["C1", "C3"]
    assert matched(customers, "ageBand", "Equals", "65+") == ["C2"]  # 65 in 2026
    assert matched(customers, "ageBand", "IsMissing") == ["C3"]


def fields(*rules: Rule, default: str = "OTHER", **bands: Any) -> tuple[str, str]:
    """The field and reason of the InvalidRuleError that fitting these rules raises."""
    segmenter = APrioriSegmenter(rules=rules, default_segment_code=default, **bands)
    with pytest.raises(InvalidRuleError) as raised:
        segmenter.fit(frame(customer("C1", region="North", employee_count=5)))
    assert str(raised.value) == raised.value.reason
    return raised.value.field, raised.value.reason


REGION_NORTH = ("region", "Equals", ("North",))
CONDITION_1 = "rules.rule[1].conditions.condition[1]"


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        (("shoeSize", "Equals", ("42",)), f"{CONDITION_1}.attribute"),
        (("customer_type", "Equals", ("B2B",)), f"{CONDITION_1}.attribute"),
        (("region", "Equals", ()), f"{CONDITION_1}.values"),
        (("region", "Equals", ("North", "South")), f"{CONDITION_1}.values"),
        (("region", "NotEquals", ()), f"{CONDITION_1}.values"),
        (("region", "In", ()), f"{CONDITION_1}.values"),
        (("region", "NotIn", ()), f"{CONDITION_1}.values"),
        (("employeeCount", "GreaterThan", ()), f"{CONDITION_1}.values"),
        (("employeeCount", "LessOrEqual", ("1", "2")), f"{CONDITION_1}.values"),
        (("employeeCount", "Between", ("1",)), f"{CONDITION_1}.values"),
        (("employeeCount", "Between", ("1", "2", "3")), f"{CONDITION_1}.values"),
        (("region", "IsMissing", ("North",)), f"{CONDITION_1}.values"),
        (("annualRevenue", "Equals", ("lots",)), f"{CONDITION_1}.values"),
        (("annualRevenue", "Equals", ("nan",)), f"{CONDITION_1}.values"),
        (("employeeCount", "In", ("1", "")), f"{CONDITION_1}.values"),
        (("signupDate", "Equals", ("31/12/2025",)), f"{CONDITION_1}.values"),
        (("signupDate", "Between", ("2025-01-01", "2025-02-30")), f"{CONDITION_1}.values"),
        (("employeeCount", "Between", ("50", "10")), f"{CONDITION_1}.values"),
        (("signupDate", "Between", ("2025-02-01", "2025-01-31")), f"{CONDITION_1}.values"),
        (("region", "Equals", ("  ",)), f"{CONDITION_1}.values"),
        (("companySize", "Equals", ("Huge",)), f"{CONDITION_1}.values"),
        (("region", "GreaterThan", ("North",)), f"{CONDITION_1}.operator"),
        (("customerType", "LessOrEqual", ("B2B",)), f"{CONDITION_1}.operator"),
        (("companySize", "Between", ("Micro", "Large")), f"{CONDITION_1}.operator"),
        (("region", "Like", ("N%",)), f"{CONDITION_1}.operator"),
    ],
)
def test_an_invalid_condition_names_its_field(
    condition: tuple[str, str, tuple[str, ...]], field: str
) -> None:
    attribute, operator, values = condition
    bad = Rule("BAD", "Bad", (Condition(attribute, operator, values),))  # type: ignore[arg-type]

    assert fields(bad)[0] == field


def test_an_ill_typed_value_is_reported_with_the_rule_code_and_condition_number() -> None:
    rules = (
        rule("SMALL", ("employeeCount", "LessThan", ("50",))),
        rule("ENTERPRISE", ("employeeCount", "GreaterOrEqual", ("many",)), REGION_NORTH),
    )

    assert fields(*rules) == (
        "rules.rule[2].conditions.condition[1].values",
        "rule 2 (ENTERPRISE), condition 1: employeeCount needs numbers, got 'many'",
    )


def test_an_error_in_a_later_condition_names_that_condition() -> None:
    bad = rule("B", REGION_NORTH, ("region", "LessThan", ("x",)))

    assert fields(rule("A", REGION_NORTH), bad)[0] == (
        "rules.rule[2].conditions.condition[2].operator"
    )


def test_two_rules_with_one_code_must_share_the_segment_name() -> None:
    first = rule("BIG", REGION_NORTH, name="Big")
    renamed = rule("BIG", ("region", "Equals", ("South",)), name="Large")

    field, reason = fields(first, renamed)

    assert field == "rules.rule[2].segmentName"
    assert "BIG" in reason and "'Large'" in reason and "'Big'" in reason


def test_the_default_code_may_not_be_a_rule_code_with_another_name() -> None:
    assert fields(rule("REST", REGION_NORTH, name="Everyone else"), default="REST") == (
        "defaultSegmentCode",
        "the default segment REST would be named 'REST', but a rule names REST 'Everyone else'",
    )
    assert fields(rule("OTHER", REGION_NORTH, name="Others"))[0] == "defaultSegmentCode"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (Rule("", "Empty", (Condition("region", ConditionOperator.IS_MISSING),)), "segmentCode"),
        (
            Rule("X" * 65, "Long", (Condition("region", ConditionOperator.IS_MISSING),)),
            "segmentCode",
        ),
        (Rule("NONAME", " ", (Condition("region", ConditionOperator.IS_MISSING),)), "segmentName"),
        (Rule("NOTHING", "Nothing", ()), "conditions"),
    ],
)
def test_a_rule_needs_a_code_a_name_and_a_condition(bad: Rule, field: str) -> None:
    assert fields(rule("A", REGION_NORTH), bad)[0] == f"rules.rule[2].{field}"


def test_a_blank_default_code_is_refused() -> None:
    assert fields(rule("A", REGION_NORTH), default=" ")[0] == "defaultSegmentCode"


def test_every_rule_is_checked_before_any_customer_is_evaluated() -> None:
    # The frame lacks employee_count: a rule evaluated first would raise a plain ValueError.
    rules = (
        rule("BIG", ("employeeCount", "GreaterThan", ("250",))),
        rule("BAD", ("region", "In", ())),
    )
    customers = frame(customer("C1", region="North")).drop(columns=["employee_count"])

    with pytest.raises(InvalidRuleError) as raised:
        APrioriSegmenter(rules=rules).fit(customers)

    assert raised.value.field == "rules.rule[2].conditions.condition[1].values"


def test_invalid_rule_error_is_a_value_error_whose_message_is_the_reason() -> None:
    error = InvalidRuleError("defaultSegmentCode", "the default code must be 1 to 64 characters")

    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.reason) == (error.field, error.reason)
    assert (error.field, error.reason, str(error)) == (
        "defaultSegmentCode",
        "the default code must be 1 to 64 characters",
        "the default code must be 1 to 64 characters",
    )


@pytest.mark.parametrize(
    ("bands", "field"),
    [
        ((Band("Small", 50), Band("Large", 100)), "band[2].upperBound"),
        ((Band("Small"), Band("Large")), "band[1].upperBound"),
        ((Band("A", 10), Band("B", 10), Band("C")), "band[2].upperBound"),
        ((Band("A", 10), Band("B", 5), Band("C")), "band[2].upperBound"),
        ((Band("A", float("nan")), Band("B")), "band[1].upperBound"),
        ((Band("A", 10), Band("A", 20), Band("C")), "band[2].name"),
        ((Band("A", 10), Band(" ")), "band[2].name"),
        ((Band("Unknown", 10), Band("B")), "band[1].name"),
    ],
)
@pytest.mark.parametrize("block", ["companySizeBands", "ageBands"])
def test_invalid_bands_name_the_band_and_its_field(
    bands: tuple[Band, ...], field: str, block: str
) -> None:
    parameter = {"companySizeBands": "company_size_bands", "ageBands": "age_bands"}[block]

    assert fields(rule("A", REGION_NORTH), **{parameter: bands})[0] == f"{block}.{field}"


def test_an_empty_band_list_is_refused() -> None:
    assert fields(rule("A", REGION_NORTH), age_bands=())[0] == "ageBands"


def test_invalid_bands_are_refused_in_grouping_mode_too() -> None:
    segmenter = APrioriSegmenter(["region"], company_size_bands=(Band("Big", 5),))

    with pytest.raises(InvalidRuleError) as raised:
        segmenter.fit(frame(customer("C1", region="North")))

    assert raised.value.field == "companySizeBands.band[1].upperBound"


def test_signup_dates_stored_as_iso_text_compare_as_dates_and_bad_text_is_missing() -> None:
    customers = frame(
        customer("C1", signup_date="2025-01-01"),
        customer("C2", signup_date="2025-10-02"),  # later, though "1" < "2" as text
        customer("C3", signup_date="not a date"),
    )

    assert matched(customers, "signupDate", "GreaterThan", "2025-09-30") == ["C2"]
    assert matched(customers, "signupDate", "IsMissing") == ["C3"]
