"""Measurement 5: orgledger against its peer, the plain CRUD design an operator would otherwise run
(`shared/peers/crud_baseline.py` beside the checkout, run unmodified).

Both run on SQLite in one process, under the same uvicorn settings, seeded over HTTP with the
same requests, and are measured scenario by scenario, back to back, in the same run: on a shared
machine only ratios taken side by side mean anything."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from . import commands, dataset, loadgen, peer_report, reads
from .servers import Server, free_port, orgledger_server, running
from .stores import MASTER_KEY, fresh_store

PEER_MODULE = "crud_baseline"
# The same uvicorn stack for both, named rather than left to "auto".
STACK = ("--http", "httptools", "--loop", "uvloop")
# Reads first, on the seeded 100 x 10 data; the writes after them would grow the list.
LOADS = {"info": reads.INFO, "list": reads.LIST, "new": commands.NEW_ORG,
         "member_add": commands.MEMBER_ADD}


def peers_dir() -> Path | None:
    """`../shared/peers` from the checkout root, or from the nearest folder above it that has one
    (a git worktree sits deeper than the main checkout); BENCH_PEERS_DIR overrides."""
    override = os.environ.get("BENCH_PEERS_DIR")
    candidates = [Path(override)] if override else [
        parent / "shared" / "peers" for parent in Path(__file__).resolve().parents[1].parents]
    return next((c for c in candidates if (c / f"{PEER_MODULE}.py").is_file()), None)


@contextmanager
def peer_server(folder: Path) -> Iterator[Server]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="orgledger-bench-peer-") as data:
        env = {**os.environ, "CRUD_DB": str(Path(data) / "crud.db"), "LITELLM_MASTER_KEY": MASTER_KEY}
        command = [sys.executable, "-m", "uvicorn", f"{PEER_MODULE}:app", "--app-dir", str(folder),
                   "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
                   *STACK]
        # The peer has no health route; /bare answers without the database or auth.
        with running(command, env, port, "/bare") as server:
            yield server


def seed(server: Server) -> None:
    """reads' data set, 100 organizations x 10 members, as an operator would write it."""
    for i in range(reads.ORGS):
        org = dataset.org_id(i)
        server.post("/organization/new", json.dumps(
            {"organization_id": org, "organization_alias": dataset.org_alias(i)}).encode())
        server.post("/organization/member_add", json.dumps(
            {"organization_id": org, "member": [{"role": "internal_user", "user_id": dataset.user_id(i, j)}
                                                for j in range(reads.MEMBERS)]}).encode())
    listed = json.loads(server.get("/organization/list"))
    members = sum(len(o.get("members") or []) for o in listed)
    if len(listed) != reads.ORGS or members != reads.ORGS * reads.MEMBERS:
        raise RuntimeError(f"seeding {server.base}: {len(listed)} organizations, {members} members listed")


def measure(seconds: float, clients: int) -> dict[str, Any]:
    folder = peers_dir()
    if folder is None:
        return {"skipped": f"the peer ({PEER_MODULE}.py in ../shared/peers) is missing"}
    with ExitStack() as stack:
        store = stack.enter_context(fresh_store("sqlite"))
        servers = {"orgledger": stack.enter_context(orgledger_server(store, stack=STACK)),
                   "peer": stack.enter_context(peer_server(folder))}
        for server in servers.values():
            seed(server)
        measured: dict[str, dict[str, Any]] = {}
        for name, load in LOADS.items():
            measured[name] = {who: loadgen.run(server, load, connections=clients, seconds=seconds).as_dict()
                              for who, server in servers.items()}
    return {"clients": clients, "seconds": seconds, "stack": " ".join(STACK),
            "scenarios": peer_report.with_ratios(measured)}
