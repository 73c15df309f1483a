"""Statistics tables as JSON-ready records."""

from __future__ import annotations

import numpy as np
import pandas as pd


def records(stats: pd.DataFrame) -> list[dict]:
    """One dict per row of ``stats`` (its index as a column), NaN as None."""
    frame = stats.reset_index()
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]
