"""A priori segmentation: customers grouped by known attributes, or sorted by ordered rules."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from numbers import Integral

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin

from segmentation_service.domain.model import GROUPABLE_ATTRIBUTES, Band, Rule, SegmentDefinition
from segmentation_service.engines.base import FittedSegmentation, make_code
from segmentation_service.engines.rules import (
    UNKNOWN,
    InvalidRuleError,
    ParsedRule,
    attribute_values,
    default_segment_name,
    first_matches,
    parse_rules,
    validate_bands,
)

__all__ = ["APrioriSegmenter", "InvalidRuleError", "derive_attributes"]

OTHER_CODE = "OTHER"

# EU recommendation 2003/361: micro < 10, small < 50, medium < 250 employees.
COMPANY_SIZE_BANDS: tuple[Band, ...] = (
    Band("Micro", 10),
    Band("Small", 50),
    Band("Medium", 250),
    Band("Large"),
)
# Upper age bounds (exclusive) of each band; under-18s get their own band.
AGE_BANDS: tuple[Band, ...] = (
    Band("Under 18", 18),
    Band("18-24", 25),
    Band("25-34", 35),
    Band("35-44", 45),
    Band("45-54", 55),
    Band("55-64", 65),
    Band("65+"),
)


def derive_attributes(
    customers: pd.DataFrame,
    reference_date: date,
    attributes: Sequence[str] | None = None,
    company_size_bands: Sequence[Band] | None = None,
    age_bands: Sequence[Band] | None = None,
) -> pd.DataFrame:
    """The groupable ``attributes`` (XSD names, default all) of each customer; missing: Unknown.

    Company size and age band follow the given bands (default the EU sizes
    and the age bands above); age is the reference year minus the birth
    year. Raises ValueError naming the columns of ``customers`` the
    attributes need but which are absent, InvalidRuleError for invalid bands.
    """
    bands = _bands(company_size_bands, age_bands)
    names = GROUPABLE_ATTRIBUTES if attributes is None else tuple(attributes)
    values = attribute_values(customers, names, reference_date, bands)
    return values.astype(object).fillna(UNKNOWN)


class APrioriSegmenter(FittedSegmentation, ClusterMixin, BaseEstimator):
    """Segment customers by known attributes: grouped by their values, or by ordered rules.

    Without rules, customers are grouped by the ``group_by`` attributes and
    groups below a minimum size become "Other". With rules, each customer
    goes to the segment of the first rule whose conditions all hold, or to
    ``default_segment_code``.

    Parameters
    ----------
    group_by : sequence of str, default=("customerType", "region")
        XSD attribute names from ``GROUPABLE_ATTRIBUTES``; unused with rules.
    min_segment_share : float, default=0.01
        Groups with fewer than ``ceil(min_segment_share * n_customers)``
        customers are merged into the Other segment.
    reference_date : date or None, default=None
        The date ages are computed at; today when None.
    rules : sequence of Rule, default=()
        Domain rules, tried in order; when given, ``group_by`` and the
        minimum size are not used.
    default_segment_code : str, default="OTHER"
        The segment of customers no rule matches; named "Other" when the
        code is OTHER, else after the code.
    company_size_bands, age_bands : sequence of Band or None, default=None
        Bands of employee counts and ages (exclusive upper bounds, the last
        open-ended); None: the EU company sizes and the default age bands.
    min_segment_size : int or None, default=None
        Minimum group size in customers; overrides ``min_segment_share``.
    """

    def __init__(
        self,
        group_by: Sequence[str] = ("customerType", "region"),
        min_segment_share: float = 0.01,
        reference_date: date | None = None,
        rules: Sequence[Rule] = (),
        default_segment_code: str = OTHER_CODE,
        company_size_bands: Sequence[Band] | None = None,
        age_bands: Sequence[Band] | None = None,
        min_segment_size: int | None = None,
    ) -> None:
        self.group_by = group_by
        self.min_segment_share = min_segment_share
        self.reference_date = reference_date
        self.rules = rules
        self.default_segment_code = default_segment_code
        self.company_size_bands = company_size_bands
        self.age_bands = age_bands
        self.min_segment_size = min_segment_size

    def fit(self, X: pd.DataFrame, y: None = None) -> APrioriSegmenter:
        if self.rules:
            parsed, bands = self.parse()
            return self._fit_rules(X, parsed, bands)
        return self._fit_groups(X, _bands(self.company_size_bands, self.age_bands))

    def _fit_groups(self, X: pd.DataFrame, bands: Mapping[str, Sequence[Band]]) -> APrioriSegmenter:
        group_ids, keys = self.group_keys(X, bands)
        counts = np.bincount(group_ids, minlength=len(keys))
        self.settle_groups(dict(zip(keys, (int(c) for c in counts), strict=True)), len(X))
        self.label_groups(group_ids, keys)
        return self

    def group_keys(
        self, X: pd.DataFrame, bands: Mapping[str, Sequence[Band]] | None = None
    ) -> tuple[npt.NDArray[np.intp], list[tuple[str, ...]]]:
        """Each customer's group (an index into the keys) and the distinct group keys."""
        group_by = self._check_group_parameters()
        bands = _bands(self.company_size_bands, self.age_bands) if bands is None else bands
        values = attribute_values(X, group_by, self._reference_date(), bands)
        attributes = values.astype(object).fillna(UNKNOWN)
        if attributes.empty:
            return np.zeros(0, dtype=np.intp), []
        group_ids, uniques = pd.MultiIndex.from_frame(attributes).factorize()
        return np.asarray(group_ids, dtype=np.intp), [tuple(key) for key in uniques]

    def settle_groups(self, counts: Mapping[tuple[str, ...], int], customers: int) -> None:
        """Which groups are kept, their codes and segments, given every group's size."""
        group_by = self._check_group_parameters()
        minimum = self.min_segment_size
        share_minimum = math.ceil(self.min_segment_share * customers)
        self.min_segment_size_ = max(1, share_minimum if minimum is None else int(minimum))
        kept = sorted(key for key, count in counts.items() if count >= self.min_segment_size_)
        self.group_codes_ = _unique_codes(kept)
        self.segments_ = [
            SegmentDefinition(
                code=self.group_codes_[key],
                name=" / ".join(key),
                description=_describe(group_by, key),
                profile=tuple(zip(group_by, key, strict=True)),
            )
            for key in kept
        ]
        merged = len(counts) - len(kept)
        if merged:
            self.segments_.append(
                SegmentDefinition(
                    code=OTHER_CODE,
                    name="Other",
                    description=f"Customers in groups of fewer than {self.min_segment_size_}",
                    profile=tuple((name, "mixed") for name in group_by),
                )
            )
        self.metrics_ = {
            "apriori.groups": float(len(counts)),
            "apriori.mergedGroups": float(merged),
            "apriori.minimumSegmentSize": float(self.min_segment_size_),
        }

    def label_groups(
        self, group_ids: npt.NDArray[np.intp], keys: Sequence[tuple[str, ...]]
    ) -> None:
        """labels_, reasons_ and scores_ of customers by group, once the groups are settled."""
        group_by = list(self.group_by)
        # One label and reason per group, spread to its customers.
        group_labels = [self.group_codes_.get(key, OTHER_CODE) for key in keys]
        group_reasons = [self._reason(group_by, key) for key in keys]
        self.labels_ = np.array(group_labels, dtype=object)[group_ids]
        self.reasons_ = np.array(group_reasons, dtype=object)[group_ids]
        self.scores_ = np.full(len(group_ids), np.nan)

    def _check_group_parameters(self) -> list[str]:
        group_by = list(self.group_by)
        unknown = [name for name in group_by if name not in GROUPABLE_ATTRIBUTES]
        if not group_by or unknown or len(set(group_by)) != len(group_by):
            raise ValueError(f"group_by must name distinct attributes of {GROUPABLE_ATTRIBUTES}")
        if not 0 <= self.min_segment_share < 1:
            raise ValueError("min_segment_share must be in [0, 1)")
        minimum = self.min_segment_size
        if minimum is not None and (
            isinstance(minimum, bool) or not isinstance(minimum, Integral) or minimum < 1
        ):
            raise ValueError("min_segment_size must be a whole number of customers >= 1, or None")
        return group_by

    def _fit_rules(
        self, X: pd.DataFrame, rules: tuple[ParsedRule, ...], bands: Mapping[str, Sequence[Band]]
    ) -> APrioriSegmenter:
        self.settle_rules(rules)
        self.label_rules(X, bands)
        return self

    def parse(self) -> tuple[tuple[ParsedRule, ...], dict[str, tuple[Band, ...]]]:
        """The parsed rules (InvalidRuleError naming the bad one) and the bands."""
        bands = _bands(self.company_size_bands, self.age_bands)
        return parse_rules(tuple(self.rules), self.default_segment_code, bands), bands

    def settle_rules(self, rules: tuple[ParsedRule, ...]) -> None:
        """The segments of the rules (and of the default), which no customer changes."""
        default = self.default_segment_code
        segments: dict[str, list[ParsedRule]] = {}
        for rule in rules:
            segments.setdefault(rule.code, []).append(rule)
        self.parsed_rules_ = rules
        self.segments_ = [_rule_segment(code, members) for code, members in segments.items()]
        if default in segments:  # with the same name: parse_rules checked it
            at = list(segments).index(default)
            description = f"{self.segments_[at].description}; or matching no rule"
            self.segments_[at] = replace(self.segments_[at], description=description)
        else:
            self.segments_.append(
                SegmentDefinition(
                    code=default,
                    name=default_segment_name(default),
                    description=f"Customers matching none of the {len(rules)} rules",
                    profile=(("rule", "none matched"),),
                )
            )

    def label_rules(self, X: pd.DataFrame, bands: Mapping[str, Sequence[Band]]) -> None:
        """labels_, reasons_, scores_ and metrics_ of customers by the settled rules."""
        rules, default = self.parsed_rules_, self.default_segment_code
        needed = list(dict.fromkeys(c.attribute for rule in rules for c in rule.conditions))
        values = attribute_values(X, needed, self._reference_date(), bands)
        matched = first_matches(rules, values)
        # One entry per rule, then the default; matched == -1 picks the default.
        choice = np.where(matched < 0, len(rules), matched)
        codes = np.array([rule.code for rule in rules] + [default], dtype=object)
        reasons = [f"matched rule {r.number} ({r.code}): {r.words()}" for r in rules]
        reasons.append(f"matched no rule; default segment {default}")
        self.labels_ = codes[choice]
        self.reasons_ = np.array(reasons, dtype=object)[choice]
        self.scores_ = np.full(len(X), np.nan)
        defaulted = int(np.count_nonzero(matched < 0))
        self.metrics_ = {
            "apriori.rules": float(len(rules)),
            "apriori.matched": float(len(X) - defaulted),
            "apriori.defaulted": float(defaulted),
        }

    def _reference_date(self) -> date:
        return self.reference_date or date.today()

    def _reason(self, group_by: list[str], key: tuple[str, ...]) -> str:
        description = _describe(group_by, key)
        if key in self.group_codes_:
            return description
        return (
            f"{description}: that group is smaller than the minimum segment size "
            f"({self.min_segment_size_}), so it is merged into Other"
        )


def _bands(
    company_size_bands: Sequence[Band] | None, age_bands: Sequence[Band] | None
) -> dict[str, tuple[Band, ...]]:
    return {
        "companySize": validate_bands(
            COMPANY_SIZE_BANDS if company_size_bands is None else company_size_bands,
            "companySizeBands",
        ),
        "ageBand": validate_bands(AGE_BANDS if age_bands is None else age_bands, "ageBands"),
    }


def _rule_segment(code: str, rules: list[ParsedRule]) -> SegmentDefinition:
    """A rule segment: its rules in words and, per condition, attribute and "operator values"."""
    description = "; or ".join(f"rule {rule.number}: {rule.words()}" for rule in rules)
    return SegmentDefinition(
        code=code,
        name=rules[0].name,
        description=description[0].upper() + description[1:],
        profile=tuple(c.profile for rule in rules for c in rule.conditions),
    )


def _describe(group_by: Sequence[str], key: Sequence[str]) -> str:
    return ", ".join(f"{name} = {value}" for name, value in zip(group_by, key, strict=True))


def _unique_codes(keys: Sequence[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    codes: dict[tuple[str, ...], str] = {}
    used = {OTHER_CODE}
    for key in keys:
        code = base = make_code(key)
        suffix = 2
        while code in used:
            code = f"{base[:60]}-{suffix}"
            suffix += 1
        used.add(code)
        codes[key] = code
    return codes
