"""The API description as OpenAPI 3.0 (what GDAL, QGIS and most tools read).

FastAPI writes OpenAPI 3.1; this rewrites the few 3.1-only constructs it uses
(``anyOf`` with ``null`` — ``nullable``, and ``null`` in a nullable ``enum`` —,
``examples`` lists, numeric ``exclusiveMinimum``, ``const``).
Every ``$ref`` stays inside the document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

OPENAPI_VERSION = "3.0.3"


def _downgrade(node: Any) -> Any:
    if isinstance(node, list):
        return [_downgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _downgrade(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del node[key]
            if len(rest) == 1:
                node.update(rest[0])
            else:
                node[key] = rest
            node["nullable"] = True
    if isinstance(node.get("examples"), list) and "paths" not in node:
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), (int, float)) and not isinstance(node.get(bound), bool):
            node[flag] = node.pop(bound)
            node[bound] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]  # OpenAPI 3.0.3: a nullable enum lists null
    return node


def openapi_30(app: FastAPI) -> dict:
    """The app's OpenAPI document in version 3.0, built once."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        document = _downgrade(document)
        document["openapi"] = OPENAPI_VERSION
        items = document["paths"].get("/collections/{collectionId}/items", {}).get("get", {})
        for parameter in items.get("parameters", []):
            if parameter["name"] == "limit":  # the configured maximum, for GDAL and QGIS
                parameter["schema"]["maximum"] = app.state.settings.max_items
        app.openapi_schema = document
    return app.openapi_schema
