"""The HTTP adapter: Starlette routes, request bounds, access checks, errors and the read side."""
