"""CPU per command, in-process: N requests of each command through the ASGI app on a fresh SQLite
store (Starlette's TestClient, no sockets), timed by the process's CPU clock (every thread:
the client's, the event loop's and the workers').

    python -m bench.command_cpu [N] [--rounds R]

The client's own cost is in every number; GET /health/liveliness, which does nothing, shows
about how much of it that is. Rounds alternate the commands so that a slower moment of the
machine spreads over all of them; the best round of each is reported."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings

MASTER_KEY = "sk-bench-cpu"
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
ORG = "bench-org"
WARM_UP = 20


@contextmanager
def served() -> Iterator[TestClient]:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(Settings(master_key=MASTER_KEY, data_dir=Path(tmp) / "data", backend="sqlite"))
        try:
            with TestClient(build_app(runtime=runtime)) as client:
                yield client
        finally:
            runtime.close()


class Commands:
    """Each command as a request that succeeds however often it is sent."""

    def __init__(self, client: TestClient, updates: int) -> None:
        self.client = client
        self.sent = 0
        self._post("/organization/new", {"organization_alias": "bench", "organization_id": ORG})
        # One member per update: a member's events are all read again at each command on it,
        # so updating one member over and over would measure its growing history instead.
        self.members = [f"member-{i}" for i in range(updates)]
        for start in range(0, updates, 500):
            self._post("/organization/member_add", {"organization_id": ORG, "member": [
                {"user_id": m, "role": "internal_user"} for m in self.members[start:start + 500]]})

    def _post(self, path: str, body: dict[str, object], method: str = "POST") -> None:
        response = self.client.request(method, path, json=body, headers=ADMIN)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")

    def new(self) -> None:
        self.sent += 1
        self._post("/organization/new", {"organization_alias": f"org {self.sent}", "max_budget": 10})

    def member_add(self) -> None:
        self.sent += 1
        self._post("/organization/member_add", {"organization_id": ORG, "member": [
            {"user_id": f"user-{self.sent}", "role": "internal_user"}]})

    def member_update(self) -> None:
        self._post("/organization/member_update", {"organization_id": ORG, "user_id": self.members.pop(),
                                                   "role": "org_admin"}, method="PATCH")

    def liveliness(self) -> None:
        self.client.get("/health/liveliness")


def cpu_ms(send: Callable[[], None], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        send()
    return (time.process_time() - start) * 1000 / n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=300, help="requests of each command per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with served() as client:
        commands = Commands(client, updates=WARM_UP + args.n * args.rounds)
        loads = {"new": commands.new, "member_add": commands.member_add,
                 "member_update": commands.member_update, "liveliness (client floor)": commands.liveliness}
        for send in loads.values():  # warm up: imports, statement caches, pools
            cpu_ms(send, WARM_UP)
        best = dict.fromkeys(loads, float("inf"))
        for _ in range(args.rounds):
            for name, send in loads.items():
                best[name] = min(best[name], cpu_ms(send, args.n))
    print(f"CPU ms per request, best of {args.rounds} rounds of {args.n} (SQLite, in-process):")
    for name, ms in best.items():
        print(f"  {name:<27} {ms:6.3f}")


if __name__ == "__main__":
    main()
