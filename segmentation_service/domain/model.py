"""Frozen value objects the service layer returns; standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum


class SegmentationMethod(str, Enum):
    """The kinds of segmentation; values are the XSD enumeration (Behavioural since 1.4)."""

    A_PRIORI = "APriori"
    NEEDS_BASED = "NeedsBased"
    VALUE_BASED = "ValueBased"
    BEHAVIOURAL = "Behavioural"


# The methods a contract-1.3 client's enumeration knows: what lists show unless asked
# for more, so that a client generated from an older contract never meets "Behavioural".
CONTRACT_1_3_METHODS = (
    SegmentationMethod.A_PRIORI,
    SegmentationMethod.NEEDS_BASED,
    SegmentationMethod.VALUE_BASED,
)


class RunStatus(str, Enum):
    """Queued -> Running -> Completed | Failed | Cancelled; Queued -> Cancelled."""

    COMPLETED = "Completed"
    FAILED = "Failed"
    RUNNING = "Running"
    QUEUED = "Queued"
    CANCELLED = "Cancelled"

    @property
    def finished(self) -> bool:
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


# What ListSegmentationRuns shows when no statuses are asked for: the 1.1 statuses,
# so that a client generated from 1.1 never meets a value its enumeration lacks.
CONTRACT_1_1_STATUSES = (RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.FAILED)


class RunPhase(str, Enum):
    """The step a run is at, with the progress reached when it begins."""

    QUEUED = "Queued"
    READING = "Reading"
    FITTING = "Fitting"
    ASSIGNING = "Assigning"
    WRITING = "Writing"
    DONE = "Done"

    @property
    def progress(self) -> float:
        return _PHASE_PROGRESS[self]


_PHASE_PROGRESS = {
    RunPhase.QUEUED: 0.0,
    RunPhase.READING: 0.05,
    RunPhase.FITTING: 0.4,
    RunPhase.ASSIGNING: 0.7,
    RunPhase.WRITING: 0.85,
    RunPhase.DONE: 1.0,
}


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


class Strategy(str, Enum):
    """What to do with a group of customers (XSD Strategy); see ``engines.treatments``."""

    RETAIN = "Retain"
    DEVELOP = "Develop"
    WIN_BACK = "WinBack"
    ACQUIRE = "Acquire"
    REDUCE_COST_TO_SERVE = "ReduceCostToServe"
    MAINTAIN = "Maintain"


@dataclass(frozen=True)
class Treatment:
    """The recommended (or, ``overridden``, an analyst's) strategy, channel and message."""

    strategy: Strategy
    channel: str | None
    message: str
    reason: str
    overridden: bool = False


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
    revenue: float | None = None
    cost: float | None = None
    owner: str | None = None
    treatment: Treatment | None = None

    @property
    def profit(self) -> float | None:
        if self.revenue is None or self.cost is None:
            return None
        return self.revenue - self.cost

    @property
    def profitable(self) -> bool | None:
        profit = self.profit
        return None if profit is None else profit >= 0


# Customer fields a rule condition can test (XSD RuleAttribute), besides the bands.
RULE_ATTRIBUTES: tuple[str, ...] = (
    "customerType",
    "industry",
    "employeeCount",
    "annualRevenue",
    "region",
    "country",
    "birthYear",
    "preferredChannel",
    "signupDate",
    "acquisitionCost",
    "annualCostToServe",
    "companySize",
    "ageBand",
)


class ConditionOperator(str, Enum):
    EQUALS = "Equals"
    NOT_EQUALS = "NotEquals"
    IN = "In"
    NOT_IN = "NotIn"
    GREATER_THAN = "GreaterThan"
    GREATER_OR_EQUAL = "GreaterOrEqual"
    LESS_THAN = "LessThan"
    LESS_OR_EQUAL = "LessOrEqual"
    BETWEEN = "Between"
    IS_MISSING = "IsMissing"


@dataclass(frozen=True)
class Condition:
    attribute: str
    operator: ConditionOperator
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """Customers meeting every condition go to this segment (first matching rule wins)."""

    segment_code: str
    segment_name: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Band:
    """Values below ``upper_bound`` (exclusive) that no earlier band took; None: no bound."""

    name: str
    upper_bound: float | None = None


@dataclass(frozen=True)
class APrioriOptions:
    group_by: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    default_segment_code: str | None = None
    company_size_bands: tuple[Band, ...] | None = None
    age_bands: tuple[Band, ...] | None = None
    minimum_segment_size: int | None = None


@dataclass(frozen=True)
class NeedsBasedOptions:
    segment_count: int | None = None
    random_seed: int | None = None
    min_answered_share: float | None = None
    centre_respondents: bool | None = None
    pca_components: int | None = None


@dataclass(frozen=True)
class ValueBasedOptions:
    value_metric: ValueMetric | None = None
    tier_count: int | None = None
    as_of_date: date | None = None
    horizon_months: int | None = None
    annual_discount_rate: float | None = None


class BehaviourFeature(str, Enum):
    """Feature families of a behavioural run (XSD BehaviourFeature)."""

    CHANNEL_MIX = "ChannelMix"
    CATEGORY_MIX = "CategoryMix"
    FREQUENCY = "Frequency"
    BASKET = "Basket"
    RETURNS = "Returns"
    INTERVAL = "Interval"
    TENURE = "Tenure"
    RECENCY = "Recency"


@dataclass(frozen=True)
class BehaviouralOptions:
    features: tuple[BehaviourFeature, ...] | None = None
    segment_count: int | None = None
    random_seed: int | None = None
    as_of_date: date | None = None
    lookback_months: int | None = None


@dataclass(frozen=True)
class SegmentationRequest:
    """A SegmentCustomers request in service terms; at most the method's own options block."""

    method: SegmentationMethod
    label: str | None = None
    customer_ids: tuple[str, ...] | None = None
    a_priori: APrioriOptions | None = None
    needs_based: NeedsBasedOptions | None = None
    value_based: ValueBasedOptions | None = None
    behavioural: BehaviouralOptions | None = None


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
    started_by: str | None = None
    progress: float | None = None
    phase: str | None = None
    queued_at: datetime | None = None

    @property
    def loss_making_segments(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.segments if s.profitable is False)


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
    probability_alive: float | None = None
    expected_purchases: float | None = None
    acquisition_cost: float | None = None
    # 1.5: see engines.value_forecast
    churn_risk: str | None = None
    expected_purchases_low: int | None = None
    expected_purchases_high: int | None = None
    predicted_clv_low: float | None = None
    predicted_clv_high: float | None = None
    expected_days_to_next_purchase: float | None = None


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


@dataclass(frozen=True)
class Transition:
    from_segment_code: str
    to_segment_code: str
    customer_count: int
    value_before: float
    value_after: float


@dataclass(frozen=True)
class RunComparison:
    """How customers moved between the segments of two runs."""

    from_run_id: int
    to_run_id: int
    transitions: tuple[Transition, ...]
    stayed_share: float
    adjusted_rand_index: float
    entered_count: int
    left_count: int


class MoveDirection(str, Enum):
    """To a better value tier (Up) or a worse one (Down); XSD MoveDirection (1.5)."""

    UP = "Up"
    DOWN = "Down"


@dataclass(frozen=True)
class MoverFilter:
    """Which movers between two completed runs to list (see ``services.movers``).

    ``tier_pairs``: for a direction, the (from, to) tier codes that move that way.
    """

    from_run_id: int
    to_run_id: int
    from_segment_code: str | None = None
    to_segment_code: str | None = None
    tier_pairs: frozenset[tuple[str, str]] | None = None

    @property
    def stayers(self) -> bool:
        """Both codes given and equal: the segment's stayers (the diagonal cell)."""
        return self.from_segment_code is not None and (
            self.from_segment_code == self.to_segment_code
        )


@dataclass(frozen=True)
class Mover:
    """A customer whose segment differs between two runs (None: entered or left)."""

    customer_id: str
    name: str
    from_segment_code: str | None
    to_segment_code: str | None
    value_before: float | None = None
    value_after: float | None = None


@dataclass(frozen=True)
class MoverPage:
    total_count: int
    movers: tuple[Mover, ...]
    next_page_token: str | None = None


@dataclass(frozen=True)
class Schedule:
    """A request submitted at every due time of a 5-field cron expression (UTC)."""

    schedule_id: int
    name: str
    cron: str
    next_run_at: datetime
    last_run_id: int | None
    enabled: bool
    request: SegmentationRequest
    created_by: str | None = None


@dataclass(frozen=True)
class Partition:
    """One slice of a run's customers: a customer_id range, or an explicit list of ids.

    A range holds the ids above ``after`` (exclusive; None: from the first) up to
    ``through`` (inclusive; None: to the last). A run over given customer ids is cut
    into lists instead (``ids``), each sorted.
    """

    index: int
    after: str | None = None
    through: str | None = None
    ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PortfolioCell:
    """A cell of a portfolio grid (row segment × column segment), or a row or column total
    (the other side None), at one evaluation. Segments are named as in the runs used."""

    row_segment: str | None
    column_segment: str | None
    customers: int
    revenue: float
    cost: float
    acquisition_cost: float
    equity: float
    row_segment_code: str | None = None
    column_segment_code: str | None = None
    clv_total: float | None = None
    clv_average: float | None = None
    probability_alive_average: float | None = None
    equity_share: float | None = None
    owner: str | None = None
    treatment: Treatment | None = None
    equity_change: float | None = None  # since the portfolio's previous evaluation

    @property
    def profit(self) -> float:
        return self.revenue - self.cost


@dataclass(frozen=True)
class PortfolioEvaluation:
    """A portfolio's grid at one time: cells in row-major order, totals, and everyone
    outside the grid (not in both runs' segments), from the runs it used."""

    evaluation_id: int
    evaluated_at: datetime
    rows_run_id: int
    columns_run_id: int
    value_run_id: int | None
    cells: tuple[PortfolioCell, ...]
    row_totals: tuple[PortfolioCell, ...]
    column_totals: tuple[PortfolioCell, ...]
    outside: PortfolioCell
    equity: float


@dataclass(frozen=True)
class Portfolio:
    portfolio_id: int
    name: str
    rows: SegmentationMethod
    columns: SegmentationMethod
    created_at: datetime
    owner: str | None = None
    objective: str | None = None
    created_by: str | None = None
