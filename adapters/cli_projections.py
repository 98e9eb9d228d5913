"""`orgledger projections ...`: the commands that run and manage the read models."""

from __future__ import annotations

import click


@click.group()
def projections() -> None:
    """Run and manage the read models (projections)."""
