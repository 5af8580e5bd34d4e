"""Keep the garbage collector's full passes short on the GUI thread.

A full (generation 2) collection walks every object the cyclic collector tracks, holding the
GIL: the GUI thread stops for as long as it takes, whichever thread triggered it. Most of
those objects are the modules, classes and functions imported at startup (Qt, SQLAlchemy,
psycopg, pydantic), which live until the process exits anyway. freeze_startup_objects()
collects once, then moves what is alive at that moment to the permanent generation, which
full passes skip. It runs once, before any window, dialog or connection exists, so nothing
the operator's work creates is ever frozen. (The table model used to call gc.freeze() after
every page fetched: everything alive at each fetch was frozen, and a reference cycle frozen
that way is never collected.)
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Freeze what the imports left alive (garbage collected first); returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
