"""decode_stream shares equal options, flag words and carrier info between records (memory).

The records must be exactly those decode_carried makes one at a time, warnings included: an
option that warned (here a misaligned HNP) is decoded afresh every time, so each message keeps
its own warning.  Byte strings from test_decode_build (RFC 5213 section 8 figures).
"""

from __future__ import annotations

from test_decode_build import carried, opt_hnp, opt_mn_id_nai, opt_ts, padn, pba, pbu

from pmipct_check.decode import Message, decode_carried, decode_stream


def _stream(datas: list[bytes]) -> tuple[list[Message], list[Message]]:
    items = [carried(d, frame=i + 1, info={"ip_version": 6, "hop_limit": 255}) for i, d in enumerate(datas)]
    streamed = list(decode_stream(items))
    alone = [decode_carried(c) for c in items]
    assert all(isinstance(m, Message) for m in streamed + alone)
    return streamed, alone  # type: ignore[return-value]


def test_stream_records_equal_one_at_a_time_and_share_equal_parts() -> None:
    datas = [pbu(seq=seq) for seq in (1, 2, 3)]
    streamed, alone = _stream(datas)
    for s, a in zip(streamed, alone, strict=True):
        assert s.to_json() == a.to_json() and s.warnings == a.warnings
    first, second = streamed[0], streamed[1]
    assert first.fields["seq"] != second.fields["seq"]
    assert first.fields["flags"] is second.fields["flags"]
    assert first.info == second.info  # equal infos are shared where made: by the capture stage
    mn_id = [o for o in first.fields["options"] if o["key"] == "mn_id"]
    assert mn_id and any(o is mn_id[0] for o in second.fields["options"])


def test_a_different_option_is_not_shared() -> None:
    streamed, alone = _stream([pbu(options=opt_ts(1) + padn(6)), pbu(options=opt_ts(2) + padn(6))])
    assert [s.to_json() for s in streamed] == [a.to_json() for a in alone]
    ts = [next(o for o in m.fields["options"] if o["key"] == "timestamp") for m in streamed]
    assert ts[0] is not ts[1] and ts[0] != ts[1]


def test_an_option_that_warned_warns_in_every_message() -> None:
    misaligned = opt_mn_id_nai() + opt_hnp()  # HNP at MH octet 30, not 8n+4
    streamed, alone = _stream([pbu(seq=1, options=misaligned), pbu(seq=2, options=misaligned)])
    for s, a in zip(streamed, alone, strict=True):
        assert "mh.option-align" in {w.code for w in s.warnings}
        assert s.warnings == a.warnings and s.to_json() == a.to_json()


def test_decode_carried_shares_through_the_callers_memo() -> None:
    memo: dict = {}
    items = [carried(pbu(seq=seq), frame=seq) for seq in (1, 2)]
    first, second = (decode_carried(c, memo=memo) for c in items)
    assert isinstance(first, Message) and isinstance(second, Message)
    assert first.fields["flags"] is second.fields["flags"]
    assert [first.to_json(), second.to_json()] == [decode_carried(c).to_json() for c in items]


def test_an_option_remembered_where_it_belongs_still_warns_elsewhere() -> None:
    """Options are remembered by their octets; one with an alignment rule only where it belongs."""
    aligned = opt_mn_id_nai() + padn(6) + opt_hnp()  # HNP at 8n+4
    misaligned = opt_mn_id_nai() + opt_hnp()  # the same HNP octets at MH octet 30
    streamed, alone = _stream([pbu(seq=1, options=aligned), pbu(seq=2, options=misaligned),
                               pbu(seq=3, options=aligned)])
    assert [s.to_json() for s in streamed] == [a.to_json() for a in alone]
    assert [{w.code for w in s.warnings} for s in streamed] == [set(), {"mh.option-align"}, set()]
    hnps = [next(o for o in s.fields["options"] if o["key"] == "hnp") for s in streamed]
    assert hnps[0] is hnps[2] and hnps[1] == hnps[0]


def test_a_pba_shares_its_pbus_option_list_and_the_lists_kept_are_bounded() -> None:
    """Whole option lists live in a small dict of their own (mh.option_regions), bounded by
    REGION_LIMIT: past it the dict starts afresh, and the records stay those of decode_carried."""
    from pmipct_check.decode import mh as mh_module

    limit = 8
    saved = mh_module.REGION_LIMIT
    mh_module.REGION_LIMIT = limit  # walk_options reads it per call; layouts learnt below are made with it
    try:
        datas = []
        for seq in range(1, 3 * limit):
            options = opt_mn_id_nai() + padn(2) + padn(2) + padn(2) + opt_hnp() + padn(2) + opt_ts(seq)  # aligned
            datas += [pbu(seq=seq, options=options), pba(seq=seq, options=options)]
        items = [carried(d, frame=i + 1, info={"ip_version": 6, "hop_limit": 255}) for i, d in enumerate(datas)]
        memo: dict = {}
        streamed = [decode_carried(c, memo=memo) for c in items]
        alone = [decode_carried(c) for c in items]
        assert [s.to_json() for s in streamed] == [a.to_json() for a in alone]  # type: ignore[union-attr]
        assert not any(s.warnings for s in streamed)  # type: ignore[union-attr]
        for pbu_record, pba_record in zip(streamed[::2], streamed[1::2], strict=True):
            assert pba_record.fields["options"] is pbu_record.fields["options"]  # type: ignore[union-attr]
        assert 0 < len(mh_module.option_regions(memo)) <= limit
    finally:
        mh_module.REGION_LIMIT = saved
