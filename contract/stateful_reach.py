"""Did schemathesis' stateful phase get 200s from the member operations? (`make contract`, issue 14)

Reads the NDJSON report schemathesis wrote (the folder is the argument) and fails unless the
stateful phase's recorded interactions hold a 200 from each of member_add, member_update and
member_delete: the links from organization/new and member_add carried real ids there."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

MEMBER_OPERATIONS = ("/organization/member_add", "/organization/member_update", "/organization/member_delete")


def main(report_dir: str) -> int:
    answers: collections.Counter[tuple[str, int]] = collections.Counter()
    for report in Path(report_dir).glob("*.ndjson"):
        for line in report.read_text().splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished or finished.get("phase") != "stateful":
                continue
            for interaction in finished["recorder"].get("interactions", {}).values():
                if interaction.get("response"):
                    path = urlsplit(interaction["request"]["uri"]).path
                    answers[(path, interaction["response"]["status_code"])] += 1
    for path in MEMBER_OPERATIONS:
        statuses = {status: n for (p, status), n in sorted(answers.items()) if p == path}
        print(f"stateful phase, {path}: {statuses}")
    missing = [path for path in MEMBER_OPERATIONS if answers[(path, 200)] == 0]
    if missing:
        print(f"FAILED: the stateful phase got no 200 from {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
