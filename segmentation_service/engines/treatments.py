"""What to do with a group of customers (a segment, a portfolio cell): one decision table.

The table reads a group's figures (``GroupFigures``) and gives the first strategy
whose condition holds (the README has it as a table):

1. ``ReduceCostToServe``: the group loses money (profit < 0);
2. ``Acquire``: most members are new, new share ≥ ``new_share`` (conquest, onboarding);
3. ``WinBack``: valuable, but slipping: mean probability alive < ``slipping_alive``,
   or active share < ``active_share``, or moved-down share ≥ ``moved_down_share``;
4. ``Retain``: valuable and active;
5. ``Develop``: active, and predicted to be worth more than so far: predicted value
   per customer ≥ ``develop_ratio`` × past profit per customer-year (up-sell,
   cross-sell);
6. ``Maintain``: everything else.

"Valuable": profit per member ≥ ``valuable_ratio`` × the profit per customer of
everyone the run (or portfolio) covers. "Active": active share ≥ ``active_share``
(members who bought within ``active_days``, counted by the caller). The channel is
the members' most used (transactions) or preferred (customer record) one, with its
share; the message names the group's dominant themes (needs or behaviours). The
thresholds are settings (``TreatmentPolicy``) with the defaults below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from segmentation_service.domain.model import Strategy, Treatment


@dataclass(frozen=True)
class TreatmentPolicy:
    """The table's thresholds (settings ``treatment_*``). Members are new when they signed
    up within ``new_days`` of the run date, active when they bought within
    ``active_days``."""

    new_days: int = 180
    active_days: int = 180
    new_share: float = 0.5
    active_share: float = 0.5
    slipping_alive: float = 0.5
    moved_down_share: float = 0.25
    valuable_ratio: float = 1.0
    develop_ratio: float = 1.2


@dataclass(frozen=True)
class GroupFigures:
    """What the table reads about a group. Shares are of its members (0..1); ``None``
    where the figure is unknown (no value-based run with a CLV model, no earlier run)."""

    customers: int
    profit: float
    profit_per_customer_overall: float
    new_share: float
    active_share: float
    probability_alive: float | None = None
    predicted_value_per_customer: float | None = None
    past_profit_per_customer_year: float | None = None
    moved_down_share: float | None = None
    channel: tuple[str, float] | None = None  # the most used or preferred, with its share
    themes: Sequence[str] = ()


def recommend(figures: GroupFigures, policy: TreatmentPolicy = TreatmentPolicy()) -> Treatment:
    """The table's strategy for the group, its channel and message, and why."""
    strategy, why = _strategy(figures, policy)
    channel = None if figures.channel is None else figures.channel[0]
    reach = ""
    if figures.channel is not None:
        reach = f"; {figures.channel[1]:.0%} of them use {figures.channel[0]}"
    return Treatment(
        strategy,
        channel,
        _message(strategy, figures.themes),
        f"{strategy.value}: {why} ({figures.customers} customers{reach})",
    )


def _strategy(g: GroupFigures, p: TreatmentPolicy) -> tuple[Strategy, str]:
    per_customer = g.profit / g.customers if g.customers else 0.0
    if g.profit < 0:
        return Strategy.REDUCE_COST_TO_SERVE, f"the group lost {-g.profit:,.2f} so far"
    if g.new_share >= p.new_share:
        return Strategy.ACQUIRE, f"{g.new_share:.0%} of them are new customers"
    valuable = per_customer >= p.valuable_ratio * g.profit_per_customer_overall
    active = g.active_share >= p.active_share
    value_text = (
        f"profit {per_customer:,.2f} a customer against {g.profit_per_customer_overall:,.2f} "
        "overall"
    )
    if valuable:
        slipping = []
        if g.probability_alive is not None and g.probability_alive < p.slipping_alive:
            slipping.append(f"mean probability alive {g.probability_alive:.0%}")
        if not active:
            slipping.append(f"only {g.active_share:.0%} bought recently")
        if g.moved_down_share is not None and g.moved_down_share >= p.moved_down_share:
            slipping.append(f"{g.moved_down_share:.0%} moved to a lower tier")
        if slipping:
            return Strategy.WIN_BACK, f"{value_text}, but " + " and ".join(slipping)
    if valuable and active:
        return Strategy.RETAIN, f"{value_text}, {g.active_share:.0%} bought recently"
    if active and _grows(g, p):
        assert g.predicted_value_per_customer is not None
        return Strategy.DEVELOP, (
            f"{g.active_share:.0%} bought recently and their predicted value "
            f"{g.predicted_value_per_customer:,.2f} a customer exceeds their past yearly "
            f"profit {g.past_profit_per_customer_year or 0.0:,.2f}"
        )
    return Strategy.MAINTAIN, f"{value_text}, {g.active_share:.0%} bought recently"


def _grows(g: GroupFigures, p: TreatmentPolicy) -> bool:
    if g.predicted_value_per_customer is None or g.past_profit_per_customer_year is None:
        return False
    past = max(g.past_profit_per_customer_year, 0.0)
    return g.predicted_value_per_customer >= p.develop_ratio * past and (
        g.predicted_value_per_customer > 0
    )


_MESSAGES = {
    Strategy.RETAIN: "thank and reward",
    Strategy.DEVELOP: "offer more",
    Strategy.WIN_BACK: "we miss you",
    Strategy.ACQUIRE: "welcome",
    Strategy.REDUCE_COST_TO_SERVE: "serve yourself",
    Strategy.MAINTAIN: "stay in touch",
}


def _message(strategy: Strategy, themes: Sequence[str]) -> str:
    """The strategy's tone on the group's themes: "offer more: price and speed"."""
    tone = _MESSAGES[strategy]
    return f"{tone}: {' and '.join(themes)}" if themes else tone
