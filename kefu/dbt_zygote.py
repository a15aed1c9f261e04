"""A warm start for dbt children (docs/decisions.md D-222): a process that has imported dbt once and
forks one child per dbt run, instead of a new Python that imports dbt again (≈ 2.2 CPU s each).

    python -m kefu.dbt_zygote SOCKET      serve on the Unix socket SOCKET until SIGTERM

kefu.build hands a run to the zygote named by the environment variable KEFU_DBT_ZYGOTE, and
starts `python -m kefu.dbt_commands` itself when none is named or it cannot be reached. The forked
child is the same program as that process: kefu.dbt_commands.main with the caller's arguments,
environment, working directory, stdout and stderr (the caller's pipes, passed over the socket), and it
ends the way that process ends (the interpreter's own exit, so dbt's and DuckDB's clean-up runs).
It dies with the caller: when the caller's end of the socket closes before the child has ended, the
zygote kills the child; and with the zygote (PR_SET_PDEATHSIG).

The test session uses one zygote per pytest worker (tests/conftest.py): a session runs ≈ 40 dbt
children. A night runs one, so the pipeline and `kefu demo` start dbt the plain way.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

ENV = "KEFU_DBT_ZYGOTE"  # the socket of a running zygote
PRELOAD = (  # what every dbt child imports before it runs anything: dbt, its DuckDB adapter, kefu's runner
    "dbt.cli.main",
    "dbt.adapters.duckdb.impl",
    "dbt.parser.manifest",
    "dbt.task.build",
    "dbt.task.list",
    "dbt.task.run_operation",
    "dbt.task.docs.generate",
    "kefu.dbt_commands",
)
_HEADER = struct.Struct("!I")  # the length of the JSON request that follows
_STATUS = struct.Struct("!ii")  # (child pid, exit code) sent back; the code is -N for a signal N


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the caller closed the socket")
        data += chunk
    return data


def die_with_parent() -> None:
    """In a dbt child, plain (kefu.build's preexec_fn) or forked here: die when the parent dies (a
    killed Airflow task must not leave a dbt process writing the warehouse behind it). Linux
    prctl(PR_SET_PDEATHSIG, SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def _child(request: dict, fds: list[int]) -> None:
    """In the forked child: become the caller's `python -m kefu.dbt_commands COMMANDS` and end as it
    would (SystemExit through the interpreter's normal exit)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    die_with_parent()
    os.setpgid(0, 0)  # the caller may kill the run's process group, never the zygote's
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for fd in (null, *fds):
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.argv = [sys.argv[0], json.dumps(request["commands"])]
    from kefu import dbt_commands

    raise SystemExit(dbt_commands.main(request["commands"]))


def serve(path: Path) -> None:
    """Preload dbt, then fork a child for every request on the socket at `path` until SIGTERM."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    path = Path(path)
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path) + ".tmp")
    server.listen(16)
    os.replace(str(path) + ".tmp", path)  # the socket appears only once the zygote is warm
    me = os.getpid()
    running: dict[int, socket.socket] = {}  # child pid -> its caller's connection
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ)
    try:
        while not stop:
            for key, _ in sel.select(timeout=0.1):
                if key.fileobj is server:
                    conn, _ = server.accept()
                    try:
                        msg, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 2)
                        request = json.loads(_recv_exactly(conn, _HEADER.unpack(msg)[0]))
                    except (OSError, ValueError, struct.error):
                        conn.close()
                        continue
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:  # the child: never returns into this loop
                        sel.close()
                        for other in (server, conn, *running.values()):
                            other.close()
                        _child(request, fds)
                    for fd in fds:
                        os.close(fd)
                    running[pid] = conn
                    sel.register(conn, selectors.EVENT_READ, pid)
                else:  # a caller's end closed (it sends nothing else): its child must not outlive it
                    pid = key.data
                    sel.unregister(key.fileobj)
                    if pid in running:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            while running:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                conn = running.pop(pid, None)
                if conn is None:
                    continue
                code = os.waitstatus_to_exitcode(status)
                try:
                    sel.unregister(conn)
                except (KeyError, ValueError):
                    pass
                try:
                    conn.sendall(_STATUS.pack(pid, code))
                except OSError:
                    pass
                conn.close()
    finally:
        if os.getpid() == me:
            for pid in running:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            path.unlink(missing_ok=True)


def run(commands: list[list[str]], env: dict[str, str]) -> subprocess.CompletedProcess[str] | None:
    """The caller's side: run `python -m kefu.dbt_commands COMMANDS` as a child of the zygote named by
    KEFU_DBT_ZYGOTE, with `env` and this process's working directory; its output captured as text.
    None when no zygote is named or it cannot be reached (the caller starts the process itself)."""
    path = os.environ.get(ENV)
    if not path:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        body = json.dumps({"commands": commands, "env": env, "cwd": os.getcwd()}).encode()
        socket.send_fds(conn, [_HEADER.pack(len(body))], [out_w, err_w])
        conn.sendall(body)
    except OSError:
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        conn.close()
        return None
    os.close(out_w)
    os.close(err_w)
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    status = b""
    sel = selectors.DefaultSelector()
    for fd in (out_r, err_r):
        sel.register(fd, selectors.EVENT_READ)
    sel.register(conn, selectors.EVENT_READ)
    try:
        while len(sel.get_map()):
            for key, _ in sel.select():
                if key.fileobj is conn:
                    data = conn.recv(_STATUS.size - len(status))
                    status += data
                    if not data or len(status) == _STATUS.size:
                        sel.unregister(conn)
                else:
                    data = os.read(key.fd, 65536)
                    if data:
                        chunks[key.fd].append(data)
                    else:
                        sel.unregister(key.fd)
    finally:
        sel.close()
        conn.close()
        os.close(out_r)
        os.close(err_r)
    if len(status) != _STATUS.size:
        raise RuntimeError(f"the dbt zygote at {path} ended before the dbt run did")
    _, code = _STATUS.unpack(status)
    text = {fd: b"".join(parts).decode("utf-8", errors="replace") for fd, parts in chunks.items()}
    return subprocess.CompletedProcess(
        [sys.executable, "-m", "kefu.dbt_commands", json.dumps(commands)], code, text[out_r], text[err_r]
    )


def start(path: Path, timeout: float = 120) -> subprocess.Popen:
    """Start a zygote serving on `path` and wait until it is warm (its socket exists)."""
    proc = subprocess.Popen([sys.executable, "-m", "kefu.dbt_zygote", str(path)], stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the dbt zygote did not start (exit {proc.poll()})")
        time.sleep(0.1)
    return proc


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
