"""The organizations view: its tables and event handlers, its queries, and the LiteLLM shapes."""
