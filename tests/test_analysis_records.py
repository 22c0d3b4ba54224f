"""model.quick_init: the analysis records' faster __init__ builds what the dataclass one builds."""

from __future__ import annotations

import dataclasses

import pytest

from pmipct_check.analysis.classify import Facts
from pmipct_check.analysis.model import Binding, Exchange, Handover, quick_init


@dataclasses.dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str = "b"
    c: dict[str, int] = dataclasses.field(default_factory=dict)


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class _Quick:
    a: int
    b: str = "b"
    c: dict[str, int] = dataclasses.field(default_factory=dict)


def _same(quick: object, plain: object) -> None:
    assert dataclasses.astuple(quick) == dataclasses.astuple(plain)  # type: ignore[call-overload]


def test_quick_init_matches_the_dataclass_init() -> None:
    _same(_Quick(1), _Plain(1))
    _same(_Quick(1, "x", {"k": 2}), _Plain(1, "x", {"k": 2}))
    _same(_Quick(b="y", a=3), _Plain(b="y", a=3))
    assert _Quick(1).c is not _Quick(1).c  # a fresh default per record
    assert _Quick(1) == _Quick(1)
    assert hash(Exchange(None, None, "mn", "a", "b")) == hash(Exchange(None, None, "mn", "a", "b"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _Quick()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Quick(1, "x", {}, 4)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        _Quick(1).a = 2  # type: ignore[misc]


def test_records_keep_their_defaults_and_stay_frozen() -> None:
    h = Handover(id="H1", mn="mn", case="none", case_reason="", pmag=None, nmag="n", lma=None, messages=())
    assert (h.timings, h.vantage, h.pbu, h.deregs, h.mn_key, h.data_path) == ({}, frozenset(), None, (), "mn-id", ())
    assert h.timings is not Handover(id="H2", mn="mn", case="none", case_reason="", pmag=None, nmag="n", lma=None,
                                     messages=()).timings
    assert dataclasses.replace(h, mn="other").mn == "other"
    for record in (h, Exchange(None, None, "mn", "a", "b"), Binding("mn", "hnp", (), ()),  # type: ignore[arg-type]
                   Facts("none", None, None, None, None, None)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, dataclasses.fields(record)[0].name, "x")
        assert type(record).__init__.__qualname__ == f"{type(record).__qualname__}.__init__"
