#!/usr/bin/env python3
"""opensock-ws against the suite's WebSocket server (tests/peers/websocket-server): lines
echoed as text or binary, subprotocols and headers offered, permessage-deflate, the
server's close and its refusal, a closed port, the socket factory's guard, --resolve, a
SOCKS5 proxy (microsocks) when installed. Compared by exit code, stdout and stderr.

    opensock_ws.py --ws PATH --server PATH [--microsocks PATH]
"""
import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time

failures = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.01)
    return False


def run(ws, args, lines=b"", until=None):
    """Runs opensock-ws with `lines` on its stdin, held open until what it printed satisfies
    `until` (at most 10 s): the suite's server answers a close at once, and echoes its
    handler had not sent by then are never sent."""
    proc = subprocess.Popen([ws] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write(lines)
    proc.stdin.flush()
    printed = b""
    deadline = time.monotonic() + 10
    while until and not until(printed) and time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.1)[0]:
            more = os.read(proc.stdout.fileno(), 65536)
            if not more:
                break
            printed += more
    out, err = proc.communicate(timeout=20)
    return proc.returncode, printed + out, err.decode(errors="replace")


def printed(expected):
    """`until` for run(): as many bytes as `expected` were printed."""
    return lambda out: len(out) >= len(expected)


def check(name, got, expected):
    if got != expected:
        failures.append(f"{name}: got {got!r}, expected {expected!r}")
        print(f"FAIL {name}: got {got!r}, expected {expected!r}")
    else:
        print(f"ok   {name}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ws", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--microsocks", default="/usr/bin/microsocks")
    a = p.parse_args()
    if subprocess.run(["/usr/bin/python3", "-c", "import websockets"]).returncode != 0:
        print("python3-websockets is not installed (scripts/bootstrap installs it): skipped")
        return 0
    port = free_port()
    server = subprocess.Popen([a.server, "--port", str(port)], stderr=subprocess.DEVNULL)
    try:
        if not wait_for(port):
            print("the WebSocket server did not start")
            return 1
        base = f"ws://127.0.0.1:{port}"
        text = "one\nκόσμε\n\nlast\n".encode()
        check("text lines echoed", run(a.ws, [base + "/echo"], text, printed(text))[:2],
              (0, text))
        check("binary lines echoed raw",
              run(a.ws, ["--binary", base + "/echo"], b"ab\ncd\n", printed(b"abcd"))[:2],
              (0, b"abcd"))
        check("fragments read whole",
              run(a.ws, [base + "/fragments"], b"a longer line in pieces\n",
                  printed(b"a longer line in pieces\n"))[:2],
              (0, b"a longer line in pieces\n"))
        check("the subprotocol chosen",
              run(a.ws, ["--protocol", "chat.v9", "--protocol", "chat.v1",
                         base + "/subprotocol"], until=printed(b"chat.v1\n"))[:2],
              (0, b"chat.v1\n"))
        code, out, _ = run(a.ws, ["-H", "X-From: opensock-ws", base + "/headers"],
                          until=lambda out: b"\n" in out)
        seen = json.loads(out.decode().splitlines()[0]) if code == 0 and out else {}
        check("a -H header sent", (code, seen.get("x-from")), (0, "opensock-ws"))
        code, out, _ = run(a.ws, ["--deflate", base + "/extensions"], b"squeeze " * 50 + b"\n",
                           lambda out: out.count(b"\n") >= 2)
        lines = out.decode().splitlines()
        check("permessage-deflate negotiated and used",
              (code, lines[0].startswith("permessage-deflate"), lines[1:]),
              (0, True, ["squeeze " * 50]))
        check("the server's close shown", run(a.ws, [base + "/close"]),
              (0, b"", "opensock-ws: closed by peer: 4000 bye\n"))
        code, _, err = run(a.ws, [base + "/reject"])
        check("a refused upgrade", (code, "Refused WebSockets upgrade: HTTP/1.1 403" in err),
              (22, True))
        closed = free_port()
        check("nothing listening", run(a.ws, [f"ws://127.0.0.1:{closed}/"])[0], 7)
        check("the guard refuses loopback",
              run(a.ws, ["--deny-private", base + "/echo"])[0], 7)
        long_name = "x" * 70 + ".test"
        check("--resolve", run(a.ws, ["--resolve", f"{long_name}:{port}:127.0.0.1",
                                       f"ws://{long_name}:{port}/echo"],
                                 b"resolved\n", printed(b"resolved\n"))[:2],
              (0, b"resolved\n"))
        check("an http URL", run(a.ws, [f"http://127.0.0.1:{port}/"])[0], 1)
        check("a usage error", run(a.ws, [])[0], 2)
        if os.access(a.microsocks, os.X_OK):
            socks_port = free_port()
            socks = subprocess.Popen([a.microsocks, "-i", "127.0.0.1", "-p", str(socks_port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for(socks_port)
                check("through a SOCKS5 proxy",
                      run(a.ws, ["-x", f"socks5h://127.0.0.1:{socks_port}", base + "/echo"],
                          b"proxied\n", printed(b"proxied\n"))[:2], (0, b"proxied\n"))
            finally:
                socks.terminate()
                socks.wait()
        else:
            print("microsocks is not installed: the proxy case skipped")
    finally:
        server.terminate()
        server.wait()
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
