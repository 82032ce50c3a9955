#!/usr/bin/env python3
"""Differential test of opensock-fetch against curl.

Every scenario in scenarios.py is run twice, once with curl and once with opensock-fetch,
with the same arguments against freshly started copies of the same scripted loopback
servers. The two runs must agree on the exit code, the bytes written to stdout, the files
written to the working directory and the requests the servers received (and, where the
scenario asks, on how many connections carried them). Stderr is only shown, never
compared: the two tools word their messages differently.

    python3 differential.py --fetch PATH [--curl curl] [-k NAME_SUBSTRING] [--list]
                            [--self-check] [--jobs N] [--repeat N] [--verbose]
    python3 differential.py --serve NAME

--self-check runs curl on both sides: every scenario must pass it, which shows that
curl's behaviour in the scenario is deterministic and that the scenario's expectations
(expect_exit) describe curl as it is.

Only the standard library is used, and only 127.0.0.1, ::1 and Unix sockets.
"""

import argparse
import concurrent.futures
import os
import random
import re
import select
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True  # importing scenarios must not leave __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as catalogue  # noqa: E402

# A tool that hangs is killed after this long; the slowest scenario needs about 1 s.
RUN_TIMEOUT = 20.0
# How long a server waits for the next bytes of a request before giving up on it.
READ_TIMEOUT = 10.0
# After the tool exits, how long its servers may take to notice and finish.
STOP_GRACE = 3.0
# Poll interval of every server loop, so that stop() is noticed promptly.
TICK = 0.05

# Headers compared in every request; headers a scenario sets with -H are added to these.
COMPARED_HEADERS = ("host", "content-length", "transfer-encoding", "content-type",
                    "authorization", "cookie", "accept", "accept-encoding", "te", "connection",
                    "expect", "referer", "range", "content-range", "if-none-match")


# --------------------------------------------------------------------------------------
# HTTP message framing, shared by the server (to know where a request ends) and by the
# comparison (to normalise what it received).


def split_head(data):
    """(head lines, offset of the body) once data holds a whole head, else None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    return data[:end].split(b"\r\n"), end + 4


def header_values(lines, name):
    """Every value of the header `name` (lowercase bytes) among the head's lines."""
    values = []
    for line in lines[1:]:
        field, colon, value = line.partition(b":")
        if colon and field.strip().lower() == name:
            values.append(value.strip())
    return values


def is_chunked(lines):
    codings = b",".join(header_values(lines, b"transfer-encoding")).lower()
    return codings.split(b",")[-1].strip() == b"chunked" if codings else False


def content_length(lines):
    """The Content-Length when every value agrees and is a number, else None."""
    values = set()
    for value in header_values(lines, b"content-length"):
        values.update(part.strip() for part in value.split(b","))
    if len(values) != 1:
        return None
    (value,) = values
    return int(value) if value.isdigit() else None


def dechunk(data):
    """(payload, bytes consumed) for a complete chunked body at the start of data, or None
    while it is incomplete. Raises ValueError on a chunk size that is not hex."""
    payload = bytearray()
    pos = 0
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(data[pos:line_end].split(b";")[0].strip() or b"x", 16)
        pos = line_end + 2
        if size == 0:
            break
        if len(data) < pos + size + 2:
            return None
        payload += data[pos:pos + size]
        pos += size + 2
    # Trailer fields, then the empty line that ends the message.
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        line = data[pos:line_end]
        pos = line_end + 2
        if not line:
            return bytes(payload), pos


def request_end(data):
    """Offset just past the first complete request in data, or None while incomplete."""
    head = split_head(data)
    if head is None:
        return None
    lines, body_start = head
    if is_chunked(lines):
        try:
            chunked = dechunk(data[body_start:])
        except ValueError:
            return len(data)  # unparseable: take what came as the request
        return None if chunked is None else body_start + chunked[1]
    length = content_length(lines) or 0
    return body_start + length if len(data) >= body_start + length else None


def reply_is_complete(reply, method):
    """Whether `reply` is one or more well-framed HTTP/1.1 messages after which the client
    can send its next request on the same connection. Anything else (close-delimited,
    HTTP/1.0, Connection: close, short, malformed) makes the server close after it."""
    data = reply
    while True:
        head = split_head(data)
        if head is None:
            return False
        lines, body_start = head
        status = lines[0].split(b" ")
        if len(status) < 2 or status[0] != b"HTTP/1.1" or not status[1].isdigit():
            return False
        if any(v.lower() == b"close" for v in header_values(lines, b"connection")):
            return False
        code = int(status[1])
        if 100 <= code < 200:
            data = data[body_start:]  # interim response: the final one follows
            continue
        rest = data[body_start:]
        if method == b"HEAD" or code in (204, 304):
            return rest == b""
        if is_chunked(lines):
            try:
                chunked = dechunk(rest)
            except ValueError:
                return False
            return chunked is not None and chunked[1] == len(rest)
        length = content_length(lines)
        return length is not None and len(rest) == length


# --------------------------------------------------------------------------------------
# The scripted server.


def bind_below_ephemeral(sock, host):
    """Binds to a free port below the kernel's ephemeral range and returns it.

    Other test programs on the machine take "free" ports with bind(port 0), which draws
    from the ephemeral range, and some then connect to such a port expecting nothing to
    listen there. A server of ours in that range could receive their connections and
    record requests no tool sent. Below the range, that cannot happen."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    if low > 11000:
        for _ in range(100):
            try:
                sock.bind((host, random.randrange(10000, low)))
                return sock.getsockname()[1]
            except OSError:
                continue
    sock.bind((host, 0))
    return sock.getsockname()[1]


class Peer:
    """One accepted connection: runs its script and records each request it reads."""

    def __init__(self, sock, server):
        self.sock = sock
        self.server = server
        self.buffer = b""
        self.requests = []  # raw bytes of each request, in order
        self.partial = b""  # bytes of a request the client never finished
        self.closed = False

    def _receive(self, deadline):
        """Waits for more bytes; False at end of stream, on error, timeout or stop."""
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            readable, _, _ = select.select([self.sock], [], [], TICK)
            if not readable:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError:
                return False
            if not data:
                return False
            self.buffer += data
            return True
        return False

    def read_request(self):
        """Reads and records the next request; None if the client sent none."""
        deadline = time.monotonic() + READ_TIMEOUT
        if not self.requests and not self.buffer and self._receive(deadline) and \
                self.buffer.startswith(b"PROXY "):
            # A PROXY protocol line (--haproxy-protocol) opens the connection: recorded as
            # it is, but for its source port, which is the client's own.
            while b"\r\n" not in self.buffer and self._receive(deadline):
                pass
            line, _, self.buffer = self.buffer.partition(b"\r\n")
            self.requests.append(re.sub(rb"^(PROXY \S+ \S+ \S+) \d+", rb"\1 {source_port}", line))
        while (end := request_end(self.buffer)) is None:
            if not self._receive(deadline):
                self.partial = self.buffer
                return None
        request, self.buffer = self.buffer[:end], self.buffer[end:]
        self.requests.append(request)
        return request

    def read_head(self):
        """Reads and records the next request's head alone; its body, if one comes, is
        left unread. None if the client sent none."""
        deadline = time.monotonic() + READ_TIMEOUT
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            if not self._receive(deadline):
                self.partial = self.buffer
                return None
        head, self.buffer = self.buffer[:end + 4], self.buffer[end + 4:]
        self.requests.append(head)
        return head

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def hold(self, seconds):
        """Keeps the connection open, answering nothing, until the client goes away."""
        deadline = time.monotonic() + seconds
        while self._receive(deadline):
            pass

    def close(self):
        """An orderly close: FIN first, then read until the client closes too, so that
        unread bytes never turn the close into a reset."""
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.monotonic() + 2.0
        while self._receive(deadline):
            self.buffer = b""
        self.sock.close()

    def reset(self):
        """An abortive close: SO_LINGER 0 makes close() send RST."""
        self.closed = True
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def serve_routes(self):
        """Answers requests from the server's routes until one reply ends the connection."""
        while (request := self.read_request()) is not None:
            lines = request.split(b"\r\n", 1)[0].split(b" ")
            method = lines[0]
            target = lines[1] if len(lines) > 1 else b"/"
            reply = self.server.route(target)
            if not self.send(reply) or not reply_is_complete(reply, method):
                break
        self.close()

    def run(self, steps):
        """Follows a connection script: a sequence of catalogue step tuples."""
        try:
            for step in steps:
                kind = step[0]
                if kind == "read":
                    if self.read_request() is None:
                        break
                elif kind == "read_head":
                    if self.read_head() is None:
                        break
                elif kind == "send":
                    if not self.send(self.server.substitute(step[1])):
                        break
                elif kind == "sleep":
                    time.sleep(step[1])
                elif kind == "hold":
                    self.hold(step[1])
                elif kind == "close":
                    break
                elif kind == "reset":
                    self.reset()
                    return
                elif kind == "serve":
                    self.serve_routes()
                    return
                else:
                    raise ValueError(f"unknown step {step!r}")
            self.close()
        except OSError:
            self.closed = True
            self.sock.close()


class ScriptedServer:
    """A listener on 127.0.0.1, ::1 or a Unix socket that plays a catalogue.Server spec:
    connection i follows spec.connections[i], later ones are answered from spec.routes."""

    def __init__(self, spec, family, unix_path=None):
        self.spec = spec
        self.substitutions = {}
        self.accept_stop = threading.Event()  # ends the accept loop
        self.stopping = threading.Event()  # ends every peer's waits
        self.stopped = False
        self.peers = []
        self.threads = []
        self.lock = threading.Lock()
        if family == "unix":
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(unix_path)
            self.port = None
        else:
            af, host = (socket.AF_INET6, "::1") if family == "inet6" else (socket.AF_INET, "127.0.0.1")
            self.listener = socket.socket(af, socket.SOCK_STREAM)
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.port = bind_below_ephemeral(self.listener, host)
        self.listener.listen(16)
        self.accepting = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self, substitutions):
        self.substitutions = substitutions
        self.accepting.start()

    def substitute(self, data):
        """Placeholders such as {port2} in scripted replies become this run's values."""
        for name, value in self.substitutions.items():
            data = data.replace(b"{" + name.encode() + b"}", value.encode())
        return data

    def route(self, target):
        routes = self.spec.routes
        path = target.split(b"?")[0].decode("latin-1")
        for key in (target.decode("latin-1"), path, "*"):
            if key in routes:
                return self.substitute(routes[key])
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

    def _start_peer(self, sock):
        with self.lock:
            index = len(self.peers)
            peer = Peer(sock, self)
            self.peers.append(peer)
        scripts = self.spec.connections
        if index < len(scripts):
            target, steps = peer.run, (scripts[index],)
        else:
            target, steps = peer.serve_routes, ()
        thread = threading.Thread(target=target, args=steps, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept_loop(self):
        while not self.accept_stop.is_set():
            readable, _, _ = select.select([self.listener], [], [], TICK)
            if readable:
                self._start_peer(self.listener.accept()[0])

    def stop(self):
        """Called once the tool has exited. Connections the kernel completed but nobody
        accepted yet still count; then every peer gets a grace period to finish (the
        tool is gone, so reads see end of stream) before it is told to stop."""
        if self.stopped:
            return
        self.stopped = True
        deadline = time.monotonic() + STOP_GRACE
        if self.accepting.is_alive():
            self.accept_stop.set()
            self.accepting.join()
            self.listener.setblocking(False)
            while True:
                try:
                    self._start_peer(self.listener.accept()[0])
                except OSError:
                    break
        for thread in list(self.threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        self.listener.close()

    def connections(self):
        """Per connection, the raw requests it carried (a partial one last, marked)."""
        result = []
        for peer in self.peers:
            requests = list(peer.requests)
            if peer.partial:
                requests.append(b"<partial>" + peer.partial)
            result.append(requests)
        return result


class SilentPort:
    """A loopback port where connect() hangs, without privileges: a listener with backlog
    0 whose accept queue is filled by connections nobody accepts, so the kernel drops
    every further SYN."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(16):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            self.fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            _, writable, _ = select.select([], [filler], [], 0.2)
            if not writable:
                return  # this SYN went unanswered: the queue is full
        raise RuntimeError("SilentPort: the accept queue never filled")

    def close(self):
        for filler in self.fillers:
            filler.close()
        self.listener.close()


class ClosedPort:
    """A loopback port with nothing listening. The socket stays bound (without listen)
    so that no one else takes the port during the run; a SYN to it is answered by RST."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------
# Running one tool in one scenario.


class Outcome:
    """What one tool did in one scenario, normalised for comparison."""

    def __init__(self, tool):
        self.tool = tool
        self.exit_code = None
        self.stdout = b""
        self.stderr = b""
        self.files = {}
        self.servers = {}  # server name -> per connection, the normalised requests
        self.command = ""


def normaliser(values):
    """A function replacing this run's ports and temporary paths by their placeholder
    names, so that output mentioning them (-w %{remote_port}, Host, -i Location) compares
    equal between two runs whose servers listen on different ports."""
    replacements = []
    for name, value in values.items():
        if name == "tmp" or name.endswith("port") or name.startswith("port"):
            replacements.append((name, value))
    replacements.sort(key=lambda item: -len(item[1]))

    def normalise(data):
        for name, value in replacements:
            if value.isdigit():
                data = re.sub(rb"(?<!\d)" + value.encode() + rb"(?!\d)", b"{" + name.encode() + b"}", data)
            else:
                data = data.replace(value.encode(), b"{" + name.encode() + b"}")
        return data

    return normalise


def without_author(data):
    """A cookie file's header names the program that wrote it (libcurl, opensock): that
    line alone is not compared."""
    return re.sub(rb"(?m)^# This file was generated by \w+! Edit at your own risk\.$",
                  b"# This file was generated by {program}! Edit at your own risk.", data)


def header_names_set_by(args):
    """Lowercase names of the headers the scenario's -H options set or remove."""
    names = set()
    for i, arg in enumerate(args):
        value = None
        if arg in ("-H", "--header") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("-H") and len(arg) > 2:
            value = arg[2:]
        if value:
            names.add(re.split(r"[:;]", value, maxsplit=1)[0].strip().lower())
    return names


def normalise_request(raw, compared, normalise):
    """A readable, comparable digest of one request: its request line, the compared
    headers (sorted by name; repeated ones keep their order) and its decoded body."""
    if raw.startswith(b"<partial>"):
        return "partial request " + repr(normalise(raw[len(b"<partial>"):]))
    if raw.startswith(b"PROXY "):
        return normalise(raw).decode("latin-1")
    # A multipart body's boundary is random (and longer in newer curl): it is compared as
    # {boundary} (a part of several files has one of its own, {boundary2}), and the
    # Content-Length that depends on it is left out.
    boundary = re.search(rb"(?im)^content-type:[^\r\n]*boundary=([^\s;]+)", raw)
    if boundary:
        found = dict.fromkeys(re.findall(rb"(?i)boundary=([^\s;]+)", raw))
        for number, value in enumerate(found, start=1):
            raw = raw.replace(value, b"{boundary%s}" % (str(number).encode() if number > 1 else b""))
    lines, body_start = split_head(raw)
    # curl 7.88 asks for 100-continue on every -T file; newer curl, which opensock-fetch
    # follows, only for bodies over 1 MiB or of unknown length: Expect is compared there.
    lengths = header_values(lines, b"content-length")
    small = bool(lengths) and lengths[0].strip().isdigit() and int(lengths[0]) <= 1024 * 1024
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower().decode("latin-1")
        if (boundary and lowered == "content-length") or (small and lowered == "expect"):
            continue
        if lowered in compared:
            fields.append((lowered, normalise(value.strip()).decode("latin-1")))
    fields.sort(key=lambda field: field[0])
    body = raw[body_start:]
    if is_chunked(lines):
        try:
            decoded = dechunk(body)
            body = decoded[0] if decoded else body
        except ValueError:
            pass
    text = normalise(lines[0]).decode("latin-1")
    for name, value in fields:
        text += f" | {name}: {value}"
    return text + f" | body {body!r}"


def fill(arg, values):
    """Substitutes {name} placeholders, leaving curl's own %{variable} syntax alone."""
    return re.sub(r"(?<!%)\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), arg)


def fill_bytes(content, values):
    """fill() for a file's or stdin's bytes, which may be any."""
    return fill(content.decode("latin-1"), values).encode("latin-1")


class Stage:
    """Everything one run of a scenario needs: a temporary directory (an empty working
    directory for the tool, another for Unix sockets), the scenario's servers and
    special ports, and the values of the placeholders. Use it as a context manager."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.tmp = tempfile.mkdtemp(prefix="fetch-diff-")
        self.cwd = os.path.join(self.tmp, "cwd")
        srv = os.path.join(self.tmp, "srv")
        os.mkdir(self.cwd)
        os.mkdir(srv)
        self.servers = {}
        self.extras = []
        self.values = {"tmp": self.tmp, "out": os.path.join(self.cwd, "out"),
                       "out2": os.path.join(self.cwd, "out2"), "sock": os.path.join(srv, "http.sock"),
                       "long_host": catalogue.LONG_HOST}

    def __enter__(self):
        try:
            self._set_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _set_up(self):
        scenario, values = self.scenario, self.values
        main = self.servers["main"] = ScriptedServer(scenario.server, scenario.family, values["sock"])
        if scenario.family == "unix":
            values["base"] = "http://localhost"
        else:
            host = "[::1]" if scenario.family == "inet6" else "127.0.0.1"
            values["port"] = str(main.port)
            values["base"] = f"http://{host}:{main.port}"
        values["url"] = values["base"] + "/"
        if scenario.server2 is not None:
            second = self.servers["second"] = ScriptedServer(scenario.server2, "inet")
            values["port2"] = str(second.port)
            values["base2"] = f"http://127.0.0.1:{second.port}"
        joined = " ".join(scenario.args)
        for name, kind in (("closed_port", ClosedPort), ("silent_port", SilentPort)):
            if "{" + name + "}" in joined:  # created only when used: SilentPort costs sockets
                extra = kind()
                self.extras.append(extra)
                values[name] = str(extra.port)
        for name, content in scenario.files.items():
            path = os.path.join(self.cwd, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(fill_bytes(content, values))
        for server in self.servers.values():
            server.start(values)

    def command(self, tool, args=None):
        return [tool] + [fill(arg, self.values) for arg in (args or self.scenario.args)]

    def stop_servers(self):
        for server in self.servers.values():
            server.stop()

    def __exit__(self, *exc):
        for extra in self.extras:
            extra.close()
        self.stop_servers()  # a no-op for servers already stopped
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def tool_environment(cwd, locale="C"):
    """An empty HOME keeps a ~/.curlrc out; no proxy variable may divert a request."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(HOME=cwd, XDG_CONFIG_HOME=cwd, CURL_HOME=cwd, LC_ALL=locale)
    return env


def run_tool(tool, scenario, args=None):
    """Runs `tool` with the scenario's arguments (or `args`) on a fresh Stage and returns
    the normalised Outcome."""
    outcome = Outcome(tool)
    with Stage(scenario) as stage:
        command = stage.command(tool, args)
        outcome.command = shown(command)
        try:
            given = ({"input": fill_bytes(scenario.stdin, stage.values)}
                     if scenario.stdin is not None else {"stdin": subprocess.DEVNULL})
            done = subprocess.run(command, cwd=stage.cwd,
                                  env=tool_environment(stage.cwd, scenario.locale),
                                  capture_output=True, timeout=RUN_TIMEOUT, **given)
            outcome.exit_code = done.returncode
            outcome.stdout, outcome.stderr = done.stdout, done.stderr
        except subprocess.TimeoutExpired as expired:
            outcome.exit_code = "timeout"
            outcome.stdout = expired.stdout or b""
            outcome.stderr = expired.stderr or b""
        stage.stop_servers()

        normalise = normaliser(stage.values)
        outcome.stdout = without_author(normalise(outcome.stdout))
        # Every file and directory the run left, by its path in the working directory; a
        # file dated more than a day back (-R) with its date.
        for directory, subdirectories, files in os.walk(stage.cwd):
            for name in subdirectories:
                path = os.path.join(directory, name)
                outcome.files[os.path.relpath(path, stage.cwd) + "/"] = b"(a directory)"
            for name in files:
                path = os.path.join(directory, name)
                with open(path, "rb") as f:
                    content = without_author(normalise(f.read()))
                modified = int(os.stat(path).st_mtime)
                if modified < time.time() - 86400:
                    content += b" (modified at %d)" % modified
                outcome.files[os.path.relpath(path, stage.cwd)] = content
        compared = (set(COMPARED_HEADERS) | header_names_set_by(scenario.args) |
                    header_names_set_by(scenario.curl_args or ()))
        for name, server in stage.servers.items():
            outcome.servers[name] = [[normalise_request(r, compared, normalise) for r in connection]
                                     for connection in server.connections()]
    return outcome


def serve_by_hand(scenario):
    """--serve: starts the scenario's servers, prints the command lines to try, and when
    Enter is pressed prints what the servers received. For debugging one scenario."""
    with Stage(scenario) as stage:
        print(f"scenario {scenario.name}; run in {stage.cwd}:")
        print("  " + shown(stage.command("curl")))
        print("  " + shown(stage.command("opensock-fetch")))
        print("(the scripted connections are played once; later ones get the routes)")
        try:
            input("press Enter when done ")
        except (EOFError, KeyboardInterrupt):
            pass
        stage.stop_servers()
        compared = set(COMPARED_HEADERS) | header_names_set_by(scenario.args)
        for name, server in stage.servers.items():
            for n, connection in enumerate(server.connections()):
                for request in connection:
                    print(f"{name} #{n}: {normalise_request(request, compared, lambda b: b)}")


# --------------------------------------------------------------------------------------
# Comparing and reporting.


def flattened(outcome):
    return {name: [r for connection in conns for r in connection] for name, conns in outcome.servers.items()}


def differences(scenario, curl, fetch, fetch_is_curl):
    """What differs between the two outcomes, as short phrases; empty when they agree."""
    found = []
    for outcome in (curl, fetch) if fetch_is_curl else (curl,):
        if scenario.expect_exit is not None and outcome.exit_code != scenario.expect_exit:
            found.append(f"curl exit {outcome.exit_code}, the scenario expects {scenario.expect_exit}")
    if scenario.known_difference and not fetch_is_curl:
        if fetch.exit_code != scenario.fetch_exit:
            found.append(f"exit code {fetch.exit_code}, expected {scenario.fetch_exit} "
                         f"(known difference: {scenario.known_difference})")
        made = sum(len(connections) for connections in fetch.servers.values())
        if scenario.fetch_connections is not None and made != scenario.fetch_connections:
            found.append(f"{made} connection(s), expected {scenario.fetch_connections} "
                         f"(known difference: {scenario.known_difference})")
        return found
    if curl.exit_code != fetch.exit_code:
        found.append(f"exit code {curl.exit_code} vs {fetch.exit_code}")
    if curl.stdout != fetch.stdout:
        found.append(f"stdout ({len(curl.stdout)} vs {len(fetch.stdout)} bytes{first_difference(curl.stdout, fetch.stdout)})")
    if curl.files.keys() != fetch.files.keys():
        found.append(f"files {sorted(curl.files)} vs {sorted(fetch.files)}")
    else:
        for name in curl.files:
            if curl.files[name] != fetch.files[name]:
                found.append(f"file {name} ({len(curl.files[name])} vs {len(fetch.files[name])} bytes"
                             f"{first_difference(curl.files[name], fetch.files[name])})")
    if scenario.compare_connections:
        for name in curl.servers:
            a, b = curl.servers[name], fetch.servers[name]
            if len(a) != len(b):
                found.append(f"{name} server: {len(a)} vs {len(b)} connections")
            elif a != b:
                found.append(f"{name} server: requests differ")
    else:
        a, b = flattened(curl), flattened(fetch)
        for name in a:
            if a[name] != b[name]:
                found.append(f"{name} server: requests differ")
    return found


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f", first difference at byte {i}"
    return ""


def describe(outcome, label):
    lines = [f"  --- {label}: {outcome.command}",
             f"    exit code: {outcome.exit_code}",
             f"    stdout ({len(outcome.stdout)} bytes): {outcome.stdout[:400]!r}"]
    for name, content in outcome.files.items():
        lines.append(f"    file {name} ({len(content)} bytes): {content[:400]!r}")
    stderr = outcome.stderr.decode("utf-8", "replace").rstrip()
    lines.append("    stderr: " + (stderr[:2000].replace("\n", "\n            ") if stderr else "(empty)"))
    for name, connections in outcome.servers.items():
        lines.append(f"    {name} server: {len(connections)} connection(s)")
        for n, connection in enumerate(connections):
            for request in connection:
                lines.append(f"      #{n}: {request[:600]}")
    return "\n".join(lines)


def run_scenario(scenario, curl, fetch, fetch_is_curl, ipv6):
    """(scenario, status, message, detail) where status is ok, FAIL or skip."""
    if scenario.family == "inet6" and not ipv6:
        return scenario, "skip", "::1 is not available here", ""
    try:
        a = run_tool(curl, scenario, scenario.curl_args)
        b = run_tool(fetch, scenario)
    except Exception:  # a broken scenario or server must not hide the other results
        return scenario, "FAIL", "the harness failed", traceback.format_exc()
    found = differences(scenario, a, b, fetch_is_curl)
    detail = describe(a, "curl") + "\n" + describe(b, "fetch")
    if found:
        return scenario, "FAIL", "; ".join(found), detail
    note = f" (known difference: {scenario.known_difference})" if scenario.known_difference and not fetch_is_curl else ""
    return scenario, "ok", note, detail


def executable(tool):
    found = shutil.which(tool)
    if found is None:
        sys.exit(f"not found or not executable: {tool}")
    return os.path.abspath(found)


def shown(args):
    """A command line as one could paste it into bash ($'...' for control characters)."""
    words = []
    for arg in args:
        if arg.isprintable():
            words.append(shlex.quote(arg))
        else:
            words.append("$'" + arg.encode("unicode_escape").decode().replace("'", "\\'") + "'")
    return " ".join(words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fetch", help="the opensock-fetch executable")
    parser.add_argument("--curl", default="curl", help="the curl executable (default: curl)")
    parser.add_argument("-k", dest="filter", default="", help="run only scenarios whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--self-check", action="store_true", help="run curl on both sides")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="scenarios run in parallel (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="run every scenario this many times")
    parser.add_argument("--verbose", "-v", action="store_true", help="show both sides of passing scenarios too")
    parser.add_argument("--serve", metavar="NAME", help="start one scenario's servers for trying it by hand")
    options = parser.parse_args()

    chosen = [s for s in catalogue.SCENARIOS if options.filter in s.name]
    names = [s.name for s in catalogue.SCENARIOS]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        sys.exit(f"duplicate scenario names: {sorted(duplicates)}")
    if options.serve:
        matching = [s for s in catalogue.SCENARIOS if s.name == options.serve]
        if not matching:
            sys.exit(f"no scenario named {options.serve!r}")
        serve_by_hand(matching[0])
        return 0
    if options.list:
        for s in chosen:
            print(f"{s.name}: {shown(s.args)}")
        return 0
    fetch = options.curl if options.self_check else options.fetch
    if not fetch:
        parser.error("--fetch PATH (or --self-check) is required")
    # Absolute paths: the tools run in temporary working directories.
    curl, fetch = executable(options.curl), executable(fetch)
    if not chosen:
        sys.exit(f"no scenario name contains {options.filter!r}")

    ipv6 = ipv6_loopback_available()
    started = time.monotonic()
    passed = failed = skipped = 0
    work = chosen * options.repeat
    with concurrent.futures.ThreadPoolExecutor(max(1, options.jobs)) as pool:
        futures = [pool.submit(run_scenario, s, curl, fetch, options.self_check, ipv6) for s in work]
        for future in futures:
            scenario, status, message, detail = future.result()
            if status == "ok":
                passed += 1
                print(f"ok {scenario.name}{message}", flush=True)
                if options.verbose:
                    print(detail, flush=True)
            elif status == "skip":
                skipped += 1
                print(f"skip {scenario.name}: {message}", flush=True)
            else:
                failed += 1
                print(f"FAIL {scenario.name}: {message}", flush=True)
                print(f"  args: {shown(scenario.args)}\n{detail}", flush=True)
    seconds = time.monotonic() - started
    print(f"run time {seconds:.1f} s" + (f", {skipped} skipped" if skipped else ""))
    print(f"scenarios: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
