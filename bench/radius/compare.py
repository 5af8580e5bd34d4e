"""EasyISP's RADIUS server against Debian's FreeRADIUS 3.2 (rlm_sql, postgresql driver) on the
same database with the same 100,000 subscribers, side by side. One command does everything:

    EASYISP_DATABASE_URL=postgresql://postgres@127.0.0.1/postgres \\
        .venv/bin/python bench/radius/compare.py
    .venv/bin/python bench/radius/compare.py            # a fresh embedded PostgreSQL

It creates a throwaway database, migrates it, loads the demo with --customers subscribers
(bench/demo_bulk.py's loader), registers a router at 127.0.0.1, fills the FreeRADIUS
cleartext tables from the site key (see migration 0007), installs FreeRADIUS with apt when
it is missing (`apt-get install -y freeradius freeradius-postgresql`; no system unit is left
running), runs FreeRADIUS from a private copy of its configuration pointed at the views
(search_path=freeradius), measures it with loadgen.py, stops it, then does the same with
`easyisp service`, and prints one table. The database is dropped afterwards (--keep keeps it).
"""

# ruff: noqa: S603, S607 (a benchmark running the programs it installs)
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from demo_bulk import demo_roles, drop, server, with_database  # noqa: E402

from easyisp_core.crypto import SecretBox, new_site_key  # noqa: E402
from easyisp_core.db.engine import make_engine  # noqa: E402
from easyisp_core.db.revision import upgrade  # noqa: E402
from easyisp_core.demo import DemoOptions, load_demo  # noqa: E402
from easyisp_core.demo.catalog import DEMO_TENANTS  # noqa: E402
from easyisp_core.services.customers import CUSTOMER_PASSWORD  # noqa: E402
from easyisp_core.services.nas import create_nas  # noqa: E402

FREERADIUS_ETC = Path("/etc/freeradius/3.0")
SECRET = "bench-secret-0123456789"  # noqa: S105 (a throwaway benchmark secret)
FR_PORTS = (18121, 18131)
OURS_PORTS = (18122, 18132)
CONCURRENCY = (1, 16, 64)
BENCH_ROLE = "easyisp_fr_bench"
PYTHON = sys.executable


def sh(*args: str, **kwargs: Any) -> str:
    result = subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)
    return str(result.stdout)


# --- the database ---------------------------------------------------------------------------


def prepare(db_url: str, customers: int, box: SecretBox, users_file: Path) -> int:
    """Migrate, load the demo, add the bench router, fill the cleartext tables; returns the
    number of subscribers the load generator logs in as."""
    engine = make_engine(db_url, application_name="bench-radius")
    try:
        started = time.perf_counter()
        upgrade(engine)
        with Session(engine) as session:
            load_demo(session, box, DemoOptions(customers=customers, tenants=1))
            tenant = DEMO_TENANTS[0]
            create_nas(
                session,
                box,
                {
                    "tenant": tenant.slug,
                    "name": "bench-nas",
                    "ip_address": "127.0.0.1",
                    "secret": SECRET,
                },
            )
            session.commit()
        print(f"  database ready in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        engine.dispose()
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT c.id, c.tenant_id, c.username, c.password_enc, "
            # Who both servers must accept: no MAC binding (the generator's MAC is made up)
            # and no open session (FreeRADIUS's radacct starts empty).
            "  (c.status = 'ACTIVE' AND c.connection_type = 'PPPOE' AND c.expires_at > now() "
            "   AND c.mac_address IS NULL AND NOT EXISTS (SELECT 1 FROM sessions s "
            "     WHERE s.customer_id = c.id AND s.stopped_at IS NULL)) "
            "FROM customers c WHERE c.password_enc IS NOT NULL"
        ).fetchall()
        passwords = [
            (cid, tid, name, box.decrypt(bytes(enc), CUSTOMER_PASSWORD), good)
            for cid, tid, name, enc, good in rows
        ]
        with conn.cursor().copy(
            "COPY freeradius.customer_passwords (customer_id, tenant_id, password) FROM STDIN"
        ) as copy:
            for cid, tid, _name, password, _good in passwords:
                copy.write_row((cid, tid, password))
        conn.execute(
            "INSERT INTO freeradius.nas_secrets (nas_id, tenant_id, secret) "
            "SELECT id, tenant_id, %s FROM nas WHERE ip_address = '127.0.0.1'",
            (SECRET,),
        )
        conn.execute("ANALYZE")
    good = [(name, password) for _c, _t, name, password, ok in passwords if ok]
    users_file.write_text("".join(f"{n}\t{p}\n" for n, p in good), encoding="utf-8")
    return len(good)


def bench_login(admin_url: str, db_url: str) -> str:
    """A login in easyisp_freeradius for FreeRADIUS, plus a writable stock radacct table in
    schema freeradius_bench (our `radacct` is a read-only view over sessions)."""
    password = "bench-" + os.urandom(6).hex()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(BENCH_ROLE)))
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE easyisp_freeradius").format(
                sql.Identifier(BENCH_ROLE), sql.Literal(password)
            )
        )
    schema = (FREERADIUS_ETC / "mods-config/sql/main/postgresql/schema.sql").read_text()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA freeradius_bench")
        conn.execute("SET search_path = freeradius_bench")
        conn.execute(schema.encode())
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA freeradius_bench TO {}").format(
                sql.Identifier(BENCH_ROLE)
            )
        )
        conn.execute(
            sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA freeradius_bench TO {}").format(
                sql.Identifier(BENCH_ROLE)
            )
        )
        conn.execute(
            sql.SQL("GRANT ALL ON ALL SEQUENCES IN SCHEMA freeradius_bench TO {}").format(
                sql.Identifier(BENCH_ROLE)
            )
        )
    params = conninfo_to_dict(db_url)
    params.update(
        user=BENCH_ROLE,
        password=password,
        options="-c search_path=freeradius,freeradius_bench",
    )
    return make_conninfo("", **params).replace('"', "")


# --- FreeRADIUS -----------------------------------------------------------------------------


def ensure_freeradius() -> str:
    if shutil.which("freeradius") is None:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(
            ["apt-get", "install", "-y", "freeradius", "freeradius-postgresql"],
            check=True,
            env=env,
        )
        # The package may start its unit; the benchmark runs its own copy.
        subprocess.run(["systemctl", "stop", "freeradius"], check=False, capture_output=True)
        subprocess.run(["service", "freeradius", "stop"], check=False, capture_output=True)
    return sh("freeradius", "-v").splitlines()[0]


SITE = """
server bench {
    listen {
        type = auth
        ipaddr = 127.0.0.1
        port = %(auth)d
    }
    listen {
        type = acct
        ipaddr = 127.0.0.1
        port = %(acct)d
    }
    authorize {
        preprocess
        sql
        pap
    }
    authenticate {
        Auth-Type PAP {
            pap
        }
    }
    preacct {
        preprocess
        acct_unique
    }
    accounting {
        sql
    }
    session {
        sql
    }
    post-auth {
    }
}
"""


def freeradius_config(directory: Path, conninfo: str) -> Path:
    """A private copy of /etc/freeradius/3.0 running only our site, sql pointed at the views."""
    conf = directory / "raddb"
    shutil.copytree(FREERADIUS_ETC, conf, symlinks=True)
    radiusd = (conf / "radiusd.conf").read_text()
    radiusd = re.sub(r"^\s*(user|group)\s*=.*$", "", radiusd, flags=re.M)
    radiusd = radiusd.replace("logdir = /var/log/freeradius", f"logdir = {directory}")
    radiusd = radiusd.replace("run_dir = ${localstatedir}/run/${name}", f"run_dir = {directory}")
    radiusd = re.sub(r"max_servers\s*=\s*\d+", "max_servers = 64", radiusd)
    (conf / "radiusd.conf").write_text(radiusd)
    (conf / "clients.conf").write_text("")
    for site in (conf / "sites-enabled").iterdir():
        site.unlink()
    (conf / "sites-enabled" / "bench").write_text(SITE % {"auth": FR_PORTS[0], "acct": FR_PORTS[1]})
    for module in ("eap",):
        (conf / "mods-enabled" / module).unlink(missing_ok=True)
    text = (conf / "mods-available" / "sql").read_text()
    text = text.replace('dialect = "sqlite"', 'dialect = "postgresql"')
    text = re.sub(r'driver = "rlm_sql_null"', 'driver = "rlm_sql_${dialect}"', text)
    text = re.sub(r"#\s*read_clients = yes", "read_clients = yes", text)
    text = re.sub(r'radius_db = "radius"', f'radius_db = "{conninfo}"', text)
    text = re.sub(r'acct_table1 = "radacct"', 'acct_table1 = "freeradius_bench.radacct"', text)
    text = re.sub(r'acct_table2 = "radacct"', 'acct_table2 = "freeradius_bench.radacct"', text)
    text = re.sub(r"start = \$\{thread\[pool\]\.start_servers\}", "start = 8", text)
    (conf / "mods-enabled" / "sql").unlink(missing_ok=True)
    (conf / "mods-enabled" / "sql").write_text(text)
    return conf


@contextmanager
def running(argv: list[str], env: dict[str, str] | None, log: Path, port: int) -> Iterator[None]:
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            started = time.perf_counter()
            wait_for_port(port, process, log)
            print(f"  {Path(argv[0]).name} answering after {time.perf_counter() - started:.1f} s")
            yield
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server answers a probe (an Access-Request for a user that does not exist)."""
    deadline = time.monotonic() + 120
    users = log.with_suffix(".probe")
    users.write_text("nobody-at-all\tx\n")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited; see {log}:\n{log.read_text()[-3000:]}")
        result = loadgen("auth", port, users, 1, 0.5)
        if result["answered"]:
            return
    raise SystemExit(f"server on port {port} never answered; see {log}")


def loadgen(mode: str, port: int, users: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    out = sh(
        PYTHON,
        str(ROOT / "bench/radius/loadgen.py"),
        mode,
        "--server",
        f"127.0.0.1:{port}",
        "--secret",
        SECRET,
        "--users",
        str(users),
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
    )
    return dict(json.loads(out))


def measure(name: str, ports: tuple[int, int], users: Path, seconds: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    loadgen("auth", ports[0], users, 16, 2)  # warm up
    for c in CONCURRENCY:
        figures[f"auth{c}"] = loadgen("auth", ports[0], users, c, seconds)
        print(f"  {name} auth c={c}: {figures[f'auth{c}']}", flush=True)
    figures["acct"] = loadgen("acct", ports[1], users, 16, seconds)
    print(f"  {name} acct c=16: {figures['acct']}", flush=True)
    return figures


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    lines = ["| measure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for c in CONCURRENCY:
        key = f"auth{c}"
        lines.append(
            f"| PAP c={c} req/s | "
            + " | ".join(f"{results[n][key]['per_second']:,.0f}" for n in names)
            + " |"
        )
        lines.append(
            f"| PAP c={c} p50 / p99 ms | "
            + " | ".join(
                f"{results[n][key]['p50_ms']:.2f} / {results[n][key]['p99_ms']:.2f}" for n in names
            )
            + " |"
        )
    lines.append(
        "| accounting c=16 records/s | "
        + " | ".join(f"{results[n]['acct']['per_second']:,.0f}" for n in names)
        + " |"
    )
    lines.append(
        "| accepts / rejects / timeouts (c=64) | "
        + " | ".join(
            f"{results[n]['auth64']['accept']} / {results[n]['auth64']['reject']} / "
            f"{results[n]['auth64']['timeouts']}"
            for n in names
        )
        + " |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="EasyISP RADIUS vs FreeRADIUS 3.2.")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--database", default="easyisp_bench_radius")
    parser.add_argument("--only", choices=["freeradius", "easyisp"], default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=None, help="EASYISP_RADIUS_WORKERS (default: CPUs)"
    )
    args = parser.parse_args()
    version = ensure_freeradius() if args.only != "easyisp" else "(skipped)"
    box_key = new_site_key()
    box = SecretBox.from_encoded(box_key)
    results: dict[str, dict[str, Any]] = {}
    with server() as (admin_url, where), tempfile.TemporaryDirectory(prefix="radbench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            pg_version = admin.execute("SHOW server_version").fetchone()
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
        db_url = with_database(admin_url, args.database)
        print(
            f"PostgreSQL {pg_version[0] if pg_version else '?'} ({where}); {version}; "
            f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        try:
            users = work / "users.txt"
            count = prepare(db_url, args.customers, box, users)
            print(f"  {count} subscribers can log in (ACTIVE, PPPoE, paid up)", flush=True)
            if args.only != "easyisp":
                conninfo = bench_login(admin_url, db_url)
                conf = freeradius_config(work, conninfo)
                with running(
                    ["freeradius", "-f", "-d", str(conf)],
                    None,
                    work / "freeradius.log",
                    FR_PORTS[0],
                ):
                    results["FreeRADIUS 3.2"] = measure("freeradius", FR_PORTS, users, args.seconds)
            if args.only != "freeradius":
                env = dict(
                    os.environ,
                    EASYISP_DATABASE_URL=db_url,
                    EASYISP_SITE_KEY=box_key,
                    EASYISP_DATA_DIR=str(work / "easyisp"),
                    EASYISP_LOG_LEVEL="WARNING",
                )
                if args.workers is not None:
                    env["EASYISP_RADIUS_WORKERS"] = str(args.workers)
                argv = [
                    str(Path(PYTHON).with_name("easyisp")), "service",
                    "--radius-auth-addr", f"127.0.0.1:{OURS_PORTS[0]}",
                    "--radius-acct-addr", f"127.0.0.1:{OURS_PORTS[1]}",
                ]  # fmt: skip
                with running(argv, env, work / "easyisp.log", OURS_PORTS[0]):
                    results["EasyISP"] = measure("easyisp", OURS_PORTS, users, args.seconds)
        finally:
            if not args.keep:
                drop(admin_url, args.database, [*demo_roles(1), BENCH_ROLE])
    print()
    print(table(results))
    print(f"\nload average after the run: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
