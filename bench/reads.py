"""Measurement 2: reads against their raw limit, a bare Starlette app with same-size bodies.

Both servers run under uvicorn's default stack (httptools and uvloop, which `orgledger serve`
installs), and again under its pure-Python one (h11 and asyncio): the C stack makes the bare
app's share of a request several times cheaper, so the two ratios say different things."""

from __future__ import annotations

from typing import Any

from . import dataset, loadgen
from .servers import bare_server, orgledger_server
from .stores import MASTER_KEY, fresh_store, open_runtime

ORGS, MEMBERS = 100, 10

INFO = loadgen.Load("GET", "/organization/info?organization_id=org-{r}", range=ORGS)
LIST = loadgen.Load("GET", "/organization/list")
LOADS = {"info": INFO, "list": LIST}
# Name suffix -> uvicorn options, for both servers. The unsuffixed names carry the targets.
STACKS = {"": (), " (h11, asyncio)": ("--http", "h11", "--loop", "asyncio")}


def measure(backend: str, seconds: float, clients: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with fresh_store(backend) as store:
        runtime = open_runtime(store)
        dataset.generate(runtime.ledger, ORGS, MEMBERS, MASTER_KEY)
        # Applied here, in-process, whether or not this backend's server projects inline.
        runtime.projector.catch_up()
        runtime.close()
        for suffix, stack in STACKS.items():
            with orgledger_server(store, stack=stack) as server:
                bodies = {"info": server.get("/organization/info?organization_id=org-0"),
                          "list": server.get("/organization/list")}
                real = {name: loadgen.run(server, load, connections=clients, seconds=seconds)
                        for name, load in LOADS.items()}
            with bare_server(bodies, stack=stack) as bare:
                raw = {name: loadgen.run(bare, load, connections=clients, seconds=seconds)
                       for name, load in LOADS.items()}
            for name in LOADS:
                results[f"organization/{name}{suffix}"] = {
                    **real[name].as_dict(), "clients": clients, "body_bytes": len(bodies[name]),
                    "bare": raw[name].as_dict(),
                    "ratio": round(real[name].throughput / raw[name].throughput, 3)
                    if raw[name].throughput else None,
                }
    return results
