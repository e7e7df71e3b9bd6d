"""The planted buying style of each customer: how they buy, not what they need."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .customers import CustomerDraw
from .sampling import IntArray, choose_per_group, pick, text
from .vocabulary import B2B_STYLE_SHARES, B2C_STYLE_SHARES, BUYING_STYLES


def draw_styles(rng: np.random.Generator, customers: CustomerDraw) -> tuple[IntArray, pd.Series]:
    """Each customer's style (an index into ``BUYING_STYLES``) and its labels by customer_id."""
    style = choose_per_group(
        rng, [B2C_STYLE_SHARES, B2B_STYLE_SHARES], customers.is_b2b.astype(np.int64)
    )
    truth = pd.Series(
        text(pick([s.label for s in BUYING_STYLES], style)),
        index=pd.Index(text(customers.customer_ids), name="customer_id"),
        name="behaviour_segment",
    )
    return style, truth
