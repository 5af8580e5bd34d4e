"""The console freezes its startup objects once (framework/gc_tuning.py), not on every fetch."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
from easyisp_desktop.framework.gc_tuning import freeze_startup_objects

frozen = freeze_startup_objects()

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a
del a, b
print(frozen, gc.collect(), gc.get_freeze_count())
"""


def test_only_what_is_alive_at_startup_is_frozen_and_later_cycles_are_collected() -> None:
    """A separate process: freezing is process-wide and would outlive this test."""
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    frozen, collected, still_frozen = (int(word) for word in run.stdout.split())
    assert frozen > 0
    assert collected >= 2  # the cycle made after the freeze is found and freed
    assert still_frozen == frozen  # and nothing more was frozen meanwhile
