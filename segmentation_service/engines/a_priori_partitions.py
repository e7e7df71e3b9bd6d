"""A priori runs in partitions: group sizes summed over partitions, then labels per partition.

With rules, a customer's segment depends on that customer alone: partitions need
no summary and the metrics are sums. Without rules, which groups are kept (and
which merge into Other) depends on every group's size over all customers: the
summaries are the group sizes of each partition, a handful of rows whatever the
customer count.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segmentation_service.engines.a_priori import APrioriSegmenter
from segmentation_service.engines.partitions import (
    PartitionInput,
    PartitionOutput,
    RunOutcome,
    SegmentTotals,
    assignment_frame,
)


@dataclass(frozen=True)
class GroupSizes:
    """Customers per group key (empty with rules) of one partition, and its customer count."""

    sizes: Counter[tuple[str, ...]]
    customers: int


@dataclass(frozen=True)
class APrioriPartial:
    totals: SegmentTotals
    metrics: dict[str, float]


class APrioriPartitionPlan:
    """``PartitionPlan`` of an ``APrioriSegmenter``: ``segmenter`` holds the parameters."""

    def __init__(self, segmenter: APrioriSegmenter) -> None:
        self.segmenter = segmenter

    def summarise(self, data: PartitionInput) -> GroupSizes:
        if self.segmenter.rules:
            return GroupSizes(Counter(), len(data.customers))
        group_ids, keys = self.segmenter.group_keys(data.customers)
        counts = np.bincount(group_ids, minlength=len(keys))
        return GroupSizes(Counter(dict(zip(keys, map(int, counts), strict=True))), len(group_ids))

    def combine(self, summaries: Sequence[GroupSizes]) -> GroupSizes:
        sizes: Counter[tuple[str, ...]] = Counter()
        for summary in summaries:
            sizes.update(summary.sizes)
        return GroupSizes(sizes, sum(summary.customers for summary in summaries))

    def fit(self, summaries: Sequence[GroupSizes]) -> APrioriSegmenter:
        """The segmenter with its rules or groups settled; InvalidRuleError for a bad rule."""
        model = copy.deepcopy(self.segmenter)
        if model.rules:
            model.settle_rules(model.parse()[0])
            return model
        merged = self.combine(summaries)
        model.settle_groups(merged.sizes, merged.customers)
        return model

    def refines(self, model: APrioriSegmenter) -> bool:
        return False

    def refine(self, data: PartitionInput, model: APrioriSegmenter) -> None:
        return None  # never asked for: a priori runs need no second pass (refines is False)

    def settle(self, model: APrioriSegmenter, refinements: Sequence[None]) -> APrioriSegmenter:
        return model

    def assign(self, data: PartitionInput, model: APrioriSegmenter) -> PartitionOutput:
        labelled = copy.deepcopy(model)  # labels this partition; the model stays as fitted
        if labelled.rules:
            labelled.label_rules(data.customers, labelled.parse()[1])
            metrics = {k: labelled.metrics_[k] for k in ("apriori.matched", "apriori.defaulted")}
        else:
            labelled.label_groups(*labelled.group_keys(data.customers))
            metrics = {}
        margin = data.features["margin"].to_numpy(dtype=float)
        frame = assignment_frame(
            data.customers.index, labelled.labels_, labelled.scores_, margin, labelled.reasons_
        )
        totals = SegmentTotals.of(labelled.labels_, margin, data.profitability)
        return PartitionOutput(frame, APrioriPartial(totals, metrics))

    def finish(self, model: APrioriSegmenter, partials: Sequence[APrioriPartial]) -> RunOutcome:
        totals = SegmentTotals.merge([partial.totals for partial in partials])
        if model.rules:
            metrics = {"apriori.rules": float(len(model.parsed_rules_))}
            for name in ("apriori.matched", "apriori.defaulted"):
                metrics[name] = float(sum(partial.metrics[name] for partial in partials))
        else:
            metrics = dict(model.metrics_)
        return RunOutcome(totals.segments(model.segments_), metrics)
