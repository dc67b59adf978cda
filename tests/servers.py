"""Real servers for tests, started on loopback ports (recipes: shared/docs/test-servers.md).

Each is a context manager owning its process: start, poll for readiness, yield a URL, stop. The session-scoped
fixtures in tests/conftest.py wrap them, so one PostgreSQL and one Redis serve the whole run.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed (run scripts/test, which installs them)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(ready, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        if ready():
            return
        time.sleep(0.02)
    raise RuntimeError(f"{what} was not ready after {timeout} s")


def _stop(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Test clusters trade durability for speed: nothing in them outlives the run.
FAST_UNSAFE = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]


def postgres_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise ServerUnavailable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    return os.path.dirname(found[-1])


@contextlib.contextmanager
def postgres_server(durable: bool = False) -> Iterator[str]:
    """A throw-away PostgreSQL cluster; yields `postgresql+asyncpg://postgres@127.0.0.1:PORT/postgres`.

    Tests run it with fsync off (fast, nothing to keep); `durable=True` keeps PostgreSQL's defaults, for benchmarks
    whose figures must include the cost of a durable commit (flags given here cannot be overridden later)."""
    bin_dir = postgres_bin()
    port = free_port()
    d = tempfile.mkdtemp(prefix="ccpg-")  # not tmp_path: /tmp/pytest-of-root is 0700
    as_pg: dict = {}
    if os.geteuid() == 0:
        shutil.chown(d, "postgres", "postgres")
        as_pg = {"user": "postgres", "group": "postgres", "extra_groups": []}
    try:
        subprocess.run([f"{bin_dir}/initdb", "-D", f"{d}/data", "-U", "postgres", "-A", "trust", "--no-sync",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, cwd=d, capture_output=True, **as_pg)
        proc = subprocess.Popen([f"{bin_dir}/postgres", "-D", f"{d}/data", "-p", str(port), "-k", d,
                                 "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200",
                                 *([] if durable else FAST_UNSAFE)],
                                cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **as_pg)
        try:
            def ready() -> bool:
                probe = [f"{bin_dir}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]
                return subprocess.run(probe, check=False).returncode == 0  # non-zero = not ready yet
            _wait(ready, proc, "postgres")
            yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        finally:
            _stop(proc, signal.SIGINT)  # fast shutdown; SIGTERM would wait for clients
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def redis_server(appendonly: bool = False, directory: str | None = None, port: int | None = None) -> Iterator[str]:
    """A Redis server; yields `redis://127.0.0.1:PORT/0`. `appendonly` makes it durable across restarts."""
    exe = shutil.which("redis-server")
    if not exe:
        raise ServerUnavailable("redis-server not installed")
    port = port or free_port()
    own_dir = directory is None
    d = directory or tempfile.mkdtemp(prefix="ccredis-")
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--daemonize", "no",
            "--logfile", f"{d}/redis.log"]
    args += ["--appendonly", "yes", "--appendfsync", "always"] if appendonly else ["--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def ready() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
            return False
        _wait(ready, proc, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc, signal.SIGTERM)
        if own_dir:
            shutil.rmtree(d, ignore_errors=True)
