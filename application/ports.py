"""What the application needs to know from the read side, without depending on it."""

from __future__ import annotations

from typing import Protocol


class Directory(Protocol):
    def user_ids_by_email(self, email: str) -> list[str]:
        """Every user id with this email, from a view caught up to the log's head."""

    def known_users(self, user_ids: list[str], emails: list[str]) -> tuple[set[str], dict[str, list[str]]]:
        """Which of these user ids exist, and every user id with each of these emails (absent:
        none), from a view caught up to the log's head."""

    def member_ids(self, organization_id: str) -> tuple[list[str], int]:
        """The organization's active members and the log position that list is complete to."""

    def key_tokens(self, organization_id: str) -> tuple[list[str], int]:
        """The tokens of the organization's unrevoked keys and the log position that list is complete to."""
