"""Event-loop lag of the real console pages while a 1,000,000-row table loads, sorts,
filters and scrolls (the console issue's "never freeze": lag < 50 ms).

    EASYISP_DATABASE_URL=postgresql://postgres@127.0.0.1/easyisp_bench_console \\
        .venv/bin/python bench/console_lag.py [--scroll-seconds 30] [--profile]

Run by bench/console_table.py after its database figures, or on its own. The pages are the
console's own (CustomersPage, PaymentsPage) in an offscreen window, reading through the
demo ADMIN's own database login (so row-level security applies as for an operator) with
the GUI-thread guard on. A QTimer ticking every 5 ms on the GUI thread records how late each
tick fires; a phase's lag is the worst and the 99th-percentile delay. --profile runs cProfile
on the GUI thread during the phases and prints where its time went.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.demo.catalog import DEMO_TENANTS
from easyisp_core.services.identity import current_identity
from easyisp_desktop.framework.entity_page import PageContext
from easyisp_desktop.framework.gc_tuning import freeze_startup_objects
from easyisp_desktop.framework.gui_thread_guard import install_guard
from easyisp_desktop.framework.table_page import TablePage
from easyisp_desktop.framework.worker import WorkerPool
from easyisp_desktop.views.customers import CustomersPage
from easyisp_desktop.views.payments import PaymentsPage

TICK_MS = 5
TARGET_MS = 50.0
# A quick typist: one letter every 120 ms (the filter is debounced by 200 ms).
KEYSTROKE_MS = 120
WORDS = ["wanjiru", "kamau", "otieno", "0712 3", "achieng o", "mwangi j"]
WAIT_MS = 120_000


class LagMeter(QObject):
    """Ticks every TICK_MS on the GUI thread; each tick's delay goes to the current phase."""

    def __init__(self) -> None:
        super().__init__()
        self.lags: dict[str, list[float]] = {}
        # CPU time the GUI thread itself used between two ticks: a late tick with little CPU
        # spent was waiting (for a CPU on a loaded machine, or for the GIL), not working.
        self.busy: dict[str, list[float]] = {}
        self.phase: str | None = None
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def begin(self, phase: str) -> None:
        self.phase = phase
        self.lags.setdefault(phase, [])
        self.busy.setdefault(phase, [])
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()

    def end(self) -> None:
        self.phase = None

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self.phase is not None:
            self.lags[self.phase].append(max(0.0, (now - self._last) * 1000 - TICK_MS))
            self.busy[self.phase].append((cpu - self._last_cpu) * 1000)
        self._last, self._last_cpu = now, cpu


class GcPauses:
    """The longest garbage-collection pause of each generation (a full pass over many
    row objects stops the GUI thread too)."""

    def __init__(self) -> None:
        self.longest: dict[int, float] = {}
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            ms = (time.perf_counter() - self._started) * 1000
            generation = info["generation"]
            self.longest[generation] = max(self.longest.get(generation, 0.0), ms)


@dataclass
class Timings:
    """Wall-clock figures per phase (ms), from the action to the rows on screen."""

    by_phase: dict[str, list[float]] = field(default_factory=dict)

    def add(self, phase: str, ms: float) -> None:
        self.by_phase.setdefault(phase, []).append(ms)


def wait_for(done: Callable[[], bool], signal: object, timeout_ms: int = WAIT_MS) -> None:
    """Run the event loop (the lag timer keeps ticking) until `done()` after `signal`."""
    if done():
        return
    loop = QEventLoop()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)

    def check(*_args: object) -> None:
        if done():
            loop.quit()

    signal.connect(check)  # type: ignore[attr-defined]
    deadline.start(timeout_ms)
    loop.exec()
    signal.disconnect(check)  # type: ignore[attr-defined]
    if not done():
        raise TimeoutError(f"no result within {timeout_ms} ms")


def idle(ms: int) -> None:
    """Let the event loop run (and the meter tick) for `ms`."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def settled(page: TablePage) -> Callable[[], bool]:
    return lambda: not page.model.loading and page.model.count is not None


def load(page: TablePage, meter: LagMeter, timings: Timings, name: str) -> None:
    meter.begin(f"{name}: load")
    started = time.perf_counter()
    page.show()
    wait_for(settled(page), page.model.page_loaded)
    timings.add(f"{name}: load", (time.perf_counter() - started) * 1000)
    idle(200)  # the first paint of the rows
    meter.end()


def sort_every_column(page: TablePage, meter: LagMeter, timings: Timings, name: str) -> None:
    meter.begin(f"{name}: sort")
    for index, column in enumerate(page.model.columns):
        if not column.sortable:
            continue
        for order in (Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder):
            started = time.perf_counter()
            page.table.sortByColumn(index, order)  # what a click on the header does
            wait_for(settled(page), page.model.page_loaded)
            timings.add(f"{name}: sort", (time.perf_counter() - started) * 1000)
            idle(100)
    meter.end()


def type_words(page: TablePage, meter: LagMeter, timings: Timings, name: str) -> None:
    meter.begin(f"{name}: filter")
    box = page.search_box
    for word in WORDS:
        box.clear()
        wait_for(lambda: settled(page)() and page.model.query.text == "", page.model.page_loaded)
        for letter in word:
            QTest.keyClicks(box, letter)
            idle(KEYSTROKE_MS)
        started = time.perf_counter()
        wait_for(
            lambda w=word: settled(page)() and page.model.query.text == w,  # type: ignore[misc]
            page.model.page_loaded,
        )
        # From the last keystroke's pause to the rows: debounce (200 ms) + query + paint.
        timings.add(f"{name}: filter", (time.perf_counter() - started) * 1000 + KEYSTROKE_MS)
    box.clear()
    wait_for(lambda: settled(page)() and page.model.query.text == "", page.model.page_loaded)
    meter.end()


def scroll_down(
    page: TablePage, meter: LagMeter, timings: Timings, name: str, seconds: float
) -> int:
    """Hold the scroll bar at the bottom: every page that arrives is scrolled past at once
    (the view fetches the next one), until the end or `seconds`; returns rows reached."""
    meter.begin(f"{name}: scroll")
    bar = page.table.verticalScrollBar()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        rows = page.model.rowCount()
        asked = time.perf_counter()
        bar.setValue(bar.maximum())
        if not page.model.loading:
            if not page.model.canFetchMore(page.table.rootIndex()):
                break  # the end of the table
            page.model.fetchMore(page.table.rootIndex())
        wait_for(lambda r=rows: page.model.rowCount() > r or not page.model.loading,  # type: ignore[misc]
                 page.model.page_loaded)  # fmt: skip
        timings.add(f"{name}: scroll", (time.perf_counter() - asked) * 1000)
    meter.end()
    return page.model.rowCount()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share) - 1))]


def report(meter: LagMeter, timings: Timings) -> bool:
    print(f"\nevent-loop lag (a {TICK_MS} ms timer on the GUI thread; target < {TARGET_MS:.0f} ms)")
    print("  busy max: the most CPU the GUI thread itself used between two ticks")
    ok = True
    for phase, lags in meter.lags.items():
        worst = max(lags, default=0.0)
        ok = ok and (worst < TARGET_MS or phase.startswith("idle"))
        waits = timings.by_phase.get(phase, [])
        took = (
            f"   action → rows p50 {statistics.median(waits):7.1f} ms  max {max(waits):7.1f} ms"
            f" ({len(waits)})"
            if waits
            else ""
        )
        busy = max(meter.busy.get(phase, []), default=0.0)
        print(
            f"  {phase:<20} max {worst:6.1f} ms  p99 {percentile(lags, 0.99):5.1f} ms"
            f"  busy max {busy:5.1f} ms"
            f"  ({len(lags):>5} ticks){took}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description="Event-loop lag of the console's big tables.")
    parser.add_argument("--scroll-seconds", type=float, default=30.0)
    parser.add_argument("--profile", action="store_true", help="cProfile the GUI thread")
    parser.add_argument("--skip-payments", action="store_true")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave the startup objects to full collections"
    )
    args = parser.parse_args()
    return run(
        args.scroll_seconds,
        args.profile,
        payments=not args.skip_payments,
        freeze=not args.no_freeze,
    )


def run(
    scroll_seconds: float,
    profile: bool,
    *,
    payments: bool = True,
    freeze: bool = True,
    idle_seconds: float = 10.0,
) -> int:
    url = os.environ["EASYISP_DATABASE_URL"]
    probe = make_engine(url, application_name="easyisp-bench")
    with probe.connect() as conn:
        slug, size = conn.execute(
            text(
                "SELECT t.name, count(*) FROM customers c JOIN tenants t ON t.id = c.tenant_id "
                "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
            )
        ).one()
    probe.dispose()
    if slug not in {t.slug for t in DEMO_TENANTS}:
        print(f"the largest tenant {slug!r} is not a demo tenant")
        return 1
    # The tenant's demo ADMIN, as an operator logs in (the bench server trusts local logins).
    login = make_url(url).set(username=f"admin.{slug}", password=None)
    engine = make_engine(login.render_as_string(hide_password=False), application_name="bench")
    sessions = sessionmaker(engine, expire_on_commit=False)
    with session_scope(sessions) as session:  # before the GUI exists: no guard yet
        identity = current_identity(session)
    tenant_id: uuid.UUID | None = identity.tenant_id

    # As the console does (app.run_console) before its first window.
    frozen = freeze_startup_objects() if freeze else 0
    print(f"startup objects frozen: {frozen:,}; tracked after: {len(gc.get_objects()):,}")
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive until the end
    assert install_guard(engine, force=True)
    workers = WorkerPool()
    meter = LagMeter()
    pauses = GcPauses()
    timings = Timings()
    with tempfile.TemporaryDirectory(prefix="easyisp-bench-ui-") as tmp:
        settings = QSettings(str(Path(tmp) / "console.ini"), QSettings.Format.IniFormat)
        print(
            f"\n{engine.url.database} as {identity.login}: {size:,} customers; "
            f"Qt {QApplication.platformName()}, scroll {scroll_seconds:.0f} s"
        )
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        # The machine's own noise: the same meter with nothing to do (a shared machine's other
        # processes delay the GUI thread too; compare the phases with this floor).
        meter.begin("idle (noise floor)")
        idle(int(idle_seconds * 1000))
        meter.end()
        customers = CustomersPage(sessions, workers, settings, tenant_id=tenant_id)
        customers.resize(1366, 768)
        load(customers, meter, timings, "customers")
        sort_every_column(customers, meter, timings, "customers")
        type_words(customers, meter, timings, "customers")
        customers.table.sortByColumn(
            customers.model.column_index("full_name"), Qt.SortOrder.AscendingOrder
        )
        wait_for(settled(customers), customers.model.page_loaded)
        print(f"customers: {customers.model.rowCount()} rows, count {customers.model.count}")
        reached = scroll_down(customers, meter, timings, "customers", scroll_seconds)
        print(f"customers: scrolled down to row {reached:,} in {scroll_seconds:.0f} s")
        customers.hide()
        if payments:
            context = PageContext(sessions, workers, settings, identity)
            page = PaymentsPage(context)
            page.resize(1366, 768)
            load(page, meter, timings, "payments")
            sort_every_column(page, meter, timings, "payments")
            type_words(page, meter, timings, "payments")
            reached = scroll_down(page, meter, timings, "payments", scroll_seconds)
            print(f"payments: scrolled down to row {reached:,} in {scroll_seconds:.0f} s")
            page.hide()
        if profiler is not None:
            profiler.disable()
        ok = report(meter, timings)
        workers.cancel_all()
        workers.wait(10_000)
    print(f"objects tracked at the end: {len(gc.get_objects()):,}")
    shown = [("customers", customers)] + ([("payments", page)] if payments else [])
    for name, table in shown:
        print(f"{name}: {table.model.held_rows:,} rows held of {table.model.rowCount():,}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "longest GC pause per generation: "
        + ", ".join(f"gen{g} {ms:.1f} ms" for g, ms in sorted(pauses.longest.items()))
    )
    load1, load5, _load15 = os.getloadavg()
    print(f"peak RSS {peak_mb:.0f} MB; load average {load1:.1f} (1 min), {load5:.1f} (5 min)")
    if profiler is not None:
        print("\nGUI thread, by cumulative time:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    engine.dispose()
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
