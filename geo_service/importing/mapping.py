"""Column mapping and value conversion for imported files.

A mapping says which source column becomes which layer property, the types to convert
to, defaults for empty cells, the coordinate columns and the CRS, e.g. (YAML)::

    columns: {名称: name_zh, 级别: level, 容量: capacity}
    types: {capacity: integer}
    defaults: {level: community}
    x: 经度
    y: 纬度
    crs: gcj02

Values convert to the catalog types (``string``, ``integer``, ``number``, ``boolean``);
a value that will not convert becomes a per-row reason, never an exception. Lists joined
by ";" stay strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from geo_service.data.catalog import PropertyType
from geo_service.data.values import is_blank
from geo_service.data.yaml_text import load_yaml
from geo_service.errors import ImportFailed
from geo_service.importing.reasons import RowReasons

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "有"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "无"})
#: Thousands separators as spreadsheets write them: 1,200 or 12,345.5
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class ColumnMapping(BaseModel):
    """How a file's columns become a layer's properties (all keys optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, str] = Field(default_factory=dict, description="Source column → property.")
    types: dict[str, PropertyType] = Field(
        default_factory=dict, description="Property → type to convert to (after renaming)."
    )
    defaults: dict[str, StrictBool | StrictInt | StrictFloat | StrictStr] = Field(
        default_factory=dict, description="Property → value for missing columns and empty cells."
    )
    x: str | None = Field(default=None, description="Source column of longitude / easting.")
    y: str | None = Field(default=None, description="Source column of latitude / northing.")
    crs: str | None = Field(default=None, description="CRS of the coordinates (see crs option).")
    encoding: str | None = Field(default=None, description="Text encoding of CSV or DBF.")
    layer: str | None = Field(default=None, description="Layer or sheet to read.")


def load_mapping(mapping: Path | str | Mapping[str, Any] | ColumnMapping | None) -> ColumnMapping:
    """The mapping from a YAML file, a dict, or nothing (an empty mapping).

    Raises :class:`ImportFailed` naming the file and field when it is malformed.
    """
    if mapping is None:
        return ColumnMapping()
    if isinstance(mapping, ColumnMapping):
        return mapping
    origin = "column mapping"
    if isinstance(mapping, str | Path):
        origin = str(mapping)
        try:
            mapping = load_yaml(Path(mapping).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ImportFailed(f"{origin}: cannot read the column mapping: {exc}") from exc
        if mapping is None:
            return ColumnMapping()
    if not isinstance(mapping, Mapping):
        raise ImportFailed(f"{origin}: expected a mapping of keys, got {type(mapping).__name__}")
    try:
        return ColumnMapping.model_validate(dict(mapping))
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(map(str, err['loc']))}': {err['msg']}" for err in exc.errors()
        )
        raise ImportFailed(f"{origin}: {problems}") from None


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{value!r} is a yes/no value, not a number")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
    else:
        text = str(value).strip()
        if _GROUPED.match(text):
            text = text.replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = _to_string(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a yes/no value (true/false, yes/no, 1/0, 是/否)")


def convert_value(value: Any, type_: PropertyType) -> Any:
    """``value`` as a Python value of the catalog type ``type_`` (None when blank).

    Raises ``ValueError`` with a reason a person can act on when it will not convert.
    """
    if isinstance(value, str):  # the common case (CSV, XLSX), kept quick
        value = value.strip()
        if not value:
            return None
        if type_ == "string":
            return value
        if type_ == "integer" and value.isascii() and value.lstrip("+-").isdigit():
            return int(value)
    elif is_blank(value):
        return None
    if type_ == "string":
        return _to_string(value)
    if type_ == "boolean":
        return _to_boolean(value)
    number = _to_number(value)
    if type_ == "integer":
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueError(f"{value!r} is not a whole number")
            return int(number)
        return number
    return float(number)


def convert_column(
    series: pd.Series, type_: PropertyType, reasons: RowReasons, *, field: str
) -> pd.Series:
    """``series`` converted value by value (object dtype, None for blanks and failures);
    each failure is recorded in ``reasons`` under the row (the series index)."""
    converted = []
    for row, value in series.items():
        try:
            converted.append(convert_value(value, type_))
        except ValueError as exc:
            reasons.add_rows([row], field, "type", f"expected {type_}: {exc}")
            converted.append(None)
    return pd.Series(converted, index=series.index, dtype=object, name=series.name)


def apply_mapping(
    frame: pd.DataFrame, mapping: ColumnMapping, reasons: RowReasons, *, source: str
) -> pd.DataFrame:
    """``frame`` with columns renamed, defaults filled and types converted by ``mapping``.

    Raises :class:`ImportFailed` when the mapping names a column the file does not have or
    two columns would get the same name.
    """
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    present = [c for c in frame.columns if c != geometry]
    unknown = sorted(set(mapping.columns) - set(present))
    if unknown:
        raise ImportFailed(
            f"{source}: the column mapping names column(s) {', '.join(unknown)} that the file "
            f"does not have; it has: {', '.join(map(str, present))}"
        )
    renamed = [mapping.columns.get(c, c) for c in present]
    repeated = sorted({n for n in renamed if renamed.count(n) > 1})
    if repeated:
        raise ImportFailed(
            f"{source}: more than one column would become {', '.join(repeated)}; map or "
            "rename one of them"
        )
    frame = frame.rename(columns=mapping.columns)
    for name, default in mapping.defaults.items():
        if name not in frame.columns:
            frame[name] = [default] * len(frame)
        else:
            blank = frame[name].map(is_blank).astype(bool)
            frame[name] = frame[name].astype(object).where(~blank, default)
    missing = sorted(set(mapping.types) - set(frame.columns))
    if missing:
        raise ImportFailed(
            f"{source}: the column mapping gives types for {', '.join(missing)}, which the "
            "file does not have (after renaming)"
        )
    for name, type_ in mapping.types.items():
        frame[name] = convert_column(frame[name], type_, reasons, field=name)
    return frame
