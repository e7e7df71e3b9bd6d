"""A priori segmentation: groups of customers by known attributes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin

from segmentation_service.domain.model import GROUPABLE_ATTRIBUTES, SegmentDefinition
from segmentation_service.engines.base import FittedSegmentation, make_code

OTHER_CODE = "OTHER"
UNKNOWN = "Unknown"

# EU recommendation 2003/361: micro < 10, small < 50, medium < 250 employees.
COMPANY_SIZE_BANDS: tuple[tuple[float, str], ...] = (
    (10, "Micro"),
    (50, "Small"),
    (250, "Medium"),
    (math.inf, "Large"),
)
# Upper age bounds (exclusive) of each band; under-18s get their own band.
AGE_BANDS: tuple[tuple[float, str], ...] = (
    (18, "Under 18"),
    (25, "18-24"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (65, "55-64"),
    (math.inf, "65+"),
)
SOURCE_COLUMNS = {
    "customerType": "customer_type",
    "industry": "industry",
    "companySize": "employee_count",
    "region": "region",
    "ageBand": "birth_year",
    "preferredChannel": "preferred_channel",
}


def band(values: pd.Series, bands: Sequence[tuple[float, str]]) -> pd.Series:
    """Label each number with the first band whose upper bound exceeds it."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    labels = pd.Series(UNKNOWN, index=values.index, dtype=object)
    remaining = numbers.notna()
    for upper, label in bands:
        hit = remaining & (numbers < upper)
        labels[hit] = label
        remaining &= ~hit
    return labels


def derive_attributes(
    customers: pd.DataFrame,
    reference_date: date,
    attributes: Sequence[str] = GROUPABLE_ATTRIBUTES,
) -> pd.DataFrame:
    """The groupable ``attributes`` (XSD names) of each customer; missing values become Unknown.

    Age is the reference year minus the birth year. Raises ValueError naming
    the columns of ``customers`` the attributes need but which are absent.
    """
    missing = sorted({SOURCE_COLUMNS[name] for name in attributes} - set(customers.columns))
    if missing:
        raise ValueError(f"customers lack the column(s) {', '.join(missing)}")
    derived = pd.DataFrame(index=customers.index)
    for attribute in attributes:
        column = customers[SOURCE_COLUMNS[attribute]]
        if attribute == "companySize":
            derived[attribute] = band(column, COMPANY_SIZE_BANDS)
        elif attribute == "ageBand":
            age = reference_date.year - pd.to_numeric(column, errors="coerce")
            derived[attribute] = band(age, AGE_BANDS)
        else:
            derived[attribute] = column.astype(object).where(column.notna())
            derived[attribute] = derived[attribute].fillna(UNKNOWN).astype(str)
    return derived


class APrioriSegmenter(FittedSegmentation, ClusterMixin, BaseEstimator):
    """Group customers by known attributes; groups below a minimum size become "Other".

    Parameters
    ----------
    group_by : sequence of str, default=("customerType", "region")
        XSD attribute names from ``GROUPABLE_ATTRIBUTES``.
    min_segment_share : float, default=0.01
        Groups with fewer than ``ceil(min_segment_share * n_customers)``
        customers are merged into the Other segment.
    reference_date : date or None, default=None
        The date ages are computed at; today when None.
    """

    def __init__(
        self,
        group_by: Sequence[str] = ("customerType", "region"),
        min_segment_share: float = 0.01,
        reference_date: date | None = None,
    ) -> None:
        self.group_by = group_by
        self.min_segment_share = min_segment_share
        self.reference_date = reference_date

    def fit(self, X: pd.DataFrame, y: None = None) -> APrioriSegmenter:
        group_by = list(self.group_by)
        unknown = [name for name in group_by if name not in GROUPABLE_ATTRIBUTES]
        if not group_by or unknown or len(set(group_by)) != len(group_by):
            raise ValueError(f"group_by must name distinct attributes of {GROUPABLE_ATTRIBUTES}")
        if not 0 <= self.min_segment_share < 1:
            raise ValueError("min_segment_share must be in [0, 1)")
        attributes = derive_attributes(X, self.reference_date or date.today(), group_by)
        keys = pd.Series(
            list(zip(*(attributes[name] for name in group_by), strict=True)), dtype=object
        )
        sizes = keys.value_counts()
        self.min_segment_size_ = max(1, math.ceil(self.min_segment_share * len(X)))
        kept = sorted(sizes[sizes >= self.min_segment_size_].index)
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
        merged = len(sizes) - len(kept)
        if merged:
            self.segments_.append(
                SegmentDefinition(
                    code=OTHER_CODE,
                    name="Other",
                    description=f"Customers in groups of fewer than {self.min_segment_size_}",
                    profile=tuple((name, "mixed") for name in group_by),
                )
            )
        self.labels_ = np.array(
            [self.group_codes_.get(key, OTHER_CODE) for key in keys], dtype=object
        )
        self.reasons_ = np.array([self._reason(group_by, key) for key in keys], dtype=object)
        self.scores_ = np.full(len(X), np.nan)
        self.metrics_ = {
            "apriori.groups": float(len(sizes)),
            "apriori.mergedGroups": float(merged),
            "apriori.minimumSegmentSize": float(self.min_segment_size_),
        }
        return self

    def _reason(self, group_by: list[str], key: tuple[str, ...]) -> str:
        description = _describe(group_by, key)
        if key in self.group_codes_:
            return description
        return (
            f"{description}: that group is smaller than the minimum segment size "
            f"({self.min_segment_size_}), so it is merged into Other"
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
