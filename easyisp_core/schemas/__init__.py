"""Typed shapes of the JSON columns, validated on every write (the seed's improvement #2)."""
