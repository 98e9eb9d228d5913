"""The processes that keep the read models: the PostgreSQL and SQLite projectors, and how the
processes that serve requests wait for them."""
