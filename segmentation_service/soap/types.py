"""spyne models mirroring wsdl/segmentation.xsd name for name.

The XSD is the contract; these classes only let spyne read and write it.
tests/contract/test_schema_parity.py fails when the two drift apart.
"""

from __future__ import annotations

from typing import Any

from spyne import Boolean, ComplexModel, Date, DateTime, Double, Integer32, Long, Unicode

TNS = "urn:customer-segmentation:v1"


def required(kind: Any) -> Any:
    return kind.customize(min_occurs=1, nillable=False)


def optional(kind: Any) -> Any:
    return kind.customize(min_occurs=0, nillable=False)


def repeated(kind: Any, min_occurs: int = 0, max_occurs: int | str = "unbounded") -> Any:
    return kind.customize(min_occurs=min_occurs, max_occurs=max_occurs, nillable=False)


# ---------------------------------------------------------------- simple types
SegmentationMethod = Unicode(
    values=["APriori", "NeedsBased", "ValueBased", "Behavioural"], type_name="SegmentationMethod"
)
BehaviourFeature = Unicode(
    values=[
        "ChannelMix", "CategoryMix", "Frequency", "Basket", "Returns", "Interval", "Tenure",
        "Recency",
    ],
    type_name="BehaviourFeature",
)  # fmt: skip
LookbackMonths = Integer32(ge=1, le=120, type_name="LookbackMonths")
PortfolioId = Long(ge=1, type_name="PortfolioId")
PortfolioObjective = Unicode(max_len=2000, type_name="PortfolioObjective")
RunStatus = Unicode(
    values=["Completed", "Failed", "Running", "Queued", "Cancelled"], type_name="RunStatus"
)
RunPhase = Unicode(max_len=32, type_name="RunPhase")
IdempotencyKey = Unicode(min_len=1, max_len=100, type_name="IdempotencyKey")
CronExpression = Unicode(min_len=9, max_len=100, type_name="CronExpression")
ScheduleId = Long(ge=1, type_name="ScheduleId")
ValueMetric = Unicode(values=["Revenue", "Margin", "Rfm", "Clv"], type_name="ValueMetric")
CustomerAttribute = Unicode(
    values=["customerType", "industry", "companySize", "region", "ageBand", "preferredChannel"],
    type_name="CustomerAttribute",
)
CustomerId = Unicode(min_len=1, max_len=64, type_name="CustomerId")
SegmentCode = Unicode(min_len=1, max_len=64, type_name="SegmentCode")
RunId = Long(ge=1, type_name="RunId")
RunLabel = Unicode(max_len=200, type_name="RunLabel")
PageToken = Unicode(min_len=1, max_len=512, type_name="PageToken")
PageSize = Integer32(ge=1, le=1000, type_name="PageSize")
SegmentCount = Integer32(ge=2, le=20, type_name="SegmentCount")
TierCount = Integer32(ge=2, le=10, type_name="TierCount")
RandomSeed = Integer32(ge=0, type_name="RandomSeed")
HorizonMonths = Integer32(ge=1, le=120, type_name="HorizonMonths")
DiscountRate = Double(ge=0, le=1, type_name="DiscountRate")
RfmScore = Unicode(pattern="[1-5][1-5][1-5]", type_name="RfmScore")
ConditionOperator = Unicode(
    values=[
        "Equals", "NotEquals", "In", "NotIn", "GreaterThan", "GreaterOrEqual", "LessThan",
        "LessOrEqual", "Between", "IsMissing",
    ],
    type_name="ConditionOperator",
)  # fmt: skip
RuleAttribute = Unicode(
    values=[
        "customerType", "industry", "employeeCount", "annualRevenue", "region", "country",
        "birthYear", "preferredChannel", "signupDate", "acquisitionCost", "annualCostToServe",
        "companySize", "ageBand",
    ],
    type_name="RuleAttribute",
)  # fmt: skip
ShortText = Unicode(min_len=1, max_len=200, type_name="ShortText")
ConditionValue = Unicode(max_len=200, type_name="ConditionValue")
BandName = Unicode(min_len=1, max_len=64, type_name="BandName")
MinimumSegmentSize = Integer32(ge=1, type_name="MinimumSegmentSize")
Share = Double(ge=0, le=1, type_name="Share")
PcaComponents = Integer32(ge=1, le=50, type_name="PcaComponents")
RunListLimit = Integer32(ge=1, le=100, type_name="RunListLimit")
Text = Unicode


class _Model(ComplexModel):
    __namespace__ = TNS


# ---------------------------------------------------------------- common types
class Metric(_Model):
    _type_info = [("name", required(Text)), ("value", required(Double))]


class MetricList(_Model):
    _type_info = [("metric", repeated(Metric))]


class ProfileEntry(_Model):
    _type_info = [("attribute", required(Text)), ("value", required(Text))]


class ProfileEntryList(_Model):
    _type_info = [("entry", repeated(ProfileEntry))]


Strategy = Unicode(
    values=["Retain", "Develop", "WinBack", "Acquire", "ReduceCostToServe", "Maintain"],
    type_name="Strategy",
)
TreatmentMessage = Unicode(min_len=1, max_len=2000, type_name="TreatmentMessage")


class Treatment(_Model):
    """1.4"""

    _type_info = [
        ("strategy", required(Strategy)),
        ("channel", optional(Text)),
        ("message", required(Text)),
        ("reason", required(Text)),
        ("overridden", required(Boolean)),
    ]


class Segment(_Model):
    _type_info = [
        ("code", required(SegmentCode)),
        ("name", required(Text)),
        ("description", required(Text)),
        ("size", required(Integer32)),
        ("share", required(Double)),
        ("totalValue", required(Double)),
        ("averageValue", required(Double)),
        ("profile", required(ProfileEntryList)),
        ("revenue", optional(Double)),
        ("cost", optional(Double)),
        ("profit", optional(Double)),
        ("profitable", optional(Boolean)),
        ("owner", optional(ShortText)),
        ("treatment", optional(Treatment)),  # 1.4
    ]


class SegmentList(_Model):
    _type_info = [("segment", repeated(Segment))]


class SegmentCodeList(_Model):
    _type_info = [("segmentCode", repeated(SegmentCode))]


class SegmentationRun(_Model):
    _type_info = [
        ("runId", required(RunId)),
        ("method", required(SegmentationMethod)),
        ("label", optional(RunLabel)),
        ("status", required(RunStatus)),
        ("startedAt", required(DateTime)),
        ("finishedAt", optional(DateTime)),
        ("customerCount", required(Integer32)),
        ("assignedCount", required(Integer32)),
        ("unassignedCount", required(Integer32)),
        ("metrics", required(MetricList)),
        ("segments", required(SegmentList)),
        ("failureReason", optional(Text)),
        ("startedBy", optional(Text)),
        ("lossMakingSegments", optional(SegmentCodeList)),
        ("progress", optional(Share)),
        ("phase", optional(RunPhase)),
        ("queuedAt", optional(DateTime)),
    ]


class SegmentationRunList(_Model):
    _type_info = [("run", repeated(SegmentationRun))]


class RunStatusList(_Model):
    _type_info = [("status", repeated(RunStatus, min_occurs=1))]


class CustomerIdList(_Model):
    _type_info = [("customerId", repeated(CustomerId, min_occurs=1))]


class CustomerIdBatch(_Model):
    _type_info = [("customerId", repeated(CustomerId, min_occurs=1, max_occurs=1000))]


class UnknownCustomerIdList(_Model):
    _type_info = [("customerId", repeated(CustomerId))]


# ------------------------------------------------------------ SegmentCustomers
class CustomerAttributeList(_Model):
    _type_info = [("attribute", repeated(CustomerAttribute, min_occurs=1, max_occurs=6))]


class ConditionValueList(_Model):
    _type_info = [("value", repeated(ConditionValue, max_occurs=100))]


class Condition(_Model):
    _type_info = [
        ("attribute", required(RuleAttribute)),
        ("operator", required(ConditionOperator)),
        ("values", optional(ConditionValueList)),
    ]


class ConditionList(_Model):
    _type_info = [("condition", repeated(Condition, min_occurs=1, max_occurs=20))]


class Rule(_Model):
    _type_info = [
        ("segmentCode", required(SegmentCode)),
        ("segmentName", required(ShortText)),
        ("conditions", required(ConditionList)),
    ]


class RuleList(_Model):
    _type_info = [("rule", repeated(Rule, min_occurs=1, max_occurs=100))]


class Band(_Model):
    _type_info = [("name", required(BandName)), ("upperBound", optional(Double))]


class BandList(_Model):
    _type_info = [("band", repeated(Band, min_occurs=1, max_occurs=20))]


class APrioriParameters(_Model):
    _type_info = [
        ("groupBy", optional(CustomerAttributeList)),
        ("rules", optional(RuleList)),
        ("defaultSegmentCode", optional(SegmentCode)),
        ("companySizeBands", optional(BandList)),
        ("ageBands", optional(BandList)),
        ("minimumSegmentSize", optional(MinimumSegmentSize)),
    ]


class NeedsBasedParameters(_Model):
    _type_info = [
        ("segmentCount", optional(SegmentCount)),
        ("randomSeed", optional(RandomSeed)),
        ("minAnsweredShare", optional(Share)),
        ("centreRespondents", optional(Boolean)),
        ("pcaComponents", optional(PcaComponents)),
    ]


class ValueBasedParameters(_Model):
    _type_info = [
        ("valueMetric", optional(ValueMetric)),
        ("tierCount", optional(TierCount)),
        ("asOfDate", optional(Date)),
        ("horizonMonths", optional(HorizonMonths)),
        ("annualDiscountRate", optional(DiscountRate)),
    ]


class BehaviourFeatureList(_Model):
    _type_info = [("feature", repeated(BehaviourFeature, min_occurs=1, max_occurs=8))]


class BehaviouralParameters(_Model):
    """1.4"""

    _type_info = [
        ("features", optional(BehaviourFeatureList)),
        ("segmentCount", optional(SegmentCount)),
        ("randomSeed", optional(RandomSeed)),
        ("asOfDate", optional(Date)),
        ("lookbackMonths", optional(LookbackMonths)),
    ]


SEGMENTATION_REQUEST = [
    ("method", required(SegmentationMethod)),
    ("label", optional(RunLabel)),
    ("customerIds", optional(CustomerIdList)),
    ("aPriori", optional(APrioriParameters)),
    ("needsBased", optional(NeedsBasedParameters)),
    ("valueBased", optional(ValueBasedParameters)),
]


class SegmentCustomers(_Model):
    """The SegmentCustomers request body, also a schedule's ``request`` (1.3)."""

    _type_info = [*SEGMENTATION_REQUEST, ("behavioural", optional(BehaviouralParameters))]


class SegmentCustomersResponse(_Model):
    _type_info = [("run", required(SegmentationRun))]


class SubmitSegmentation(_Model):
    """SegmentCustomers' request and an idempotency key (1.3)."""

    _type_info = [
        *SEGMENTATION_REQUEST,
        ("idempotencyKey", optional(IdempotencyKey)),
        ("behavioural", optional(BehaviouralParameters)),  # 1.4
    ]


class SubmitSegmentationResponse(_Model):
    _type_info = [("run", required(SegmentationRun))]


# ------------------------------------------------------------- schedules (1.3)
class SegmentationSchedule(_Model):
    _type_info = [
        ("scheduleId", required(ScheduleId)),
        ("name", required(ShortText)),
        ("cron", required(CronExpression)),
        ("nextRunAt", required(DateTime)),
        ("lastRunId", optional(RunId)),
        ("enabled", required(Boolean)),
        ("request", required(SegmentCustomers)),
        ("createdBy", optional(Text)),
    ]


class SegmentationScheduleList(_Model):
    _type_info = [("schedule", repeated(SegmentationSchedule))]


# ---------------------------------------------------------- GetCustomerSegment
class CustomerSegment(_Model):
    _type_info = [
        ("customerId", required(CustomerId)),
        ("runId", required(RunId)),
        ("method", required(SegmentationMethod)),
        ("segmentCode", required(SegmentCode)),
        ("segmentName", required(Text)),
        ("assignedAt", required(DateTime)),
        ("score", optional(Double)),
        ("reason", optional(Text)),
    ]


class CustomerSegmentList(_Model):
    _type_info = [("assignment", repeated(CustomerSegment))]


# ---------------------------------------------------------- ScoreCustomerValue
ChurnRisk = Unicode(values=["Low", "Medium", "High"], type_name="ChurnRisk")


class CustomerValueScore(_Model):
    _type_info = [
        ("customerId", required(CustomerId)),
        ("transactionCount", required(Integer32)),
        ("firstPurchaseDate", optional(Date)),
        ("lastPurchaseDate", optional(Date)),
        ("recencyDays", optional(Integer32)),
        ("totalRevenue", required(Double)),
        ("totalMargin", required(Double)),
        ("averageOrderValue", required(Double)),
        ("monthlyRevenue", required(Double)),
        ("rfmScore", optional(RfmScore)),
        ("rfmSegment", optional(Text)),
        ("predictedClv", optional(Double)),
        ("valueTier", optional(Text)),
        ("probabilityAlive", optional(Share)),
        ("expectedPurchases", optional(Double)),
        ("acquisitionCost", optional(Double)),
        # 1.5
        ("churnRisk", optional(ChurnRisk)),
        ("expectedPurchasesLow", optional(Integer32)),
        ("expectedPurchasesHigh", optional(Integer32)),
        ("predictedClvLow", optional(Double)),
        ("predictedClvHigh", optional(Double)),
        ("expectedDaysToNextPurchase", optional(Double)),
    ]


class CustomerValueScoreList(_Model):
    _type_info = [("score", repeated(CustomerValueScore))]


# ---------------------------------------------------------- ListSegmentMembers
class SegmentMember(_Model):
    _type_info = [
        ("customerId", required(CustomerId)),
        ("name", required(Text)),
        ("value", optional(Double)),
        ("score", optional(Double)),
    ]


class SegmentMemberList(_Model):
    _type_info = [("member", repeated(SegmentMember))]


# ----------------------------------------------------- CompareSegmentationRuns
class Transition(_Model):
    _type_info = [
        ("fromSegmentCode", required(SegmentCode)),
        ("toSegmentCode", required(SegmentCode)),
        ("customerCount", required(Integer32)),
        ("valueBefore", required(Double)),
        ("valueAfter", required(Double)),
    ]


class TransitionList(_Model):
    _type_info = [("transition", repeated(Transition))]


# --------------------------------------------------------- ListSegmentMovers (1.5)
MoveDirection = Unicode(values=["Up", "Down"], type_name="MoveDirection")


class Mover(_Model):
    """1.5"""

    _type_info = [
        ("customerId", required(CustomerId)),
        ("name", required(Text)),
        ("fromSegmentCode", optional(SegmentCode)),
        ("toSegmentCode", optional(SegmentCode)),
        ("valueBefore", optional(Double)),
        ("valueAfter", optional(Double)),
    ]


class MoverList(_Model):
    _type_info = [("mover", repeated(Mover))]


# -------------------------------------------------------- GetSegmentInsights (1.5)
class Differentiator(_Model):
    """1.5"""

    _type_info = [
        ("feature", required(Text)),
        ("segmentValue", required(Double)),
        ("baselineValue", required(Double)),
        ("lift", required(Double)),
        ("pValue", required(Double)),
    ]


class DifferentiatorList(_Model):
    _type_info = [("differentiator", repeated(Differentiator, max_occurs=20))]


class Overlap(_Model):
    """1.5"""

    _type_info = [
        ("method", required(SegmentationMethod)),
        ("runId", required(RunId)),
        ("segmentCode", required(SegmentCode)),
        ("segmentName", required(Text)),
        ("sharedCustomers", required(Integer32)),
        ("shareOfThisSegment", required(Double)),
        ("jaccard", required(Double)),
    ]


class OverlapList(_Model):
    _type_info = [("overlap", repeated(Overlap))]


# ------------------------------------------------------------ portfolios (1.4)
class PortfolioCell(_Model):
    _type_info = [
        ("rowSegmentCode", optional(SegmentCode)),
        ("rowSegmentName", optional(Text)),
        ("columnSegmentCode", optional(SegmentCode)),
        ("columnSegmentName", optional(Text)),
        ("customers", required(Integer32)),
        ("revenue", required(Double)),
        ("cost", required(Double)),
        ("profit", required(Double)),
        ("acquisitionCost", required(Double)),
        ("predictedClvTotal", optional(Double)),
        ("predictedClvAverage", optional(Double)),
        ("probabilityAliveAverage", optional(Double)),
        ("customerEquity", required(Double)),
        ("equityShare", optional(Double)),
        ("equityChange", optional(Double)),
        ("owner", optional(Text)),
        ("treatment", optional(Treatment)),
    ]


class PortfolioCellList(_Model):
    _type_info = [("cell", repeated(PortfolioCell))]


class PortfolioEvaluation(_Model):
    _type_info = [
        ("evaluationId", required(Long)),
        ("evaluatedAt", required(DateTime)),
        ("rowsRunId", required(RunId)),
        ("columnsRunId", required(RunId)),
        ("valueRunId", optional(RunId)),
        ("customerEquity", required(Double)),
        ("cells", required(PortfolioCellList)),
        ("rowTotals", required(PortfolioCellList)),
        ("columnTotals", required(PortfolioCellList)),
        ("outside", required(PortfolioCell)),
    ]


class PortfolioEvaluationList(_Model):
    _type_info = [("evaluation", repeated(PortfolioEvaluation))]


class Portfolio(_Model):
    _type_info = [
        ("portfolioId", required(PortfolioId)),
        ("name", required(ShortText)),
        ("rows", required(SegmentationMethod)),
        ("columns", required(SegmentationMethod)),
        ("owner", optional(Text)),
        ("objective", optional(Text)),
        ("createdBy", optional(Text)),
        ("createdAt", required(DateTime)),
        ("evaluation", optional(PortfolioEvaluation)),
    ]


class PortfolioList(_Model):
    _type_info = [("portfolio", repeated(Portfolio))]


class PortfolioCellOwner(_Model):
    _type_info = [
        ("portfolioId", required(PortfolioId)),
        ("rowSegmentName", required(Text)),
        ("columnSegmentName", required(Text)),
        ("owner", required(Text)),
    ]


class PortfolioCellTreatment(_Model):
    _type_info = [
        ("portfolioId", required(PortfolioId)),
        ("rowSegmentName", required(Text)),
        ("columnSegmentName", required(Text)),
        ("treatment", required(Treatment)),
    ]
