"""Use cases taking (session, data). They never commit: the entrypoint owns the transaction.
They return frozen dataclasses, never live ORM objects."""
