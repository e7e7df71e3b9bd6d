"""Rule conditions and bands: validation, customer attribute values and vectorised matching."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from segmentation_service.domain.model import RULE_ATTRIBUTES, Band, ConditionOperator, Rule

Kind = Literal["text", "number", "date"]
Op = ConditionOperator

# Customer column each attribute is read from (customerType: customer_type), and its kind.
SOURCE_COLUMNS: dict[str, str] = {
    name: re.sub("([A-Z])", r"_\1", name).lower() for name in RULE_ATTRIBUTES
} | {"companySize": "employee_count", "ageBand": "birth_year"}
NUMBERS = ("employeeCount", "annualRevenue", "birthYear", "acquisitionCost", "annualCostToServe")
BANDED = ("companySize", "ageBand")
UNKNOWN = "Unknown"
MAX_CODE_LENGTH = 64  # XSD SegmentCode

ORDERING = {Op.GREATER_THAN, Op.GREATER_OR_EQUAL, Op.LESS_THAN, Op.LESS_OR_EQUAL, Op.BETWEEN}
# How many values each operator takes: (at least, at most).
VALUE_COUNTS = {Op.IN: (1, None), Op.NOT_IN: (1, None), Op.BETWEEN: (2, 2), Op.IS_MISSING: (0, 0)}
SYMBOLS = {
    Op.EQUALS: "=",
    Op.NOT_EQUALS: "!=",
    Op.IN: "in",
    Op.NOT_IN: "not in",
    Op.GREATER_THAN: ">",
    Op.GREATER_OR_EQUAL: ">=",
    Op.LESS_THAN: "<",
    Op.LESS_OR_EQUAL: "<=",
}
COMPARISONS = {
    Op.GREATER_THAN: np.greater,
    Op.GREATER_OR_EQUAL: np.greater_equal,
    Op.LESS_THAN: np.less,
    Op.LESS_OR_EQUAL: np.less_equal,
}
_EPOCH = date(1970, 1, 1).toordinal()

Mask = npt.NDArray[np.bool_]


class InvalidRuleError(ValueError):
    """A rule, the default segment code or a band is invalid.

    ``field`` is the dotted path inside the aPriori block, with 1-based
    indices (``rules.rule[2].conditions.condition[1].values``); ``reason``
    says in plain words what is wrong and is also ``str(exc)``.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[InvalidRuleError], tuple[str, str]]:
        return type(self), (self.field, self.reason)  # pickles despite the two arguments


def kind_of(attribute: str) -> Kind:
    return "number" if attribute in NUMBERS else "date" if attribute == "signupDate" else "text"


@dataclass(frozen=True)
class ParsedCondition:
    attribute: str
    operator: ConditionOperator
    texts: tuple[str, ...]  # the values as given, stripped
    values: tuple[str | float, ...]  # text, numbers, or dates as days since 1970-01-01

    @property
    def profile(self) -> tuple[str, str]:
        return self.attribute, " ".join([self.operator.value, ", ".join(self.texts)]).strip()

    def words(self) -> str:
        if self.operator is Op.IS_MISSING:
            return f"{self.attribute} is missing"
        if self.operator is Op.BETWEEN:
            return f"{self.attribute} between {self.texts[0]} and {self.texts[1]}"
        return f"{self.attribute} {SYMBOLS[self.operator]} {', '.join(self.texts)}"


@dataclass(frozen=True)
class ParsedRule:
    number: int  # 1-based
    code: str
    name: str
    conditions: tuple[ParsedCondition, ...]

    def words(self) -> str:
        return " and ".join(condition.words() for condition in self.conditions)


def validate_bands(bands: Sequence[Band], block: str) -> tuple[Band, ...]:
    """The bands, if bounds strictly increase, only the last is open and names are unique."""
    bands = tuple(bands)
    if not bands:
        raise InvalidRuleError(block, f"{block} needs at least one band")
    names: list[str] = []
    previous = -math.inf
    for number, band in enumerate(bands, 1):
        where, label = f"{block}.band[{number}]", f"{block}, band {number}"
        name = band.name.strip() if isinstance(band.name, str) else ""
        if not name or name == UNKNOWN or name in names:
            problem = "has no name" if not name else f"repeats the name {name!r}"
            if name == UNKNOWN:
                problem = f"is named {UNKNOWN}, which stands for missing values"
            raise InvalidRuleError(f"{where}.name", f"{label} {problem}")
        names.append(name)
        bound = band.upper_bound
        if number == len(bands):
            if bound is not None:
                raise InvalidRuleError(
                    f"{where}.upperBound", f"{label} is the last band, so it has no upper bound"
                )
        elif bound is None:
            raise InvalidRuleError(
                f"{where}.upperBound", f"{label} needs an upper bound; only the last band has none"
            )
        elif not math.isfinite(bound) or bound <= previous:
            raise InvalidRuleError(
                f"{where}.upperBound",
                f"{label} has the upper bound {bound:g}, which must be a finite number above "
                f"the previous band's {previous:g}",
            )
        else:
            previous = float(bound)
    return tuple(Band(name, band.upper_bound) for name, band in zip(names, bands, strict=True))


def apply_bands(numbers: npt.NDArray[np.float64], bands: Sequence[Band]) -> pd.Categorical[str]:
    """The name of the first band whose (exclusive) upper bound exceeds each number; NA if NaN."""
    bounds = np.array([band.upper_bound for band in bands[:-1]], dtype=float)
    codes = np.searchsorted(bounds, np.nan_to_num(numbers), side="right")
    codes[np.isnan(numbers)] = -1
    return pd.Categorical.from_codes(codes, pd.Index([band.name for band in bands]))


def _text(column: pd.Series) -> pd.Categorical:
    """Stripped text as a categorical, blank or missing as NA; strips each distinct value once."""
    codes, uniques = pd.factorize(column)
    cleaned = pd.Series(uniques, dtype=object).astype("string").str.strip()
    cleaned = cleaned.mask(cleaned.str.len().eq(0).fillna(False))
    merged, categories = pd.factorize(cleaned)  # " North" and "North" become one
    codes = np.append(merged, -1)[codes]  # a missing value (code -1) stays missing
    return pd.Categorical.from_codes(codes, categories.astype(object))


def attribute_values(
    customers: pd.DataFrame,
    attributes: Sequence[str],
    reference_date: date,
    bands: Mapping[str, Sequence[Band]],
) -> pd.DataFrame:
    """Each attribute as rules compare it: categorical text, float, or date as days since 1970.

    Text is stripped, and blank text is missing (NA), like absent values.

    ``bands`` maps companySize and ageBand to their bands; ages are the
    reference year minus the birth year. Raises ValueError naming the
    columns of ``customers`` the attributes need but which are absent.
    """
    missing = sorted({SOURCE_COLUMNS[name] for name in attributes} - set(customers.columns))
    if missing:
        raise ValueError(f"customers lack the column(s) {', '.join(missing)}")
    values = pd.DataFrame(index=customers.index)
    for attribute in attributes:
        column = customers[SOURCE_COLUMNS[attribute]]
        if attribute in BANDED:
            numbers = _numbers(column)
            if attribute == "ageBand":
                numbers = reference_date.year - numbers
            values[attribute] = apply_bands(numbers, bands[attribute])
        elif kind_of(attribute) == "number":
            values[attribute] = _numbers(column)
        elif kind_of(attribute) == "date":
            stamps = pd.to_datetime(column, errors="coerce", format="ISO8601")
            if stamps.dt.tz is not None:
                stamps = stamps.dt.tz_localize(None)
            days = (stamps - pd.Timestamp("1970-01-01")).dt.days  # whole days, rounded down
            values[attribute] = days.to_numpy(dtype=float, na_value=np.nan)
        else:
            values[attribute] = _text(column)
    return values


def _numbers(column: pd.Series) -> npt.NDArray[np.float64]:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def parse_rules(
    rules: Sequence[Rule], default_code: str, bands: Mapping[str, Sequence[Band]]
) -> tuple[ParsedRule, ...]:
    """Check every rule and the default segment code; InvalidRuleError on the first fault."""
    parsed: list[ParsedRule] = []
    names: dict[str, str] = {}
    for number, rule in enumerate(rules, 1):
        where = f"rules.rule[{number}]"
        code, name = rule.segment_code, rule.segment_name
        if not _is_code(code):
            raise InvalidRuleError(
                f"{where}.segmentCode",
                f"rule {number}: the segment code must be 1 to 64 characters",
            )
        label = f"rule {number} ({code})"
        if not isinstance(name, str) or not name.strip():
            raise InvalidRuleError(f"{where}.segmentName", f"{label} has no segment name")
        if names.setdefault(code, name) != name:
            raise InvalidRuleError(
                f"{where}.segmentName",
                f"{label} is named {name!r}, but an earlier rule named {code} {names[code]!r}",
            )
        if not rule.conditions:
            raise InvalidRuleError(f"{where}.conditions", f"{label} has no conditions")
        conditions = tuple(
            _parse_condition(
                condition.attribute,
                condition.operator,
                condition.values,
                f"{where}.conditions.condition[{index}]",
                f"{label}, condition {index}",
                bands,
            )
            for index, condition in enumerate(rule.conditions, 1)
        )
        parsed.append(ParsedRule(number, code, name, conditions))
    if not _is_code(default_code):
        raise InvalidRuleError("defaultSegmentCode", "the default code must be 1 to 64 characters")
    default_name = default_segment_name(default_code)
    if names.get(default_code, default_name) != default_name:
        raise InvalidRuleError(
            "defaultSegmentCode",
            f"the default segment {default_code} would be named {default_name!r}, "
            f"but a rule names {default_code} {names[default_code]!r}",
        )
    return tuple(parsed)


def default_segment_name(code: str) -> str:
    return "Other" if code == "OTHER" else code


def _is_code(code: object) -> bool:
    return isinstance(code, str) and bool(code.strip()) and len(code) <= MAX_CODE_LENGTH


def _parse_condition(
    attribute: str,
    operator: ConditionOperator | str,
    raw_values: Sequence[str],
    where: str,
    label: str,
    bands: Mapping[str, Sequence[Band]],
) -> ParsedCondition:
    if attribute not in RULE_ATTRIBUTES:
        raise InvalidRuleError(
            f"{where}.attribute",
            f"{label}: {attribute!r} is not one of {', '.join(RULE_ATTRIBUTES)}",
        )
    try:
        op = ConditionOperator(operator)
    except ValueError:
        raise InvalidRuleError(
            f"{where}.operator", f"{label}: unknown operator {operator!r}"
        ) from None
    kind = kind_of(attribute)
    if op in ORDERING and kind == "text":
        raise InvalidRuleError(
            f"{where}.operator", f"{label}: {op.value} needs a number or date, {attribute} is text"
        )
    texts = tuple(str(value).strip() for value in raw_values or ())
    low, high = VALUE_COUNTS.get(op, (1, 1))
    if len(texts) < low or (high is not None and len(texts) > high):
        wanted = {0: "no values", 1: "exactly 1 value", 2: "exactly 2 values"}.get(low, "")
        wanted = "1 or more values" if high is None else wanted
        raise InvalidRuleError(
            f"{where}.values", f"{label}: {op.value} takes {wanted}, got {len(texts)}"
        )
    values = tuple(_typed(attribute, kind, text, f"{where}.values", label, bands) for text in texts)
    if op is Op.BETWEEN and float(values[0]) > float(values[1]):
        raise InvalidRuleError(
            f"{where}.values", f"{label}: Between needs low <= high, got {texts[0]} > {texts[1]}"
        )
    return ParsedCondition(attribute, op, texts, values)


def _typed(
    attribute: str,
    kind: Kind,
    text: str,
    where: str,
    label: str,
    bands: Mapping[str, Sequence[Band]],
) -> str | float:
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise InvalidRuleError(where, f"{label}: {attribute} needs numbers, got {text!r}")
        return number
    if kind == "date":
        try:
            return float(date.fromisoformat(text).toordinal() - _EPOCH)
        except ValueError:
            raise InvalidRuleError(
                where, f"{label}: {attribute} needs ISO dates (YYYY-MM-DD), got {text!r}"
            ) from None
    if not text:
        raise InvalidRuleError(where, f"{label}: {attribute} needs non-blank text")
    if attribute in BANDED and text not in (names := [band.name for band in bands[attribute]]):
        raise InvalidRuleError(
            where, f"{label}: {attribute} has no band {text!r} (bands: {', '.join(names)})"
        )
    return text


def condition_mask(condition: ParsedCondition, column: pd.Series) -> Mask:
    """Which customers meet the condition; a missing value meets only IsMissing."""
    op, values = condition.operator, condition.values
    present = column.notna().to_numpy(dtype=bool)
    if op is Op.IS_MISSING:
        return ~present
    if op in (Op.EQUALS, Op.IN):
        return column.isin(values).to_numpy(dtype=bool)  # NA is in no list
    if op in (Op.NOT_EQUALS, Op.NOT_IN):
        return ~column.isin(values).to_numpy(dtype=bool) & present
    numbers = column.to_numpy(dtype=float)  # NaN compares False with everything
    if op is Op.BETWEEN:
        return (numbers >= float(values[0])) & (numbers <= float(values[1]))
    compare: Callable[[npt.NDArray[np.float64], float], Mask] = COMPARISONS[op]
    return compare(numbers, float(values[0]))


def first_matches(rules: Sequence[ParsedRule], values: pd.DataFrame) -> npt.NDArray[np.intp]:
    """Per customer, the 0-based index of the first rule whose conditions all hold, else -1."""
    matched = np.full(len(values), -1, dtype=np.intp)
    for index, rule in enumerate(rules):
        open_ = matched < 0
        for condition in rule.conditions:
            open_ &= condition_mask(condition, values[condition.attribute])
        matched[open_] = index
    return matched
