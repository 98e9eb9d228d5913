"""The event log as such: reading it, exporting it and replaying it."""
