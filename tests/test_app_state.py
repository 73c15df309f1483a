"""``app.state`` has the declared shape (geo_service.api.state.ServiceState): what
``create_app`` sets is exactly what is declared, of the declared types, and stays so after
the coverage is recomputed."""

from __future__ import annotations

import types
import typing

from geo_service.api.app import create_app
from geo_service.api.state import ServiceState
from geo_service.settings import Settings


def _check_shape(state) -> None:
    hints = typing.get_type_hints(ServiceState)
    declared = {name: hints[name] for name in ServiceState.__annotations__}
    assert type(state) is ServiceState
    assert set(state._state) == set(declared)
    for name, kind in declared.items():
        kinds = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
        kinds = tuple(typing.get_origin(k) or k for k in kinds)
        assert isinstance(getattr(state, name), kinds), name


def test_create_app_sets_exactly_the_declared_state(tmp_path, seeded_derived):
    derived = seeded_derived(tmp_path / "derived")
    app = create_app(Settings(derived_dir=derived, state_dir=tmp_path / "state"))
    try:
        _check_shape(app.state)
        assert app.state.coverage is not None  # the demo has coverage
        app.state.refresh._compute()  # recompute as after an edit: replaced, same shape
        _check_shape(app.state)
    finally:
        app.state.refresh.close()
        app.state.compute.close()
