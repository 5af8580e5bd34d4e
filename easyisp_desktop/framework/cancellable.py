"""A worker whose database statement is cancelled on the server too, not only abandoned.

The work attaches its session to `canceller` (QueryCanceller.attached) while it queries;
cancel() stops the worker from reporting and asks PostgreSQL to stop that statement, so a
cancelled read does not go on holding a connection, locks and a CPU on the server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_desktop.framework.worker import Worker


@dataclass
class CancellableWork:
    worker: Worker
    canceller: QueryCanceller = field(default_factory=QueryCanceller)

    def cancel(self) -> None:
        self.worker.cancel()
        # Reaching the server is network I/O: never on the GUI thread.
        threading.Thread(target=self.canceller.cancel, daemon=True).start()
