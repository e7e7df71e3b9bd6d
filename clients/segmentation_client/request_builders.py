"""Keyword arguments for each operation, shaped like the XSD request elements.

zeep takes nested dicts for complex types. Optional elements whose value was
not given are left out of the dict, so zeep does not send them at all (the
service would reject an empty `needsBased`, `behavioural` or `groupBy` element).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

SEGMENTATION_METHODS = ("APriori", "NeedsBased", "ValueBased", "Behavioural")
VALUE_METRICS = ("Revenue", "Margin", "Rfm", "Clv")
# Contract 1.4: a behavioural run's feature families (XSD BehaviourFeature).
BEHAVIOUR_FEATURES = (
    "ChannelMix",
    "CategoryMix",
    "Frequency",
    "Basket",
    "Returns",
    "Interval",
    "Tenure",
    "Recency",
)
RUN_STATUSES = ("Queued", "Running", "Completed", "Failed", "Cancelled")
# ListSegmentMovers' direction (contract 1.5): to a better (Up) or a worse (Down) value tier.
MOVE_DIRECTIONS = ("Up", "Down")
# Contract 1.4: the strategies of a treatment (XSD Strategy).
STRATEGIES = ("Retain", "Develop", "WinBack", "Acquire", "ReduceCostToServe", "Maintain")
CUSTOMER_ATTRIBUTES = (
    "customerType",
    "industry",
    "companySize",
    "region",
    "ageBand",
    "preferredChannel",
)
RULE_KEYS = ("segmentCode", "segmentName", "conditions")
CONDITION_KEYS = ("attribute", "operator", "values")

RULES_FILE_FORMAT = """\
A rules file is UTF-8 JSON: a list of rules, tried in order (the first whose
conditions all hold assigns its segment), e.g.
  [{"segmentCode": "LARGE", "segmentName": "Large companies",
    "conditions": [{"attribute": "employeeCount", "operator": "GreaterOrEqual",
                    "values": [250]}]},
   {"segmentCode": "B2B", "segmentName": "Other businesses",
    "conditions": [{"attribute": "customerType", "operator": "In",
                    "values": ["B2B", "Public"]}]}]
A value is a string or a number; "values" may be left out for IsMissing.
Attributes: customerType industry employeeCount annualRevenue region country
birthYear preferredChannel signupDate acquisitionCost annualCostToServe
companySize ageBand. Operators: Equals NotEquals In NotIn GreaterThan
GreaterOrEqual LessThan LessOrEqual Between IsMissing."""


class RequestFileError(ValueError):
    """A rules file or band list that cannot become a request; the message says where."""


def split_comma_separated(values: Iterable[str] | None) -> list[str]:
    """Flatten ["a,b", "c"] into ["a", "b", "c"], dropping blanks."""
    items: list[str] = []
    for value in values or ():
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return items


def _without_missing(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


# ------------------------------------------------------------------ bands


def parse_bands(text: str) -> list[dict[str, Any]]:
    """Bands like "Micro:10,Small:50,Large": name and exclusive upperBound, the last without.

    Band names may not contain ":" or ","; the service checks that bounds increase.
    """
    parts = [part.strip() for part in text.split(",")]
    if len(parts) < 2 or any(not part for part in parts):
        raise RequestFileError(
            f"{text!r}: give at least two comma-separated bands, e.g. Small:50,Large"
        )
    bands: list[dict[str, Any]] = []
    for position, part in enumerate(parts, start=1):
        name, colon, bound = (piece.strip() for piece in part.partition(":"))
        last = position == len(parts)
        if not name:
            raise RequestFileError(f"band {position} ({part!r}) has no name")
        if last:
            if colon:
                raise RequestFileError(
                    f"the last band ({part!r}) takes everything above: give it no upper bound"
                )
            bands.append({"name": name})
            continue
        try:
            upper_bound = float(bound)
        except ValueError:
            raise RequestFileError(
                f"band {position} ({part!r}) needs name:upperBound with a number as bound"
            ) from None
        bands.append({"name": name, "upperBound": upper_bound})
    return bands


# ------------------------------------------------------------------ rules


@dataclass(frozen=True)
class _Where:
    source: str

    def error(self, where: str, problem: str) -> RequestFileError:
        return RequestFileError(f"{self.source}: {where}: {problem}")


def _text_field(where: _Where, record: dict[str, Any], key: str, position: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise where.error(position, f'"{key}" must be a non-empty string')
    return value


def _check_keys(where: _Where, record: Any, allowed: Sequence[str], position: str) -> None:
    if not isinstance(record, dict):
        raise where.error(position, f"must be an object with {', '.join(allowed)}")
    unknown = sorted(set(record) - set(allowed))
    if unknown:
        raise where.error(
            position, f"unknown key {', '.join(map(repr, unknown))} (allowed: {', '.join(allowed)})"
        )


def _condition_value(where: _Where, value: Any, position: str) -> str:
    # bool is an int in Python; true/false is no value the service would understand.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise where.error(position, f"a value must be a string or a number, not {value!r}")
    return value if isinstance(value, str) else str(value)


def _condition(where: _Where, record: Any, position: str) -> dict[str, Any]:
    _check_keys(where, record, CONDITION_KEYS, position)
    condition: dict[str, Any] = {
        "attribute": _text_field(where, record, "attribute", position),
        "operator": _text_field(where, record, "operator", position),
    }
    values = record.get("values")
    if values is None:
        return condition
    if not isinstance(values, list):
        raise where.error(position, '"values" must be a list')
    if values:
        condition["values"] = {
            "value": [
                _condition_value(where, value, f"{position}, value {index}")
                for index, value in enumerate(values, start=1)
            ]
        }
    return condition


def rules_from_json(document: Any, source: str = "rules") -> dict[str, Any]:
    """A parsed rules file as the XSD RuleList: {"rule": [{..., "conditions": {...}}]}."""
    where = _Where(source)
    if not isinstance(document, list) or not document:
        raise RequestFileError(f"{source}: must be a non-empty JSON list of rules")
    rules: list[dict[str, Any]] = []
    for number, record in enumerate(document, start=1):
        position = f"rule {number}"
        _check_keys(where, record, RULE_KEYS, position)
        conditions = record.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            raise where.error(position, '"conditions" must be a non-empty list')
        rules.append(
            {
                "segmentCode": _text_field(where, record, "segmentCode", position),
                "segmentName": _text_field(where, record, "segmentName", position),
                "conditions": {
                    "condition": [
                        _condition(where, condition, f"{position}, condition {index}")
                        for index, condition in enumerate(conditions, start=1)
                    ]
                },
            }
        )
    return {"rule": rules}


def load_rules_file(path: str | Path) -> dict[str, Any]:
    """Read and check a rules file (see RULES_FILE_FORMAT)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise RequestFileError(f"{path}: cannot read: {reason}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestFileError(
            f"{path}: not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    return rules_from_json(document, str(path))


# --------------------------------------------------------------- requests


def segment_customers_request(
    method: str,
    *,
    label: str | None = None,
    customer_ids: Sequence[str] = (),
    group_by: Sequence[str] = (),
    rules: dict[str, Any] | None = None,
    default_segment_code: str | None = None,
    company_size_bands: Sequence[dict[str, Any]] | None = None,
    age_bands: Sequence[dict[str, Any]] | None = None,
    minimum_segment_size: int | None = None,
    segment_count: int | None = None,
    random_seed: int | None = None,
    min_answered_share: float | None = None,
    centre_respondents: bool | None = None,
    pca_components: int | None = None,
    value_metric: str | None = None,
    tier_count: int | None = None,
    as_of_date: date | None = None,
    horizon_months: int | None = None,
    discount_rate: float | None = None,
    features: Sequence[str] = (),
    lookback_months: int | None = None,
) -> dict[str, Any]:
    """SegmentCustomers: only the parameter block of `method`, and only if it has content.

    The elements of each block are in XSD sequence order. segment_count, random_seed and
    as_of_date go to whichever of needsBased, valueBased and behavioural `method` names.
    """
    request: dict[str, Any] = {"method": method}
    if label is not None:
        request["label"] = label
    if customer_ids:
        request["customerIds"] = {"customerId": list(customer_ids)}
    block: dict[str, Any] = {}
    if method == "APriori":
        block = _without_missing(
            {
                "groupBy": {"attribute": list(group_by)} if group_by else None,
                "rules": rules,
                "defaultSegmentCode": default_segment_code,
                "companySizeBands": {"band": list(company_size_bands)}
                if company_size_bands
                else None,
                "ageBands": {"band": list(age_bands)} if age_bands else None,
                "minimumSegmentSize": minimum_segment_size,
            }
        )
        name = "aPriori"
    elif method == "NeedsBased":
        block = _without_missing(
            {
                "segmentCount": segment_count,
                "randomSeed": random_seed,
                "minAnsweredShare": min_answered_share,
                "centreRespondents": centre_respondents,
                "pcaComponents": pca_components,
            }
        )
        name = "needsBased"
    elif method == "ValueBased":
        block = _without_missing(
            {
                "valueMetric": value_metric,
                "tierCount": tier_count,
                "asOfDate": as_of_date,
                "horizonMonths": horizon_months,
                "annualDiscountRate": discount_rate,
            }
        )
        name = "valueBased"
    elif method == "Behavioural":
        block = _without_missing(
            {
                # Each family once, in the order given (the service refuses repeats).
                "features": {"feature": list(dict.fromkeys(features))} if features else None,
                "segmentCount": segment_count,
                "randomSeed": random_seed,
                "asOfDate": as_of_date,
                "lookbackMonths": lookback_months,
            }
        )
        name = "behavioural"
    if block:
        request[name] = block
    return request


def get_customer_segment_request(
    customer_id: str, *, method: str | None = None, run_id: int | None = None
) -> dict[str, Any]:
    return _without_missing({"customerId": customer_id, "method": method, "runId": run_id})


def score_customer_value_request(
    customer_ids: Sequence[str],
    *,
    horizon_months: int | None = None,
    discount_rate: float | None = None,
    as_of_date: date | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"customerIds": {"customerId": list(customer_ids)}}
    request.update(
        _without_missing(
            {
                "horizonMonths": horizon_months,
                "annualDiscountRate": discount_rate,
                "asOfDate": as_of_date,
            }
        )
    )
    return request


def list_segment_members_request(
    segment_code: str,
    *,
    run_id: int | None = None,
    method: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    return _without_missing(
        {
            "segmentCode": segment_code,
            "runId": run_id,
            "method": method,
            "pageSize": page_size,
            "pageToken": page_token,
        }
    )


def get_segmentation_run_request(run_id: int) -> dict[str, Any]:
    return {"runId": run_id}


def list_segmentation_runs_request(
    *,
    method: str | None = None,
    limit: int | None = None,
    before: int | None = None,
    statuses: Sequence[str] = (),
) -> dict[str, Any]:
    """No statuses: the service lists Running, Completed and Failed runs (contract 1.3)."""
    request = _without_missing({"method": method, "limit": limit, "before": before})
    if statuses:
        # Each status once, in the order given.
        request["statuses"] = {"status": list(dict.fromkeys(statuses))}
    return request


def compare_segmentation_runs_request(from_run_id: int, to_run_id: int) -> dict[str, Any]:
    return {"fromRunId": from_run_id, "toRunId": to_run_id}


def list_segment_movers_request(
    from_run_id: int,
    to_run_id: int,
    *,
    from_segment_code: str | None = None,
    to_segment_code: str | None = None,
    direction: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """ListSegmentMovers (contract 1.5); direction is one of MOVE_DIRECTIONS."""
    return _without_missing(
        {
            "fromRunId": from_run_id,
            "toRunId": to_run_id,
            "fromSegmentCode": from_segment_code,
            "toSegmentCode": to_segment_code,
            "direction": direction,
            "pageSize": page_size,
            "pageToken": page_token,
        }
    )


def get_segment_insights_request(
    run_id: int, segment_code: str, *, baseline: str | None = None
) -> dict[str, Any]:
    """GetSegmentInsights (contract 1.5); without a baseline, all the run's assigned
    customers (the segment included)."""
    return _without_missing({"runId": run_id, "segmentCode": segment_code, "baseline": baseline})


def set_segment_owner_request(run_id: int, segment_code: str, owner: str) -> dict[str, Any]:
    return {"runId": run_id, "segmentCode": segment_code, "owner": owner}


# ------------------------------------------------------- background runs (1.3)


def submit_segmentation_request(
    segment_request: dict[str, Any], idempotency_key: str | None = None
) -> dict[str, Any]:
    """SubmitSegmentation: SegmentCustomers' request and idempotencyKey.

    zeep sends the elements in XSD order whatever the dict's: contract 1.4 put
    `behavioural` after idempotencyKey.
    """
    return _without_missing({**segment_request, "idempotencyKey": idempotency_key})


def cancel_segmentation_run_request(run_id: int) -> dict[str, Any]:
    return {"runId": run_id}


def create_segmentation_schedule_request(
    name: str, cron: str, segment_request: dict[str, Any], *, enabled: bool | None = None
) -> dict[str, Any]:
    """`enabled` is sent only when given: the service enables a new schedule by default."""
    return _without_missing(
        {"name": name, "cron": cron, "request": segment_request, "enabled": enabled}
    )


def list_segmentation_schedules_request() -> dict[str, Any]:
    return {}


def delete_segmentation_schedule_request(schedule_id: int) -> dict[str, Any]:
    return {"scheduleId": schedule_id}


# ------------------------------------------------- portfolios and treatments (1.4)


def set_segment_treatment_request(
    run_id: int,
    segment_code: str,
    strategy: str,
    *,
    channel: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """Channel and message left out: the service keeps the recommendation's."""
    return _without_missing(
        {
            "runId": run_id,
            "segmentCode": segment_code,
            "strategy": strategy,
            "channel": channel,
            "message": message,
        }
    )


def create_portfolio_request(
    name: str,
    rows: str,
    columns: str,
    *,
    owner: str | None = None,
    objective: str | None = None,
) -> dict[str, Any]:
    return _without_missing(
        {"name": name, "rows": rows, "columns": columns, "owner": owner, "objective": objective}
    )


def portfolio_id_request(portfolio_id: int) -> dict[str, Any]:
    """GetPortfolio, GetPortfolioHistory and DeletePortfolio."""
    return {"portfolioId": portfolio_id}


def list_portfolios_request() -> dict[str, Any]:
    return {}


def set_portfolio_cell_owner_request(
    portfolio_id: int, row_segment_code: str, column_segment_code: str, owner: str
) -> dict[str, Any]:
    return {
        "portfolioId": portfolio_id,
        "rowSegmentCode": row_segment_code,
        "columnSegmentCode": column_segment_code,
        "owner": owner,
    }


def set_portfolio_cell_treatment_request(
    portfolio_id: int,
    row_segment_code: str,
    column_segment_code: str,
    strategy: str,
    *,
    channel: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """Channel and message left out: the service keeps the recommendation's."""
    return _without_missing(
        {
            "portfolioId": portfolio_id,
            "rowSegmentCode": row_segment_code,
            "columnSegmentCode": column_segment_code,
            "strategy": strategy,
            "channel": channel,
            "message": message,
        }
    )
