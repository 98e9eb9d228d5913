"""What the application needs to know from the read side, without depending on it."""

from __future__ import annotations

from typing import Protocol


class Directory(Protocol):
    def member_ids(self, organization_id: str) -> tuple[list[str], int]:
        """The organization's active members and the log position that list is complete to."""

    def key_tokens(self, organization_id: str) -> tuple[list[str], int]:
        """The tokens of the organization's unrevoked keys and the log position that list is complete to."""
