from __future__ import annotations

from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.domain.values import Actor
from orgledger.projections.log import reader as eventlog
from orgledger.projections.log import export

ACTOR = Actor(user_id="admin")


def fill(runtime: Runtime, orgs: int, first: int = 0) -> None:
    for i in range(first, first + orgs):
        runtime.ledger.create_org(CreateOrg(actor=ACTOR, organization_alias=f"o{i}", organization_id=f"o{i}"))
        runtime.ledger.add_members(AddMembers(actor=ACTOR, organization_id=f"o{i}",
                                              members=[NewMember(role="internal_user", user_id=f"u{i}")]))


def test_stream_reads_page_by_page_up_to_the_head_it_started_at(runtime: Runtime) -> None:
    fill(runtime, 5)  # 20 events
    pages: list[int] = []
    select = runtime.ledger.recorder.select_log

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        page = select(*args, **kwargs)
        pages.append(len(page))
        return page

    runtime.ledger.recorder.select_log = counting  # type: ignore[method-assign]
    streamed = []
    for e in eventlog.stream(runtime.ledger, page_size=3):
        streamed.append(e.position)
        if e.position == 1:
            fill(runtime, 1, first=9)  # written while streaming: after the head the stream started at
    assert streamed == list(range(1, 21))
    assert max(pages) == 3 and len(pages) == 7


def test_verify_rejects_what_is_not_an_export(runtime: Runtime) -> None:
    fill(runtime, 1)
    verdict = export.verify(runtime.ledger, ['{"hello": "world"}'])
    assert not verdict.ok and "not an orgledger audit export" in verdict.message
    verdict = export.verify(runtime.ledger, ["not json"])
    assert not verdict.ok and "line 1 is not JSON" in verdict.message


def test_export_covers_the_log_up_to_its_head(runtime: Runtime) -> None:
    import io

    fill(runtime, 2)
    out = io.StringIO()
    assert export.export(runtime.ledger, out) == 8
    fill(runtime, 1, first=9)  # events after the export are not the file's business
    assert export.verify(runtime.ledger, out.getvalue().splitlines()).ok
    # Cutting the file's tail is a removal.
    cut = out.getvalue().splitlines()[:-1]
    verdict = export.verify(runtime.ledger, cut)
    assert not verdict.ok and verdict.message.startswith("removed: position 8")
