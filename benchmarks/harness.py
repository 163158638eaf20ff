"""Shared plumbing for the benchmarks: processes, throwaway databases, tables.

Everything a benchmark starts goes through :class:`Processes`, which puts each
child in its own process group and kills the groups on exit, on an exception,
on Ctrl-C and on SIGTERM, so a failed run never leaves a Daphne behind. Every
wait here is bounded by a timeout.

The benchmark processes themselves never import Django: seeding and query
counting run in ``python -m benchmarks.seeding`` subprocesses, so one run can
use a SQLite file for one benchmark and PostgreSQL for the next.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
PYTHON = VENV / "bin" / "python"
DAPHNE = VENV / "bin" / "daphne"
RESULTS_DIR = REPO / "benchmarks" / "results"
HOST = "127.0.0.1"
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class Skipped(Exception):
    """A benchmark (or one row of it) cannot run here; the reason is shown."""


# --- numbers --------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "–"
    return f"{numerator / denominator:.2f}×"


# --- tables ---------------------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append([fmt(c) if not isinstance(c, str) else c for c in cells])

    def skip(self, label: str, reason: str) -> None:
        self.rows.append([label, f"skipped: {reason}"] + [""] * (len(self.columns) - 2))

    def render(self) -> str:
        cells = [self.columns, *self.rows]
        widths = [
            max(len(str(row[i])) if i < len(row) else 0 for row in cells)
            for i in range(len(self.columns))
        ]
        # A skipped row's long reason should not widen its column for everyone.
        widths = [min(w, 60) for w in widths]

        def line(row: list[Any]) -> str:
            padded = [
                str(row[i]).ljust(widths[i]) if i < len(row) else " " * widths[i]
                for i in range(len(self.columns))
            ]
            return "| " + " | ".join(padded).rstrip() + " |"

        out = [f"### {self.title}", "", line(self.columns)]
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out += [line(row) for row in self.rows]
        if self.notes:
            out.append("")
            out += [f"- {note}" for note in self.notes]
        return "\n".join(out)

    def as_dict(self) -> dict:
        return asdict(self)


# --- time -----------------------------------------------------------------------


class Deadline:
    """A budget in seconds; ``left()`` never goes below zero."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.left() <= 0


# --- machine --------------------------------------------------------------------


def machine_info() -> dict:
    mem_kib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as meminfo:
        for row in meminfo:
            if row.startswith("MemTotal:"):
                mem_kib = int(row.split()[1])
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for row in cpuinfo:
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


# --- processes ------------------------------------------------------------------

_LIVE: set[subprocess.Popen] = set()


def _kill_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is not None:
        _LIVE.discard(proc)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    _LIVE.discard(proc)


def kill_all_children() -> None:
    for proc in list(_LIVE):
        _kill_group(proc, grace=2.0)


def _on_signal(signum: int, frame: Any) -> None:
    kill_all_children()
    raise SystemExit(128 + signum)


atexit.register(kill_all_children)
signal.signal(signal.SIGTERM, _on_signal)


class Processes:
    """Start children in their own process groups; stop them all on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(
        self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path = REPO
    ) -> subprocess.Popen:
        log = self.log_dir / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _LIVE.add(proc)
        self.procs.append((name, proc, log))
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        _kill_group(proc)

    def stop_all(self) -> None:
        for _, proc, _ in reversed(self.procs):
            _kill_group(proc)
        self.procs.clear()

    def log_tail(self, proc: subprocess.Popen, lines: int = 30) -> str:
        for _, candidate, log in self.procs:
            if candidate is proc:
                with contextlib.suppress(OSError):
                    return "\n".join(
                        log.read_text(errors="replace").splitlines()[-lines:]
                    )
        return ""

    def daphne(
        self,
        name: str,
        *,
        env: dict[str, str],
        app: str = "benchmarks.asgi_bench:application",
        timeout: float = 60.0,
    ) -> tuple[subprocess.Popen, int]:
        """A Daphne on 127.0.0.1 at a free port, started and answering."""
        port = free_port()
        proc = self.start(
            name,
            [DAPHNE, "-b", HOST, "-p", str(port), "--http-timeout", "600", app],
            env=env,
        )
        wait_port(port, proc, timeout=timeout, describe=lambda: self.log_tail(proc))
        return proc, port


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_port(
    port: int, proc: subprocess.Popen, *, timeout: float, describe=None
) -> None:
    deadline = Deadline(timeout)
    while not deadline.expired:
        if proc.poll() is not None:
            detail = describe() if describe else ""
            raise RuntimeError(f"process exited with {proc.returncode}:\n{detail}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {HOST}:{port} after {timeout:.0f}s")


def peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident set (VmHWM) in MiB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith("VmRSS:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- Django environment ---------------------------------------------------------


@dataclass
class Site:
    """Where one benchmark's throwaway Consilium lives."""

    root: Path  # temp dir: var dir, logs, generated files
    database_url: str = ""  # empty: the embedded SQLite file under var/
    redis_url: str = ""
    prefix: str = field(default_factory=lambda: f"bench{secrets.token_hex(4)}")

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for manage.py, Daphne and the seeding helpers."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "REDIS_URL", "S3_"))
            # Compiled modules are cached as usual, so start-up is not
            # dominated by recompiling every import.
            and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="benchmarks.bench_settings",
            PYTHONPATH=str(REPO),
            CONSILIUM_VAR_DIR=str(self.var_dir),
            DEBUG="0",
            SECRET_KEY="benchmark-only-secret-key-" + "x" * 40,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            LOG_LEVEL="WARNING",
            CHANNELS_PREFIX=self.prefix,
            CACHE_PREFIX=self.prefix,
            # The benchmark's sender posts faster than a person may.
            MESSAGE_RATE_LIMIT="1000000",
            MESSAGE_RATE_WINDOW_SECONDS="1",
            PYTHONUNBUFFERED="1",
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(extra)
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        return run_checked(
            [PYTHON, REPO / "manage.py", *args], env=self.env(), timeout=timeout
        )

    def seed(self, *args: str, timeout: float = 600) -> dict:
        """Run a ``benchmarks.seeding`` command; it prints one JSON object."""
        out = run_checked(
            [PYTHON, "-m", "benchmarks.seeding", *args], env=self.env(), timeout=timeout
        )
        return json.loads(out.strip().splitlines()[-1])


def run_checked(argv: list, *, env: dict[str, str], timeout: float) -> str:
    try:
        done = subprocess.run(
            [str(a) for a in argv],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{argv[1:3]} timed out after {timeout:.0f}s") from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv[1:4]))} failed ({done.returncode}):\n"
            f"{done.stderr[-3000:]}"
        )
    return done.stdout


_TEMPLATE_ENV = "BENCH_SQLITE_TEMPLATE"


def migrated_sqlite(site: Site) -> None:
    """Give ``site`` a migrated SQLite database, copied from a template made
    once per ``make bench`` run (migrating takes longer than copying)."""
    site.var_dir.mkdir(parents=True, exist_ok=True)
    target = site.var_dir / "consilium.sqlite3"
    template = os.environ.get(_TEMPLATE_ENV)
    if template and Path(template).is_file():
        shutil.copyfile(template, target)
        return
    site.manage("migrate", "--no-input", timeout=600)
    # Fold the WAL into the main file so a plain copy is complete.
    run_checked(
        [
            PYTHON,
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
            "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()",
            target,
        ],
        env=site.env(),
        timeout=60,
    )
    cache = (
        Path(tempfile.gettempdir()) / f"consilium-bench-template-{os.getpid()}.sqlite3"
    )
    shutil.copyfile(target, cache)
    os.environ[_TEMPLATE_ENV] = str(cache)
    atexit.register(lambda: cache.unlink(missing_ok=True))


@contextlib.contextmanager
def embedded_site(name: str) -> Iterator[Site]:
    """A temp dir with a migrated SQLite database; removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=f"consilium-bench-{name}-"))
    try:
        site = Site(root=root)
        migrated_sqlite(site)
        yield site
    finally:
        shutil.rmtree(root, ignore_errors=True)


def services_available() -> str | None:
    """None when PostgreSQL and Redis answer on 127.0.0.1, else the reason."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL + "/postgres", connect_timeout=3):
            pass
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__})"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL} ({type(exc).__name__})"
    return None


@contextlib.contextmanager
def scale_site(name: str) -> Iterator[Site]:
    """A throwaway PostgreSQL database (created, migrated, dropped) and Redis
    under a unique key prefix."""
    import psycopg

    reason = services_available()
    if reason:
        raise Skipped(reason)
    root = Path(tempfile.mkdtemp(prefix=f"consilium-bench-{name}-"))
    db = f"consilium_bench_{name}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = POSTGRES_URL + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    try:
        site = Site(root=root, database_url=f"{POSTGRES_URL}/{db}", redis_url=REDIS_URL)
        site.var_dir.mkdir(parents=True, exist_ok=True)
        site.manage("migrate", "--no-input", timeout=600)
        yield site
    finally:
        with (
            contextlib.suppress(Exception),
            psycopg.connect(admin, autocommit=True) as conn,
        ):
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        _redis_cleanup(site.prefix if "site" in locals() else "")
        shutil.rmtree(root, ignore_errors=True)


def _redis_cleanup(prefix: str) -> None:
    if not prefix:
        return
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
