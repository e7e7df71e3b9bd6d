"""The treatment decision table: each strategy from a group crafted for it, and only it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from segmentation_service.domain.model import Strategy
from segmentation_service.engines.treatments import GroupFigures, TreatmentPolicy, recommend

# A group worth the average, half active, nothing else known: the rest (Maintain).
TYPICAL = GroupFigures(
    customers=100,
    profit=5_000.0,
    profit_per_customer_overall=80.0,
    new_share=0.1,
    active_share=0.4,
    channel=("Online", 0.62),
    themes=("price", "speed"),
)
CRAFTED = {
    Strategy.REDUCE_COST_TO_SERVE: replace(TYPICAL, profit=-1_200.0),
    Strategy.ACQUIRE: replace(TYPICAL, new_share=0.7),
    Strategy.WIN_BACK: replace(TYPICAL, profit=20_000.0, active_share=0.8, probability_alive=0.3),
    Strategy.RETAIN: replace(TYPICAL, profit=20_000.0, active_share=0.8, probability_alive=0.9),
    Strategy.DEVELOP: replace(
        TYPICAL,
        active_share=0.7,
        predicted_value_per_customer=90.0,
        past_profit_per_customer_year=40.0,
    ),
    Strategy.MAINTAIN: TYPICAL,
}


@pytest.mark.parametrize("strategy", list(Strategy))
def test_each_strategy_comes_from_the_group_crafted_for_it(strategy: Strategy) -> None:
    got = {wanted: recommend(group).strategy for wanted, group in CRAFTED.items()}

    assert got[strategy] is strategy
    assert list(got.values()).count(strategy) == 1  # and no other crafted group gets it


def test_a_valuable_group_slips_by_moving_down_or_going_quiet() -> None:
    valuable = replace(TYPICAL, profit=20_000.0, active_share=0.8)
    moved = replace(valuable, moved_down_share=0.3)
    quiet = replace(valuable, active_share=0.2)

    assert recommend(valuable).strategy is Strategy.RETAIN
    assert recommend(moved).strategy is Strategy.WIN_BACK
    assert "30% moved to a lower tier" in recommend(moved).reason
    assert recommend(quiet).strategy is Strategy.WIN_BACK


def test_thresholds_are_the_policys() -> None:
    group = replace(TYPICAL, new_share=0.4)
    assert recommend(group).strategy is Strategy.MAINTAIN
    assert recommend(group, TreatmentPolicy(new_share=0.3)).strategy is Strategy.ACQUIRE


def test_channel_message_and_reason_carry_the_figures() -> None:
    treatment = recommend(CRAFTED[Strategy.REDUCE_COST_TO_SERVE])

    assert treatment.channel == "Online"
    assert treatment.message == "serve yourself: price and speed"
    assert treatment.reason == (
        "ReduceCostToServe: the group lost 1,200.00 so far (100 customers; 62% of them use Online)"
    )
    assert not treatment.overridden
