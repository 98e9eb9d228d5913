"""The OpenAPI document and /docs: the operations, their request and response models."""
