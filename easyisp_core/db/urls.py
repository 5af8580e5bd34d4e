"""Normalise database URLs so users can paste plain libpq URLs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def to_sqlalchemy_url(url: str) -> URL:
    """Accept postgresql://, postgres:// or postgresql+psycopg:// and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"EasyISP needs PostgreSQL, not {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+psycopg")


def to_libpq_url(url: str | URL) -> str:
    """The same URL as libpq/psycopg understands it (no +driver suffix)."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def describe(url: str | URL) -> str:
    """A URL fit for logs and status bars: no password."""
    parsed = make_url(url) if isinstance(url, str) else url
    host = parsed.host or parsed.query.get("host") or "local socket"
    return f"{parsed.database}@{host}" + (f":{parsed.port}" if parsed.port else "")
