"""Read a what-if request body as JSON, and its schema for the OpenAPI document.

Every problem is a 4xx with a message: wrong content type (415), malformed or deeply
nested JSON (400); the change it holds is checked by
:func:`~geo_service.data.scenario_change.parse_scenario` (400).
"""

from __future__ import annotations

import json
import math

from geo_service.data.scenario_change import MAX_SITES
from geo_service.errors import InvalidQuery, UnsupportedMediaType

JSON_TYPES = ("application/json", "application/geo+json")

_POSITION = {
    "type": "array",
    "minItems": 2,
    "maxItems": 2,
    "items": {"type": "number", "minimum": -180, "maximum": 180},
}
_POINT = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {"type": {"type": "string", "enum": ["Point"]}, "coordinates": _POSITION},
}
_POLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["Polygon"]},
        "coordinates": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "array", "minItems": 4, "items": _POSITION},
        },
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "properties": {
            "type": "object",
            "description": "What the proposed centre offers: its level and services (keys of "
            "the district's vocabularies); they decide the life-circle types it serves.",
            "properties": {
                "level": {"type": "string"},
                "services": {"type": "array", "items": {"type": "string"}},
            },
        },
        "geometry": {"oneOf": [_POINT, _POLYGON]},
    },
}
#: The what-if body, for the OpenAPI document (the route checks more: valid geometry).
SCENARIO_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "add": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "maxItems": MAX_SITES, "items": _FEATURE},
            },
        },
        "remove": {"type": "array", "items": {"type": "string"}},
    },
}

#: A scenario to save: a name and the change.
SAVED_SCENARIO_SCHEMA = {
    **SCENARIO_SCHEMA,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        **SCENARIO_SCHEMA["properties"],
    },
}


def json_body(schema: dict) -> dict:
    """The OpenAPI ``requestBody`` of a route that reads JSON or GeoJSON of ``schema``."""
    content = {"schema": schema}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": content, "application/geo+json": content},
        }
    }


def parse_json(body: bytes, content_type: str) -> object:
    """The JSON document of a request body."""
    if content_type.split(";")[0].strip().lower() not in JSON_TYPES:
        raise UnsupportedMediaType(f"send {' or '.join(JSON_TYPES)}, not {content_type!r}")
    try:
        return json.loads(
            body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except RecursionError:
        raise InvalidQuery("the JSON is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidQuery(f"the body is not valid JSON: {exc}") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value
