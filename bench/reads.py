"""Measurement 2: reads against their raw limit, a bare Starlette app with same-size bodies."""

from __future__ import annotations

from typing import Any

from . import dataset, loadgen
from .servers import bare_server, orgledger_server
from .stores import MASTER_KEY, fresh_store, open_runtime

ORGS, MEMBERS = 100, 10

INFO = loadgen.Load("GET", "/organization/info?organization_id=org-{r}", range=ORGS)
LIST = loadgen.Load("GET", "/organization/list")

def measure(backend: str, seconds: float, clients: int) -> dict[str, Any]:
    with fresh_store(backend) as store:
        runtime = open_runtime(store)
        dataset.generate(runtime.ledger, ORGS, MEMBERS, MASTER_KEY)
        # Applied here, in-process, whether or not this backend's server projects inline.
        runtime.projector.catch_up()
        runtime.close()
        with orgledger_server(store) as server:
            bodies = {"info": server.get("/organization/info?organization_id=org-0"),
                      "list": server.get("/organization/list")}
            info = loadgen.run(server, INFO, connections=clients, seconds=seconds)
            listing = loadgen.run(server, LIST, connections=clients, seconds=seconds)
    with bare_server(bodies) as bare:
        bare_info = loadgen.run(bare, INFO, connections=clients, seconds=seconds)
        bare_list = loadgen.run(bare, LIST, connections=clients, seconds=seconds)
    results: dict[str, Any] = {}
    for name, real, raw in (("organization/info", info, bare_info),
                            ("organization/list", listing, bare_list)):
        results[name] = {
            **real.as_dict(), "clients": clients, "body_bytes": len(bodies[name.split("/")[1]]),
            "bare": raw.as_dict(),
            "ratio": round(real.throughput / raw.throughput, 3) if raw.throughput else None,
        }
    return results
