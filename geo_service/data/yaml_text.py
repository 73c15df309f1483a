"""YAML read with libyaml's C parser where PyYAML has it (ten times faster than the pure
Python one: the catalog, profile and map definitions are read on every start)."""

from __future__ import annotations

from typing import Any

import yaml

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``text`` parsed as YAML, safely (plain data only), as :func:`yaml.safe_load`."""
    return yaml.load(text, Loader=_SafeLoader)
