"""Per group of customers (a run's segment), the sums its treatment is decided from.

Each partition sums its customers per group (``GroupSums.of``); sums add up across
partitions (``merge``); ``figures`` turns a group's sums into the ``GroupFigures``
the decision table reads (``engines.treatments``), and the group's theme: the needs
segment (of the latest needs-based run) over-represented the most among its members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from segmentation_service.engines.treatments import GroupFigures, TreatmentPolicy

DAYS_PER_YEAR = 365.25
BASE_COLUMNS = (
    "customers",
    "revenue",
    "cost",
    "served_years",
    "new",
    "active",
    "clv_sum",
    "clv_count",
    "alive_sum",
    "alive_count",
    "moved_down",
    "compared",
)
CHANNEL = "channel:"
NEEDS_SEGMENT = "needs:"
# A needs segment is the group's theme when its share among the members is at least this
# many times its share among everyone.
THEME_LIFT = 1.25


@dataclass(frozen=True)
class GroupSums:
    """A frame indexed by group (segment code): ``BASE_COLUMNS``, customers per preferred
    channel (``channel:<name>``) and per need the sum, count and sum of squares of the
    members' answers."""

    frame: pd.DataFrame

    @classmethod
    def of(
        cls,
        groups: pd.Series,
        customers: pd.DataFrame,
        profitability: pd.DataFrame,
        last_purchase: pd.Series,
        as_of: date,
        policy: TreatmentPolicy,
        scores: pd.DataFrame | None = None,
        moved_down: pd.Series | None = None,
        needs_segments: pd.Series | None = None,
    ) -> GroupSums:
        """One partition's sums. ``groups``: each customer's group (None: in no group),
        indexed by customer_id like the other inputs; ``customers`` holds signup_date and
        preferred_channel; ``last_purchase`` a timestamp (NaT: never); ``scores`` optional
        ``predicted_clv`` and ``probability_alive``; ``moved_down`` True/False where the
        customer was in the previous run (NaN otherwise); ``needs_segments`` each
        customer's needs segment name in the latest needs-based run (absent: none)."""
        grouped = groups.dropna()
        ids = grouped.index
        day = pd.Timestamp(as_of)
        signup = pd.to_datetime(customers["signup_date"].reindex(ids))
        last = pd.to_datetime(last_purchase.reindex(ids))
        first = signup.fillna(last)
        served = ((day - first).dt.days / DAYS_PER_YEAR).fillna(0.0).clip(lower=0.0)
        clv = _values(scores, "predicted_clv", ids)
        alive = _values(scores, "probability_alive", ids)
        moved = (
            moved_down.reindex(ids).to_numpy(dtype=float)
            if moved_down is not None
            else np.full(len(ids), np.nan)
        )
        columns: dict[str, object] = {
            "group": grouped.to_numpy(dtype=object),
            "customers": 1,
            "revenue": profitability["revenue"].reindex(ids).fillna(0.0).to_numpy(),
            "cost": profitability["cost"].reindex(ids).fillna(0.0).to_numpy(),
            "served_years": served.to_numpy(),
            "new": ((day - signup).dt.days < policy.new_days).to_numpy(dtype=int),
            "active": ((day - last).dt.days < policy.active_days).to_numpy(dtype=int),
            "clv_sum": np.nan_to_num(clv),
            "clv_count": np.isfinite(clv).astype(int),
            "alive_sum": np.nan_to_num(alive),
            "alive_count": np.isfinite(alive).astype(int),
            "moved_down": np.nan_to_num(moved).astype(int),
            "compared": np.isfinite(moved).astype(int),
        }
        frame = pd.DataFrame(columns, index=ids)
        channels = customers["preferred_channel"].reindex(ids)
        for name in sorted(channels.dropna().unique()):
            frame[f"{CHANNEL}{name}"] = (channels == name).to_numpy(dtype=int)
        if needs_segments is not None:
            segments = needs_segments.reindex(ids)
            for name in sorted(segments.dropna().unique()):
                frame[f"{NEEDS_SEGMENT}{name}"] = (segments == name).to_numpy(dtype=int)
        sums = frame.groupby("group", sort=False).sum(numeric_only=True)
        return cls(sums)

    @classmethod
    def merge(cls, parts: Sequence[GroupSums]) -> GroupSums:
        frames = [part.frame for part in parts if len(part.frame)]
        if not frames:
            return cls(pd.DataFrame(columns=list(BASE_COLUMNS)))
        return cls(pd.concat(frames).fillna(0.0).groupby(level=0, sort=False).sum())

    def figures(self, group: str, themes: Sequence[str] | None = None) -> GroupFigures:
        """The group's figures, against everyone in any group; ``themes`` replaces the
        needs-based themes (e.g. a behavioural segment's own behaviours)."""
        frame = self.frame
        rows = frame.to_dict("index")
        zeros = {str(column): 0.0 for column in frame.columns}
        row = {str(k): float(v) for k, v in rows.get(group, zeros).items()}
        everyone = {str(k): float(v) for k, v in frame.sum().items()}
        customers = int(row["customers"])
        overall = float(everyone["revenue"] - everyone["cost"])
        profit = float(row["revenue"] - row["cost"])
        channels = {c[len(CHANNEL) :]: row[c] for c in row if c.startswith(CHANNEL)}
        channel = None
        if channels and customers:
            name = max(sorted(channels), key=lambda c: channels[c])
            if channels[name] > 0:
                channel = (name, float(channels[name]) / customers)
        served = float(row["served_years"])
        return GroupFigures(
            customers=customers,
            profit=profit,
            profit_per_customer_overall=overall / max(int(everyone["customers"]), 1),
            new_share=float(row["new"]) / customers if customers else 0.0,
            active_share=float(row["active"]) / customers if customers else 0.0,
            probability_alive=_mean(row, "alive_sum", "alive_count"),
            predicted_value_per_customer=_mean(row, "clv_sum", "clv_count"),
            past_profit_per_customer_year=profit / served if served > 0 else None,
            moved_down_share=_mean(row, "moved_down", "compared"),
            channel=channel,
            themes=list(themes) if themes is not None else _themes(row, everyone),
        )


def _themes(row: dict[str, float], everyone: dict[str, float]) -> list[str]:
    """The needs segment whose share among the members is the highest multiple (at least
    THEME_LIFT) of its share among everyone, as a theme ("price & speed")."""
    members = sum(row[c] for c in row if c.startswith(NEEDS_SEGMENT))
    total = sum(everyone[c] for c in everyone if c.startswith(NEEDS_SEGMENT))
    best, best_lift = None, THEME_LIFT
    for column in sorted(row):
        if not column.startswith(NEEDS_SEGMENT) or not members or not everyone[column]:
            continue
        lift = (row[column] / members) / (everyone[column] / total)
        if lift >= best_lift:
            best, best_lift = column[len(NEEDS_SEGMENT) :], lift
    return [] if best is None else [best.lower()]


def _mean(row: dict[str, float], total: str, count: str) -> float | None:
    n = float(row[count])
    return float(row[total]) / n if n else None


def _values(scores: pd.DataFrame | None, name: str, ids: pd.Index) -> np.ndarray:
    if scores is None or name not in scores:
        return np.full(len(ids), np.nan)
    return pd.to_numeric(scores[name].reindex(ids), errors="coerce").to_numpy(dtype=float)
