"""Feature texts kept per layer version: encoded once, looked up afterwards.

A layer's texts stay valid for exactly one version of it (a version never changes), so a
new version starts the layer's texts afresh; so does reaching the limit, which bounds the
memory a very large layer may take.
"""

from __future__ import annotations

from collections.abc import Hashable

#: Texts kept per layer (beyond it, the layer's texts start again).
MAX_KEPT_TEXTS = 200_000


class KeptTexts:
    """Texts by feature key, per layer, for the layer's latest version seen."""

    def __init__(self, limit: int = MAX_KEPT_TEXTS):
        self.limit = limit
        self._layers: dict[str, tuple[str, dict[Hashable, bytes]]] = {}

    def of(self, layer_id: str, version: str) -> dict[Hashable, bytes]:
        """The texts kept for ``version`` of the layer, to read and add to: an empty dict
        when the version is new or the layer's texts reached the limit."""
        kept_version, texts = self._layers.get(layer_id, (None, {}))
        if kept_version != version or len(texts) > self.limit:
            texts = {}
            self._layers[layer_id] = (version, texts)
        return texts

    def get(self, layer_id: str, version: str, keys: list[Hashable]) -> list[bytes] | None:
        """The texts of ``keys`` if every one is kept for ``version``, else None."""
        kept_version, texts = self._layers.get(layer_id, (None, {}))
        if kept_version != version:
            return None
        try:
            return [texts[key] for key in keys]
        except KeyError:
            return None
