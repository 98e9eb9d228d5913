"""Measurement 5: how read latency grows with the number of organizations.

One client, so p99 is the service time without queueing behind other requests."""

from __future__ import annotations

from typing import Any

from . import dataset, loadgen
from .servers import orgledger_server
from .stores import MASTER_KEY, Store, fresh_store, open_runtime

MEMBERS = 4


def info_load(orgs: int) -> loadgen.Load:
    return loadgen.Load("GET", "/organization/info?organization_id=org-{r}", range=orgs)


def filter_load(orgs: int) -> loadgen.Load:
    # The zero-padded number matches exactly one alias; the filter is a substring match.
    return loadgen.Load("GET", "/organization/list?org_alias={p}", range=orgs)


def measure_store(store: Store, orgs: int, seconds: float) -> dict[str, Any]:
    with orgledger_server(store) as server:
        info = loadgen.run(server, info_load(orgs), connections=1, seconds=seconds)
        listing = loadgen.run(server, filter_load(orgs), connections=1, seconds=seconds)
    return {"orgs": orgs, "info": info.as_dict(), "list_filter": listing.as_dict()}


def measure_fresh(backend: str, orgs: int, seconds: float) -> dict[str, Any]:
    with fresh_store(backend) as store:
        runtime = open_runtime(store)
        dataset.generate(runtime.ledger, orgs, MEMBERS, MASTER_KEY)
        # Applied here, in-process, whether or not this backend's server projects inline.
        runtime.projector.catch_up()
        runtime.close()
        return measure_store(store, orgs, seconds)
