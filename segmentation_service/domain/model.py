"""Frozen value objects the service layer returns; standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum


class SegmentationMethod(str, Enum):
    """The three kinds of segmentation; values are the XSD enumeration."""

    A_PRIORI = "APriori"
    NEEDS_BASED = "NeedsBased"
    VALUE_BASED = "ValueBased"


class RunStatus(str, Enum):
    COMPLETED = "Completed"
    FAILED = "Failed"
    RUNNING = "Running"


class ValueMetric(str, Enum):
    """What a value-based run ranks customers by."""

    REVENUE = "Revenue"
    MARGIN = "Margin"
    RFM = "Rfm"
    CLV = "Clv"


# Customer attributes an a priori run can group by (XSD CustomerAttribute).
GROUPABLE_ATTRIBUTES: tuple[str, ...] = (
    "customerType",
    "industry",
    "companySize",
    "region",
    "ageBand",
    "preferredChannel",
)


@dataclass(frozen=True)
class Metric:
    name: str
    value: float


@dataclass(frozen=True)
class SegmentDefinition:
    """What an engine learned about one segment, before it is counted."""

    code: str
    name: str
    description: str
    profile: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Segment:
    code: str
    name: str
    description: str
    size: int
    share: float
    total_value: float
    average_value: float
    profile: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class APrioriOptions:
    group_by: tuple[str, ...]


@dataclass(frozen=True)
class NeedsBasedOptions:
    segment_count: int | None = None
    random_seed: int | None = None


@dataclass(frozen=True)
class ValueBasedOptions:
    value_metric: ValueMetric | None = None
    tier_count: int | None = None


@dataclass(frozen=True)
class SegmentationRequest:
    """A SegmentCustomers request in service terms; at most the method's own options block."""

    method: SegmentationMethod
    label: str | None = None
    customer_ids: tuple[str, ...] | None = None
    a_priori: APrioriOptions | None = None
    needs_based: NeedsBasedOptions | None = None
    value_based: ValueBasedOptions | None = None


@dataclass(frozen=True)
class SegmentationRun:
    run_id: int
    method: SegmentationMethod
    label: str | None
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    customer_count: int
    assigned_count: int
    unassigned_count: int
    metrics: tuple[Metric, ...] = ()
    segments: tuple[Segment, ...] = ()
    failure_reason: str | None = None


@dataclass(frozen=True)
class CustomerSegment:
    """One customer's place in one run."""

    customer_id: str
    run_id: int
    method: SegmentationMethod
    segment_code: str
    segment_name: str
    assigned_at: datetime
    score: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CustomerValueScore:
    customer_id: str
    transaction_count: int
    first_purchase_date: date | None
    last_purchase_date: date | None
    recency_days: int | None
    total_revenue: float
    total_margin: float
    average_order_value: float
    monthly_revenue: float
    rfm_score: str | None = None
    rfm_segment: str | None = None
    predicted_clv: float | None = None
    value_tier: str | None = None


@dataclass(frozen=True)
class ValueScores:
    scores: tuple[CustomerValueScore, ...]
    unknown_customer_ids: tuple[str, ...]


@dataclass(frozen=True)
class SegmentMember:
    customer_id: str
    name: str
    value: float | None = None
    score: float | None = None


@dataclass(frozen=True)
class MemberPage:
    run_id: int
    segment_code: str
    total_count: int
    members: tuple[SegmentMember, ...]
    next_page_token: str | None = None
