"""Pure decisions: no I/O, no database, fast unit tests."""
