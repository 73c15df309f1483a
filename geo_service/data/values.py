"""Cell values: what counts as missing, and how any of them goes into JSON."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def json_plain(value: object) -> object:
    """``json.dumps`` ``default=``: NumPy scalars as Python numbers, anything else as text."""
    return value.item() if hasattr(value, "item") else str(value)


def is_blank(value: Any) -> bool:
    """Whether ``value`` is missing: None, NaN, NA or text that is empty or only spaces."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
