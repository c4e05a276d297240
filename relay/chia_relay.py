#!/usr/bin/env python3
"""chia's LLM relay: forwards TCP from compute nodes to the laptop's reverse tunnel.

Runs on an HPC login node with only the system Python (standard library only).
Compute nodes cannot reach the laptop; the login node can, through an ``ssh -R`` tunnel
on its loopback. The relay listens on the login node's network and copies bytes both
ways between each compute-node connection and the tunnel.

Commands (each prints one JSON line):

* ``start``: stop this host's earlier relay for the same configured port (found by its
  pid file and verified by its command line, so nothing else is ever signalled), then
  start ``serve`` in the background and report where it listens.
* ``serve``: the relay itself, in the foreground, on the configured port (``0``: a free
  one). It records the port in its pid file and in the host file compute nodes read
  (``<host> <port>``). SIGTERM or SIGINT closes the socket and exits 0.

A configured port held by another process (anything but this host's earlier relay for
it, which ``start`` replaces) is an error, never silently another port: ``start`` starts
nothing, prints ``{"error": "port_taken", "port": ..., "holder": ...}`` and exits
:data:`PORT_TAKEN` (4).
* ``stop`` / ``status``: stop, or describe, this host's relay for the configured port.

Pid files are ``<state-dir>/relay-<hostname>-<port>.json``: keyed by host, because a
login alias round-robins over several nodes that share one filesystem.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

SCRIPT = os.path.abspath(__file__)
HOST = socket.gethostname()
BUFFER = 65536
#: Exit code of ``start`` and ``serve`` when the configured port is held by another process.
PORT_TAKEN = 4


class PortTaken(OSError):
    """The configured port is held by another process."""


def pid_file(state_dir: str, port: int) -> str:
    """This host's pid file for a configured port."""
    return os.path.join(state_dir, f"relay-{HOST}-{port}.json")


def write_atomic(path: str, text: str) -> None:
    """Write via a temporary file and rename, so readers never see half a file."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def read_record(state_dir: str, port: int) -> dict | None:
    """The pid file's record, or None."""
    try:
        with open(pid_file(state_dir, port), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def command_line(pid: int) -> list[str]:
    """The argv of a process on this host, or [] when it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [part.decode(errors="replace") for part in handle.read().split(b"\0") if part]
    except FileNotFoundError:
        return []
    except OSError:
        pass
    result = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True)
    return result.stdout.split()


def is_our_relay(pid: int, state_dir: str, port: int) -> bool:
    """True only for a ``serve`` of this script for this state dir and configured port.

    Never the caller itself, nor its parent: a pattern match on the script path would
    match the shell or ssh session that runs ``start`` too.
    """
    if pid in (os.getpid(), os.getppid()) or pid <= 1:
        return False
    argv = command_line(pid)
    name = os.path.basename(SCRIPT)
    script_at = next((i for i, a in enumerate(argv) if os.path.basename(a) == name), None)
    # The script must be the program run: `python [-flags] chia_relay.py serve ...`, not a
    # word in some other command (`python -c ... chia_relay.py serve`, an editor, a grep).
    if script_at is None or script_at == 0 or argv[script_at + 1 : script_at + 2] != ["serve"]:
        return False
    if not all(a.startswith("-") for a in argv[1:script_at]):
        return False
    try:
        configured = argv[argv.index("--port") + 1]
        state = argv[argv.index("--state-dir") + 1]
    except (ValueError, IndexError):
        return False
    return configured == str(port) and os.path.abspath(state) == os.path.abspath(state_dir)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def stop_earlier(state_dir: str, port: int, grace_s: float = 5.0) -> bool:
    """Stop this host's earlier relay for ``port``; True if one was running."""
    record = read_record(state_dir, port)
    if record is None:
        return False
    pid = int(record.get("pid", 0))
    stopped = False
    if alive(pid) and is_our_relay(pid, state_dir, port):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped = True
    with contextlib.suppress(FileNotFoundError):
        os.remove(pid_file(state_dir, port))
    return stopped


def pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until ``source`` closes, then half-close ``sink``."""
    try:
        while True:
            data = source.recv(BUFFER)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def handle(client: socket.socket, target: tuple[str, int]) -> None:
    """Connect one client to the target and copy both ways until both sides close."""
    try:
        upstream = socket.create_connection(target, timeout=30)
        upstream.settimeout(None)
    except OSError as exc:
        print(f"relay: cannot reach {target[0]}:{target[1]}: {exc}", flush=True)
        client.close()
        return
    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def listen(bind: str, port: int) -> socket.socket:
    """Listen on ``port`` (0: a free one).

    Raises:
        PortTaken: If another process holds the port.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind, port))
    except OSError as exc:
        sock.close()
        raise PortTaken(f"port {port} on {HOST} is taken ({exc.strerror})") from None
    sock.listen(128)
    return sock


def _listening_inodes(port: int) -> set[str]:
    """The socket inodes listening on ``port`` (from ``/proc/net/tcp*``), Linux only."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            listening = len(fields) > 9 and fields[3] == "0A"
            if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def port_holder(port: int) -> str | None:
    """``pid N (command)`` of the process listening on ``port``, if this user may see it."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not inodes:
        return None
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return f"pid {pid} ({' '.join(command_line(int(pid)))[:120]})"
            except OSError:
                continue
    return None


def taken_record(port: int, reason: str) -> dict:
    """The JSON record of a refused start: the port, the host, and who holds it."""
    return {
        "error": "port_taken",
        "host": HOST,
        "port": port,
        "reason": reason,
        "holder": port_holder(port),
    }


def serve(args: argparse.Namespace) -> int:
    """Run the relay until SIGTERM or SIGINT."""
    os.makedirs(args.state_dir, exist_ok=True)
    try:
        server = listen(args.bind, args.port)
    except PortTaken as exc:
        print(f"relay: {exc}", flush=True)
        return PORT_TAKEN
    port = server.getsockname()[1]
    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    record = {
        "pid": os.getpid(),
        "host": HOST,
        "port": port,
        "configured_port": args.port,
        "target": f"{args.target_host}:{args.target_port}",
        "script": SCRIPT,
    }
    write_atomic(pid_file(args.state_dir, args.port), json.dumps(record) + "\n")
    if args.host_file:
        write_atomic(args.host_file, f"{HOST} {port}\n")
    print(
        f"relay: listening on {args.bind}:{port} -> {args.target_host}:{args.target_port}",
        flush=True,
    )
    server.settimeout(0.2)
    target = (args.target_host, args.target_port)
    try:
        while not stopping.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            client.settimeout(None)
            threading.Thread(target=handle, args=(client, target), daemon=True).start()
    finally:
        server.close()
        current = read_record(args.state_dir, args.port)
        if current and current.get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                os.remove(pid_file(args.state_dir, args.port))
        print("relay: stopped", flush=True)
    return 0


def start(args: argparse.Namespace) -> int:
    """Replace this host's earlier relay for the port with a new background one."""
    os.makedirs(args.state_dir, exist_ok=True)
    replaced = stop_earlier(args.state_dir, args.port)
    if args.port:
        try:
            listen(args.bind, args.port).close()
        except PortTaken as exc:
            print(json.dumps(taken_record(args.port, str(exc))))
            return PORT_TAKEN
    log_path = os.path.join(args.state_dir, f"relay-{HOST}-{args.port}.log")
    argv = [
        sys.executable,
        SCRIPT,
        "serve",
        "--port",
        str(args.port),
        "--state-dir",
        args.state_dir,
        "--bind",
        args.bind,
        "--target-host",
        args.target_host,
        "--target-port",
        str(args.target_port),
    ]
    if args.host_file:
        argv += ["--host-file", args.host_file]
    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        record = read_record(args.state_dir, args.port)
        if record and record.get("pid") == child.pid:
            print(json.dumps({**record, "replaced_earlier": replaced, "log": log_path}))
            return 0
        if child.poll() is not None:
            if child.returncode == PORT_TAKEN:  # taken between our check and its bind
                print(json.dumps(taken_record(args.port, f"port {args.port} is taken")))
                return PORT_TAKEN
            break
        time.sleep(0.05)
    with open(log_path, encoding="utf-8", errors="replace") as log:
        tail = log.read()[-2000:]
    print(json.dumps({"error": "the relay did not start", "log": log_path, "tail": tail}))
    return 1


def stop(args: argparse.Namespace) -> int:
    """Stop this host's relay for the port."""
    print(json.dumps({"host": HOST, "stopped": stop_earlier(args.state_dir, args.port)}))
    return 0


def status(args: argparse.Namespace) -> int:
    """Describe this host's relay for the port; exit 3 when none runs."""
    record = read_record(args.state_dir, args.port) or {}
    pid = int(record.get("pid", 0))
    running = bool(pid) and alive(pid) and is_our_relay(pid, args.state_dir, args.port)
    print(json.dumps({**record, "host": HOST, "running": running}))
    return 0 if running else 3


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "serve", "stop", "status"):
        sub = commands.add_parser(name)
        sub.add_argument("--port", type=int, required=True, help="configured port (0: free)")
        sub.add_argument("--state-dir", required=True, help="pid files and logs")
        if name in ("start", "serve"):
            # Compute nodes connect over the network, so all interfaces by default.
            sub.add_argument("--bind", default="0.0.0.0")
            sub.add_argument("--target-host", default="127.0.0.1")
            sub.add_argument("--target-port", type=int, required=True)
            sub.add_argument("--host-file", help="write '<host> <port>' here for compute nodes")
    args = parser.parse_args(argv)
    return {"start": start, "serve": serve, "stop": stop, "status": status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
