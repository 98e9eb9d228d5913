"""orgledger: an event-sourced, LiteLLM-compatible organization API.

This folder is the top-level `orgledger` package (pyproject.toml maps it here); the layers are
its subpackages: orgledger.domain, .application, .projections and .adapters."""
