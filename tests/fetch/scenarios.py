"""The scenarios differential.py runs with curl and with opensock-fetch.

A scenario is a command line plus the scripted server(s) it talks to. In the arguments,
{url} is the main server's "http://127.0.0.1:PORT/" ({base} without the slash, {port} its
port), {base2}/{port2} a second server (cross-origin redirects), {closed_port} a port with
nothing listening, {silent_port} a port where connect() hangs, {sock} the main server's
Unix socket (family="unix"), {out}/{out2} files in the run's working directory (`files`
creates more there first, `stdin` is what the tool reads; `curl_args`, when given, is what
curl runs instead: the command line without options curl 7.88 lacks), and
{long_host} a host name no resolver answers for (see LONG_HOST). Replies, files and stdin
may contain the same placeholders.

A server is described by a Server: `routes` maps a request path (or "*" for any other) to
the raw reply bytes sent for it; after a reply that is a complete HTTP/1.1 message the
connection stays open for the next request, after anything else the server closes it.
`connections` scripts the first connections one by one instead, each a sequence of steps:

    READ        read one request (head, then body by Content-Length or chunked)
    READ_HEAD   read one request's head, its body left unread
    send(b)     send raw bytes
    pause(s)    sleep s seconds
    hold(s)     answer nothing until the client leaves (at most s seconds)
    CLOSE       close in order (FIN); also what happens after the last step
    RESET       close with RST (SO_LINGER 0)
    SERVE       answer the rest of the connection from `routes`

expect_exit pins curl's exit code, so the catalogue documents curl's behaviour and a
scenario that stops exercising what it means to is noticed. known_difference (with
fetch_exit, optionally fetch_connections) marks the few places where opensock-fetch is
deliberately stricter than curl: only its exit code (and connection count) is checked there.
"""

import base64
import email.utils
import gzip
import struct
import time
import zlib
from dataclasses import dataclass, field

# A first label longer than 63 characters: the resolver rejects the name without sending
# any query, so a --resolve or --connect-to rule that fails to match fails fast and offline.
LONG_HOST = "a" * 64 + ".test"

READ = ("read",)
READ_HEAD = ("read_head",)
CLOSE = ("close",)
RESET = ("reset",)
SERVE = ("serve",)


def send(data):
    return ("send", data)


def pause(seconds):
    return ("sleep", seconds)


def hold(seconds=10):
    return ("hold", seconds)


@dataclass(frozen=True)
class Server:
    routes: dict = field(default_factory=dict)
    connections: tuple = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    args: tuple
    server: Server = field(default_factory=Server)
    server2: Server = None
    family: str = "inet"  # the main server: "inet" (127.0.0.1), "inet6" (::1) or "unix"
    files: dict = field(default_factory=dict)  # created in the working directory first
    stdin: bytes = None  # what the tool reads on stdin; none: /dev/null
    expect_exit: int = None
    compare_connections: bool = False
    known_difference: str = ""
    fetch_exit: int = None
    fetch_connections: int = None  # with known_difference: connections opensock-fetch may make
    # What curl 7.88 runs in place of `args`, for options it does not have yet: the same
    # command line written without them (--variable's values expanded by hand).
    curl_args: tuple = None
    # The tools' LC_ALL: curl reads a host in Unicode in the locale's encoding.
    locale: str = "C"


# --------------------------------------------------------------------------------------
# Reply builders.


def reply(status=b"200 OK", *headers, body=b"", length=True, version=b"HTTP/1.1"):
    """A response with the given header lines, and Content-Length unless length=False."""
    head = version + b" " + status + b"\r\n"
    for header in headers:
        head += header + b"\r\n"
    if length:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def chunked(*pieces, trailers=(), extension=b"", headers=()):
    """A chunked 200 response carrying `pieces` as chunks."""
    body = b""
    for piece in pieces:
        body += b"%x%s\r\n%s\r\n" % (len(piece), extension, piece)
    body += b"0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"
    return reply(b"200 OK", b"Transfer-Encoding: chunked", *headers, body=body, length=False)


def redirect(code, location, body=b""):
    reason = {301: b"Moved Permanently", 302: b"Found", 303: b"See Other",
              307: b"Temporary Redirect", 308: b"Permanent Redirect"}[code]
    return reply(b"%d %s" % (code, reason), b"Location: " + location, body=body)


def serve(data):
    """A server answering every request with `data`."""
    return Server(routes={"*": data})


def once(*steps):
    """A server whose first connection follows `steps`."""
    return Server(connections=(steps,))


OK = reply(body=b"hello\n")
BIG = bytes(range(256)) * 4096  # 1 MiB, every byte value


def hops(code):
    """/a redirects to /b with `code`."""
    return Server(routes={"/a": redirect(code, b"/b", b"moved\n"), "/b": reply(body=b"at b\n")})


SCENARIOS = []


def scenario(name, *args, **options):
    SCENARIOS.append(Scenario(name, tuple(args), **options))


# --------------------------------------------------------------------------------------
# Bodies and their framing.

scenario("content_length", "{url}", server=serve(OK), expect_exit=0)
scenario("content_length_zero", "{url}", server=serve(reply()), expect_exit=0)
scenario("chunked", "{url}", server=serve(chunked(b"hel", b"lo ", b"world\n")), expect_exit=0)
scenario("chunked_extensions", "{url}",
         server=serve(chunked(b"hello", b" world\n", extension=b";name=value;flag")), expect_exit=0)
scenario("chunked_trailers", "{url}",
         server=serve(chunked(b"hello\n", trailers=(b"X-Checksum: 1", b"X-Other: two"))), expect_exit=0)
# -i writes the trailer fields after the body, without a blank line after them.
scenario("chunked_trailers_include", "-i", "{url}",
         server=serve(chunked(b"hello\n", trailers=(b"X-Checksum: 1",))), expect_exit=0)
scenario("chunked_uppercase_hex", "{url}",
         server=serve(reply(b"200 OK", b"Transfer-Encoding: chunked", length=False,
                            body=b"A\r\n0123456789\r\n0\r\n\r\n")), expect_exit=0)
scenario("close_delimited", "{url}",
         server=serve(reply(body=b"until the end\n", length=False)), expect_exit=0)
scenario("http10_reply", "-i", "{url}",
         server=serve(reply(b"200 OK", b"Server: old", body=b"from 1.0\n", length=False,
                            version=b"HTTP/1.0")), expect_exit=0)
scenario("http10_reply_content_length", "{url}",
         server=serve(reply(body=b"from 1.0\n", version=b"HTTP/1.0")), expect_exit=0)
scenario("large_body", "-s", "{url}", server=serve(reply(body=BIG)), expect_exit=0)
scenario("large_body_chunked", "-s", "{url}",
         server=serve(chunked(*(BIG[i:i + 65536] for i in range(0, len(BIG), 65536)))), expect_exit=0)
scenario("chunked_beats_content_length", "{url}",
         server=serve(reply(b"200 OK", b"Content-Length: 3", b"Transfer-Encoding: chunked", length=False,
                            body=b"6\r\nhello\n\r\n0\r\n\r\n")), expect_exit=0)
# "identity" names no coding: what is left frames the body.
scenario("identity_then_chunked", "-i", "{url}",
         server=serve(reply(b"200 OK", b"Transfer-Encoding: identity, chunked", length=False,
                            body=b"6\r\nhello\n\r\n0\r\n\r\n")), expect_exit=0)
scenario("identity_beside_content_length", "{url}",
         server=serve(reply(b"200 OK", b"Transfer-Encoding: identity", body=b"hello\n")),
         expect_exit=0)
scenario("chunked_twice", "{url}",
         server=serve(reply(b"200 OK", b"Transfer-Encoding: chunked, chunked", length=False,
                            body=b"6\r\nhello\n\r\n0\r\n\r\n")), expect_exit=0)
scenario("duplicate_equal_content_length", "{url}",
         server=serve(reply(b"200 OK", b"Content-Length: 6", b"Content-Length: 6", length=False,
                            body=b"hello\n")), expect_exit=0)
GZIPPED = bytes.fromhex("1f8b0800000000000003cb48cdc9c9e70200209d3a3606000000")  # "hello\n"
scenario("gzip_not_requested", "{url}", server=serve(reply(b"200 OK", b"Content-Encoding: gzip", body=GZIPPED)),
         expect_exit=0)
scenario("content_length_list", "{url}",
         server=serve(reply(b"200 OK", b"Content-Length: 6, 6", length=False, body=b"hello\n")), expect_exit=0)
scenario("fail_on_404", "-f", "{url}", server=serve(reply(b"404 Not Found", body=b"missing\n")), expect_exit=22)
scenario("fail_on_200", "--fail", "{url}", server=serve(OK), expect_exit=0)
scenario("no_fail_on_404", "{url}", server=serve(reply(b"404 Not Found", body=b"missing\n")), expect_exit=0)
scenario("fail_with_body_on_404", "--fail-with-body", "-o", "{out}", "{url}",
         server=serve(reply(b"404 Not Found", body=b"missing\n")), expect_exit=22)
scenario("fail_with_body_on_200", "--fail-with-body", "{url}", server=serve(OK), expect_exit=0)
scenario("fail_with_body_and_fail", "-f", "--fail-with-body", "{url}", server=serve(OK),
         expect_exit=2)
scenario("fail_with_body_after_redirect", "-L", "--fail-with-body", "-w", "%{http_code}\n",
         "{base}/a", expect_exit=22,
         server=Server(routes={"/a": redirect(302, b"/b"),
                               "/b": reply(b"500 Internal Server Error", body=b"oops\n")}))
# --max-filesize: a Content-Length above it is 63 before the body; newer curl also stops
# a body of no stated length once it grows past it (curl 7.88 lets it through).
scenario("max_filesize_exceeded", "--max-filesize", "5", "-i", "{url}", server=serve(OK),
         expect_exit=63)
scenario("max_filesize_met", "--max-filesize", "6", "{url}", server=serve(OK), expect_exit=0)
scenario("max_filesize_units", "--max-filesize", "1k", "{url}", server=serve(OK),
         expect_exit=0)
scenario("max_filesize_bad_unit", "--max-filesize", "5x", "{url}", server=serve(OK),
         expect_exit=2)
# Newer curl: the body of a redirect -L follows is not the file, it may be larger (curl
# 7.88 fails it with 63; it runs the same without the limit). The limit is judged once
# the head's fields are in.
scenario("max_filesize_redirect_body", "-L", "--max-filesize", "5", "{base}/a",
         server=Server(routes={"/a": redirect(301, b"/b", b"a body larger than five\n"),
                               "/b": reply(body=b"hej\n")}), expect_exit=0,
         curl_args=("-L", "{base}/a"))
scenario("max_filesize_redirect_not_followed", "--max-filesize", "5", "{base}/a",
         server=Server(routes={"/a": redirect(301, b"/b", b"a body larger than five\n")}),
         expect_exit=63)
scenario("max_filesize_chunked", "--max-filesize", "5", "{url}",
         server=serve(chunked(b"hel", b"lo ", b"world\n")), expect_exit=0,
         known_difference="a body of no stated length is stopped at --max-filesize",
         fetch_exit=63)

# --------------------------------------------------------------------------------------
# Interim responses, HEAD and bodiless statuses.

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
scenario("interim_100", "{url}", server=serve(CONTINUE + OK), expect_exit=0)
scenario("interim_100_include", "-i", "{url}", server=serve(CONTINUE + OK), expect_exit=0)
scenario("interim_103_include", "-i", "{url}", server=serve(HINTS + OK), expect_exit=0)
scenario("interim_two_include", "-i", "{url}", server=serve(CONTINUE + HINTS + OK), expect_exit=0)
scenario("interim_100_post", "-d", "a=b", "{url}", server=serve(CONTINUE + OK), expect_exit=0)
scenario("head", "-I", "{url}",
         server=serve(reply(b"200 OK", b"Content-Length: 6", b"X-Kind: head", length=False)), expect_exit=0)
scenario("head_include", "-I", "-i", "{url}",
         server=serve(reply(b"200 OK", b"Content-Length: 6", length=False)), expect_exit=0)
scenario("head_chunked", "-I", "{url}",
         server=serve(reply(b"200 OK", b"Transfer-Encoding: chunked", length=False)), expect_exit=0)
scenario("status_204", "-i", "{url}", server=serve(reply(b"204 No Content", length=False)), expect_exit=0)
# The body after a 204 is not output.
scenario("status_204_with_body", "{url}",
         server=once(READ, send(reply(b"204 No Content", body=b"ignored\n")), hold(2)), expect_exit=0)
scenario("status_304", "-i", "{url}",
         server=serve(reply(b"304 Not Modified", b"ETag: \"x\"", length=False)), expect_exit=0)
scenario("status_304_with_length", "{url}",
         server=serve(reply(b"304 Not Modified", b"Content-Length: 100", length=False)), expect_exit=0)

# --------------------------------------------------------------------------------------
# Redirects: the method and body of the follow-up request are compared too.

for code in (301, 302, 303, 307, 308):
    scenario(f"redirect_{code}_follow", "-L", "{base}/a", server=hops(code), expect_exit=0)
    scenario(f"redirect_{code}_post", "-L", "-d", "a=b", "{base}/a", server=hops(code), expect_exit=0)
# -X keeps its method on every hop, even where -d's POST becomes a GET without a body.
for code in (302, 303, 307):
    scenario(f"redirect_{code}_custom_post", "-L", "-X", "POST", "{base}/a", server=hops(code), expect_exit=0)
scenario("redirect_303_custom_post_data", "-L", "-X", "POST", "-d", "a=b", "{base}/a", server=hops(303),
         expect_exit=0)
scenario("redirect_301_put", "-L", "-X", "PUT", "-d", "x", "{base}/a", server=hops(301), expect_exit=0)
scenario("redirect_not_followed", "{base}/a", server=hops(302), expect_exit=0)
scenario("redirect_not_followed_include", "-i", "{base}/a", server=hops(301), expect_exit=0)
scenario("redirect_include_all_heads", "-i", "-L", "{base}/a", server=hops(302), expect_exit=0)
scenario("redirect_relative_path", "-L", "{base}/c/x", expect_exit=0,
         server=Server(routes={"/c/x": redirect(302, b"d"), "/c/d": reply(body=b"at c/d\n")}))
scenario("redirect_dot_dot", "-L", "{base}/c/x/y", expect_exit=0,
         server=Server(routes={"/c/x/y": redirect(302, b"../d?q=1"), "/c/d": reply(body=b"at c/d\n")}))
scenario("redirect_absolute_same_origin", "-L", "{base}/a", expect_exit=0, compare_connections=True,
         server=Server(routes={"/a": redirect(301, b"http://127.0.0.1:{port}/b"), "/b": reply(body=b"b\n")}))
scenario("redirect_keeps_connection", "-L", "{base}/a", server=hops(302), expect_exit=0,
         compare_connections=True)
scenario("redirect_cross_origin_drops_authorization", "-L", "-H", "Authorization: x", "{base}/a",
         expect_exit=0,
         server=Server(routes={"/a": redirect(302, b"http://127.0.0.1:{port2}/b")}),
         server2=serve(reply(body=b"other origin\n")))
scenario("redirect_same_origin_keeps_authorization", "-L", "-H", "Authorization: x", "{base}/a",
         server=hops(307), expect_exit=0)
scenario("redirect_max_redirs_exceeded", "-L", "--max-redirs", "1", "{base}/1", expect_exit=47,
         server=Server(routes={"/1": redirect(302, b"/2", b"one\n"), "/2": redirect(302, b"/3", b"two\n"),
                               "/3": reply(body=b"three\n")}))
scenario("redirect_max_redirs_zero", "-L", "--max-redirs", "0", "{base}/a", server=hops(301), expect_exit=47)
scenario("redirect_max_redirs_enough", "-L", "--max-redirs", "2", "{base}/1", expect_exit=0,
         server=Server(routes={"/1": redirect(302, b"/2"), "/2": redirect(302, b"/3"),
                               "/3": reply(body=b"three\n")}))
scenario("redirect_scheme_relative", "-L", "-i", "{base}/a", expect_exit=0,
         server=Server(routes={"/a": redirect(301, b"//127.0.0.1:{port2}/b")}),
         server2=serve(reply(body=b"other origin\n")))
scenario("redirect_to_404_fail", "-f", "-L", "{base}/a", expect_exit=22,
         server=Server(routes={"/a": redirect(302, b"/b"), "/b": reply(b"404 Not Found", body=b"gone\n")}))
scenario("redirect_not_followed_write_out", "-s", "-w", "%{http_code} %{num_redirects} %{url_effective}\\n",
         "{base}/a", server=hops(302), expect_exit=0)
# A redirect whose body runs to a close the server holds back (longer than a tool may
# run): followed once its first body bytes come (curl) or its head (opensock-fetch).
scenario("redirect_close_body_held", "-L", "-i", "{base}/a", expect_exit=0,
         server=Server(connections=((READ, send(reply(b"302 Found", b"Location: /b", b"Connection: close",
                                                      body=b"moved\n", length=False)), hold(30)),),
                       routes={"/b": reply(body=b"at b\n")}))
scenario("redirect_head", "-I", "{base}/a", server=hops(301), expect_exit=0)
scenario("redirect_write_out", "-s", "-L", "-o", "{out}", "-w",
         "%{http_code} %{num_redirects} %{url_effective}\\n", "{base}/a", server=hops(308), expect_exit=0)

# --------------------------------------------------------------------------------------
# Malformed replies.

# curl 7.88 answers every malformed status line with 1 (unsupported protocol), a header
# line without a colon with 8, and a header line over 100 KiB with 27 (out of memory).
scenario("status_http_1_2", "{url}", server=serve(b"HTTP/1.2 200 OK\r\nContent-Length: 3\r\n\r\nhi\n"),
         expect_exit=1)
scenario("status_four_digits", "{url}", server=serve(b"HTTP/1.1 2000 X\r\nContent-Length: 3\r\n\r\nhi\n"),
         expect_exit=1)
scenario("status_garbage", "{url}", server=serve(b"garbage that is not http\r\n\r\n"), expect_exit=1)
scenario("status_not_http", "{url}", server=serve(b"SSH-2.0-OpenSSH_9.2p1\r\n"), expect_exit=1)
scenario("header_without_colon", "{url}",
         server=serve(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nNoColonHere\r\n\r\nhi\n"), expect_exit=8)
scenario("header_obs_fold", "-i", "{url}",
         server=serve(b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nContent-Length: 3\r\n\r\nhi\n"),
         expect_exit=0)
scenario("header_long_line", "-i", "{url}",
         server=serve(reply(b"200 OK", b"X-Long: " + b"v" * 60000, body=b"hi\n")), expect_exit=0)
scenario("header_line_too_long", "{url}",
         server=serve(reply(b"200 OK", b"X-Long: " + b"v" * 110000, body=b"hi\n")), expect_exit=27,
         known_difference="a header line too long is 100, as newer curl says", fetch_exit=100)
scenario("short_body", "{url}", server=once(READ, send(reply(body=b"hello\n")[:-3])), expect_exit=18)
scenario("short_chunked_body", "{url}",
         server=once(READ, send(chunked(b"hello world\n")[:-12])), expect_exit=18)
scenario("empty_reply", "{url}", server=once(READ, CLOSE), expect_exit=52)
# A close before a final status line came whole is an empty reply (52), after interim
# responses too. curl takes a head cut short for a response (0, or 18 once a
# Content-Length was in it); opensock fails it (8).
scenario("close_inside_status_line", "{url}", server=once(READ, send(b"HTTP/1.1 200 O"), CLOSE),
         expect_exit=52)
scenario("close_after_interim_response", "{url}",
         server=once(READ, send(b"HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\n"), CLOSE),
         expect_exit=52)
scenario("close_inside_head", "{url}", server=once(READ, send(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n"),
                                                   CLOSE), expect_exit=0,
         known_difference="a head cut short is an error", fetch_exit=8)
# As newer curl: what follows an interim response must be HTTP (curl 7.88: 1), and two
# Location fields are refused (curl 7.88 takes one).
scenario("not_http_after_interim_response", "{url}",
         server=once(READ, send(b"HTTP/1.1 100 Continue\r\n\r\nData\nData\n"), CLOSE),
         expect_exit=1, known_difference="not HTTP after an interim response is 8",
         fetch_exit=8)
scenario("two_locations", "{url}",
         server=serve(reply(b"200 OK", b"Location: this", b"Location: that")), expect_exit=0,
         known_difference="two Location fields that differ are 8", fetch_exit=8)
scenario("two_same_locations", "-i", "{url}",
         server=serve(reply(b"200 OK", b"Location: this", b"Location: this")), expect_exit=0)
scenario("reset_before_anything", "{url}", server=once(READ, RESET), expect_exit=56)
scenario("reset_after_headers", "{url}",
         server=once(READ, send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart\n"), pause(0.3), RESET),
         expect_exit=56)
scenario("bad_chunk_size", "{url}",
         server=serve(reply(b"200 OK", b"Transfer-Encoding: chunked", length=False, body=b"zz\r\nhello\r\n0\r\n\r\n")),
         expect_exit=56)
scenario("close_after_n_bytes_in_body", "{url}",
         server=once(READ, send(reply(body=b"0123456789" * 10)[:60]), CLOSE), expect_exit=18)

# Hostile replies, on a connection the server keeps open: each must end at once.
scenario("header_with_nul", "{url}", expect_exit=8,
         server=once(READ, send(b"HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 3\r\n\r\nhi\n"),
                     hold(3)))
scenario("content_length_folded", "{url}", expect_exit=8,
         server=once(READ, send(b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 3\r\n\r\nhi\n"), hold(3)))
scenario("chunked_then_unknown_coding", "{url}", expect_exit=61,
         server=once(READ, send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, other\r\n\r\n"
                                b"3\r\nhi\n\r\n0\r\n\r\n"), hold(3)))
scenario("http09_reply", "{url}", server=once(READ, send(b"hello\n"), CLOSE), expect_exit=1)
scenario("http09_allowed", "--http0.9", "-i", "{url}", server=once(READ, send(b"hello\n"), CLOSE),
         expect_exit=0)
scenario("http09_allowed_head", "--http0.9", "-I", "{url}",
         server=once(READ, send(b"hello\n"), CLOSE), expect_exit=8)
scenario("status_http_2", "{url}", server=serve(b"HTTP/2 200\r\nContent-Length: 3\r\n\r\nhi\n"),
         expect_exit=0)
scenario("location_with_space", "-L", "{base}/a", expect_exit=0,
         server=Server(routes={"/a": redirect(302, b"/b c?d e"), "*": OK}))
scenario("fail_after_redirect_write_out", "-s", "-L", "-f", "-w", "%{http_code}\\n", "{base}/a",
         expect_exit=22,
         server=Server(routes={"/a": redirect(302, b"/b"), "*": reply(b"404 Not Found", body=b"no\n")}))
scenario("include_header_without_colon", "-i", "{url}", expect_exit=8,
         server=serve(b"HTTP/1.1 200 OK\r\nX-A: 1\r\nNoColonHere\r\nContent-Length: 3\r\n\r\nhi\n"))
scenario("host_percent_encoded", "http://%31%32%37.0.0.1:{port}/", server=serve(OK), expect_exit=0)
scenario("host_ipv4_short", "http://127.1:{port}/", server=serve(OK), expect_exit=0)
scenario("host_ipv4_hex", "http://0x7f.0.0.1:{port}/", server=serve(OK), expect_exit=0)
scenario("host_ipv4_octal", "http://0177.0.0.01:{port}/", server=serve(OK), expect_exit=0)
scenario("host_ipv4_number", "http://2130706433:{port}/", server=serve(OK), expect_exit=0)

# --------------------------------------------------------------------------------------
# Timeouts and connection failures (short, to keep the run quick).

scenario("timeout_no_answer", "-m", "1", "{url}", server=once(READ, hold(5)), expect_exit=28)
scenario("timeout_slow_body", "-m", "1", "{url}", expect_exit=28,
         server=once(READ, send(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nfirst "), pause(0.2),
                     send(b"half"), hold(5)))
scenario("slow_but_in_time", "-m", "5", "{url}", expect_exit=0,
         server=once(READ, send(b"HTTP/1.1 200 OK\r\nContent-Len"), pause(0.2), send(b"gth: 6\r\n\r\nhel"),
                     pause(0.2), send(b"lo\n")))
scenario("connect_timeout", "--connect-timeout", "1", "http://127.0.0.1:{silent_port}/", expect_exit=28)
scenario("connect_timeout_write_out", "-s", "--connect-timeout", "1", "-w", "%{http_code} %{exitcode}\\n",
         "http://127.0.0.1:{silent_port}/", expect_exit=28)
scenario("refused", "http://127.0.0.1:{closed_port}/", expect_exit=7)
scenario("refused_silent_show_error", "-sS", "http://127.0.0.1:{closed_port}/", expect_exit=7)
scenario("refused_silent", "-s", "http://127.0.0.1:{closed_port}/", expect_exit=7)

# --retry: transient failures tried again (the first after 1 s, or --retry-delay, or a
# longer Retry-After); the body of each attempt is written, an output file started over.
BUSY = reply(b"503 Service Unavailable", body=b"busy\n")
scenario("retry_503_then_ok", "--retry", "2", "{url}",
         server=Server(routes={"*": OK}, connections=((READ, send(BUSY)),)), expect_exit=0,
         compare_connections=True)
scenario("retry_503_into_file", "--retry", "1", "-o", "{out}", "{url}",
         server=Server(routes={"*": OK}, connections=((READ, send(BUSY)),)), expect_exit=0)
scenario("retry_fail_500_spent", "-f", "--retry", "1", "{url}",
         server=serve(reply(b"500 Internal Server Error", body=b"no\n")), expect_exit=22,
         compare_connections=True)
scenario("retry_404_not_retried", "--retry", "3", "{url}",
         server=serve(reply(b"404 Not Found", body=b"gone\n")), expect_exit=0,
         compare_connections=True)
scenario("retry_after_429", "--retry", "1", "--retry-delay", "1", "{url}",
         server=Server(routes={"*": OK}, connections=(
             (READ, send(reply(b"429 Too Many Requests", b"Retry-After: 2", body=b"slow\n"))),)),
         expect_exit=0, compare_connections=True)
scenario("retry_after_past_max_time", "--retry", "3", "--retry-max-time", "2", "{url}",
         server=serve(reply(b"503 Service Unavailable", b"Retry-After: 30", body=b"later\n")),
         expect_exit=0, compare_connections=True)
scenario("retry_reset_not_retried", "--retry", "2", "{url}",
         server=Server(routes={"*": OK}, connections=((READ, RESET),)), expect_exit=56,
         compare_connections=True)
scenario("retry_all_errors", "--retry", "2", "--retry-all-errors", "{url}",
         server=Server(routes={"*": OK}, connections=((READ, RESET),)), expect_exit=0,
         compare_connections=True)
scenario("retry_connrefused", "--retry", "1", "--retry-connrefused", "--retry-delay", "1",
         "http://127.0.0.1:{closed_port}/", expect_exit=7)
scenario("retry_refused_not_retried", "--retry", "2", "http://127.0.0.1:{closed_port}/",
         expect_exit=7)
scenario("retry_write_out", "-s", "--retry", "1", "-w", "%{http_code} %{num_connects}\n",
         "{url}", server=Server(routes={"*": OK}, connections=((READ, send(BUSY)),)),
         expect_exit=0)
scenario("retry_missing_upload", "--retry", "3", "--retry-all-errors", "-T", "nothing-here",
         "{url}", server=serve(OK), expect_exit=26)
scenario("retry_bad_count", "--retry", "x", "{url}", server=serve(OK), expect_exit=2)
# -z/--time-cond: If-Modified-Since (or '-': If-Unmodified-Since, '=': Last-Modified)
# from a date in any of curl's forms; a response whose Last-Modified fails the condition
# is not written and counts as a 304.
OLD_DOC = reply(b"200 OK", b"Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT", body=b"old\n")
scenario("time_cond_date", "-z", "Sun, 06 Nov 1994 08:49:37 GMT", "{url}", server=serve(OK),
         expect_exit=0)
scenario("time_cond_forms", "-z", "-Sunday, 06-Nov-94 08:49:37 EST", "{base}/a", "-z",
         "19941106", "{base}/b", server=serve(OK), expect_exit=0)
scenario("time_cond_zone_offset", "-z", "dec 12 12:00:00 1999 +0130", "{url}",
         server=serve(OK), expect_exit=0)
scenario("time_cond_last_modified", "-z", "=Nov 6 1994", "{url}", server=serve(OK),
         expect_exit=0)
scenario("time_cond_not_a_date", "-z", "not a date", "{url}", server=serve(OK), expect_exit=0)
scenario("time_cond_own_header", "-H", "If-Modified-Since: mine", "-z", "19941106", "{url}",
         server=serve(OK), expect_exit=0)
scenario("time_cond_not_new_enough", "-z", "Mon, 07 Nov 1994 00:00:00 GMT", "-o", "{out}",
         "-w", "%{http_code}\n", "{url}", server=serve(OLD_DOC), expect_exit=0)
scenario("time_cond_new_enough", "-z", "Sat, 05 Nov 1994 00:00:00 GMT", "-w",
         "%{http_code}\n", "{url}", server=serve(OLD_DOC), expect_exit=0)
# -R: the file takes the document's time; without a Last-Modified it keeps its own.
scenario("remote_time", "-R", "-o", "doc", "{url}", server=serve(OLD_DOC), expect_exit=0)
scenario("remote_time_none", "-R", "-O", "{base}/none", server=serve(OK), expect_exit=0)
scenario("time_cond_not_old_enough", "-z", "-Sat, 05 Nov 1994 00:00:00 GMT", "-i", "{url}",
         server=serve(OLD_DOC), expect_exit=0)
scenario("time_cond_range_unchecked", "-z", "Mon, 07 Nov 1994 00:00:00 GMT", "-r", "0-1",
         "{url}", server=serve(OLD_DOC), expect_exit=0)

# --next (-:): groups of options and URLs, each with its own flags but the global ones.
scenario("next_headers_per_group", "-H", "X-One: 1", "{base}/a", "--next", "-H", "X-Two: 2",
         "{base}/b", server=serve(OK), expect_exit=0)
scenario("next_data_then_get", "-d", "x=1", "{base}/a", "-:", "{base}/b", server=serve(OK),
         expect_exit=0)
scenario("next_outputs", "-o", "{out}", "{base}/a", "--next", "-o", "{out2}", "-i", "{base}/b",
         server=serve(OK), expect_exit=0)
scenario("next_silent_is_global", "{url}", "--next", "-s",
         "http://127.0.0.1:{closed_port}/", server=serve(OK), expect_exit=7)
scenario("next_last_code", "http://127.0.0.1:{closed_port}/", "--next", "{url}",
         server=serve(OK), expect_exit=0)
# curl 7.88 takes the URL after --next for the group before it too (-O fails it with 23);
# newer curl refuses the command line (2, "missing URL before --next").
scenario("next_group_without_url", "-O", "-I", "--next", "{url}", server=serve(OK),
         expect_exit=23, known_difference="a group without a URL is a usage error",
         fetch_exit=2)
# --variable and --expand-FLAG (newer curl): curl 7.88 runs the expanded command line.
scenario("variable_text", "--variable", "v=hello world", "--expand-data", "x={{v}}&y=\\{{v}}",
         "{url}", curl_args=("-d", "x=hello world&y={{v}}", "{url}"), server=serve(OK),
         expect_exit=0)
scenario("variable_functions", "--variable", "v@in.txt", "--expand-data",
         "{{v:trim:url}}|{{v:trim:json}}|{{v:b64}}|{{none}}", "--expand-header",
         "X-V: {{v:trim}}", "{url}", files={"in.txt": b'  a "b"\tc/d\n'},
         curl_args=("-d", 'a%20%22b%22%09c%2Fd|a \\"b\\"\\tc/d|ICBhICJiIgljL2QK|', "-H",
                    'X-V: a "b"\tc/d', "{url}"),
         server=serve(OK), expect_exit=0)
scenario("variable_range_and_env", "--variable", "r[2-4]=0123456789", "--variable", "%HOME",
         "--variable", "%OPENSOCK_UNSET_VARIABLE=fallback", "--expand-url",
         "{url}{{r}}/{{OPENSOCK_UNSET_VARIABLE}}",
         curl_args=("{url}234/fallback",), server=serve(OK), expect_exit=0)
scenario("variable_64dec", "--variable", "v=aGVsbG8=", "--variable", "w=%%%", "--expand-url",
         "{url}{{v:64dec}}/{{w:64dec}}", "-g", curl_args=("-g", "{url}hello/[64dec-fail]"),
         server=serve(OK), expect_exit=0)
scenario("variable_unknown_function", "--variable", "v=1", "--expand-data", "{{v:nope}}",
         "{url}", curl_args=("--no-such-option", "{url}"), server=serve(OK), expect_exit=2)
scenario("variable_unset_import", "--variable", "%OPENSOCK_UNSET_VARIABLE", "{url}",
         curl_args=("--no-such-option", "{url}"), server=serve(OK), expect_exit=2)

# HTTP/1.0 requests (-0), --request-target, --path-as-is.
scenario("http1_0_get", "-0", "{base}/a", "{base}/b", server=serve(OK), expect_exit=0,
         compare_connections=True)
scenario("http1_0_post", "--http1.0", "-d", "x=1", "{url}", server=serve(OK), expect_exit=0)
scenario("http1_0_upload_file", "-0", "-T", "up.txt", "{base}/u", files={"up.txt": b"up\n"},
         server=serve(OK), expect_exit=0)
scenario("http1_0_upload_stdin", "-0", "-T", "-", "{base}/u", stdin=b"in\n", server=serve(OK),
         expect_exit=25)
# A body over 1 MiB asks for a 100 (Continue): sent when none comes in time, and after a
# 417 sent again without Expect, the refused connection closed without it.
scenario("expect_100_timeout", "-T", "big.bin", "--expect100-timeout", "0.2", "{url}",
         files={"big.bin": BIG + b"!"}, server=serve(OK), expect_exit=0)
scenario("expect_417_sent_again", "-T", "big.bin", "--expect100-timeout", "30", "{url}",
         files={"big.bin": BIG + b"!"},
         server=Server(routes={"*": OK}, connections=(
             (READ_HEAD, send(reply(b"417 Expectation Failed")), CLOSE),)),
         compare_connections=True, expect_exit=0)
scenario("http1_1_after_1_0", "-0", "--http1.1", "{url}", server=serve(OK), expect_exit=0)
scenario("request_target_star", "-X", "OPTIONS", "--request-target", "*", "{base}/x?y",
         server=serve(OK), expect_exit=0)
scenario("request_target_path", "--request-target", "/other?q=1", "{base}/x", server=serve(OK),
         expect_exit=0)
scenario("path_as_is", "--path-as-is", "{base}/a/../b/./c/", server=serve(OK), expect_exit=0)
scenario("path_dots_removed", "{base}/a/../b/./c/", server=serve(OK), expect_exit=0)

# Output files: --no-clobber (NAME.1 and on beside a file there), --remove-on-error.
scenario("no_clobber", "--no-clobber", "-o", "out.txt", "{base}/1", "-o", "out.txt", "{base}/2",
         files={"out.txt": b"kept\n", "out.txt.1": b"kept too\n"}, server=serve(OK),
         expect_exit=0)
scenario("remove_on_error", "--remove-on-error", "-f", "-o", "out.txt", "{url}",
         server=serve(reply(b"404 Not Found", body=b"gone\n")), expect_exit=22)
scenario("remove_on_error_partial", "--remove-on-error", "-o", "out.txt", "{url}",
         server=once(READ, send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart"), CLOSE),
         expect_exit=18)
scenario("remove_on_error_success", "--remove-on-error", "-o", "out.txt", "{url}",
         server=serve(OK), expect_exit=0)
scenario("no_progress_meter", "--no-progress-meter", "{url}", server=serve(OK), expect_exit=0)
scenario("clobber_after_no_clobber", "--no-clobber", "--clobber", "-o", "out.txt", "{url}",
         files={"out.txt": b"old\n"}, server=serve(OK), expect_exit=0)
scenario("remote_name_all", "--remote-name-all", "{base}/one.txt", "-o", "x.txt",
         "{base}/two.txt", "{base}/three.txt", server=serve(OK), expect_exit=0)
scenario("disallow_username", "--disallow-username-in-url", "http://user:pw@127.0.0.1:{port}/",
         server=serve(OK), expect_exit=67)
scenario("disallow_username_none_given", "--disallow-username-in-url", "{url}",
         server=serve(OK), expect_exit=0)
scenario("no_http09", "--no-http0.9", "{url}", server=serve(OK), expect_exit=0)
scenario("out_null", "--out-null", "{base}/a", "-o", "b.txt", "{base}/b",
         curl_args=("-o", "/dev/null", "{base}/a", "-o", "b.txt", "{base}/b"), server=serve(OK),
         expect_exit=0)
# Redirects: --post301/302/303 keep a POST a POST.
scenario("post301", "-L", "--post301", "-d", "x=1", "{base}/a", server=hops(301), expect_exit=0)
scenario("post302_not_301", "-L", "--post302", "-d", "x=1", "{base}/a", server=hops(301),
         expect_exit=0)
scenario("post303", "-L", "--post303", "-d", "x=1", "{base}/a", server=hops(303), expect_exit=0)

# -K/--config: curl's config files, their flags read in place of -K.
CONFIG = (b"# a comment\n\n  -H \"X-A: one\"\nheader: \"X-B: two\\tq\\\"\"\n"
          b"user-agent = \"agent; with spaces\"\n--data-raw hello\nrequest=PUT\n")
scenario("config_file", "-K", "cfg", "{url}", files={"cfg": CONFIG}, server=serve(OK),
         expect_exit=0)
scenario("config_stdin", "-K", "-", "{url}", stdin=CONFIG, server=serve(OK), expect_exit=0)
scenario("config_nested_and_next", "-K", "a.cfg", "{base}/1", "--next", "-K", "b.cfg",
         "{base}/2", files={"a.cfg": b"-H \"X-From: a\"\nconfig = b.cfg\n",
                           "b.cfg": b"data = \"from b\"\n"}, server=serve(OK), expect_exit=0)
scenario("config_then_command_line", "-K", "cfg", "-H", "X-Later: 1", "{url}",
         files={"cfg": b"silent\n-o out.txt\n"}, server=serve(OK), expect_exit=0)
scenario("config_unknown_flag", "-K", "cfg", "{url}", files={"cfg": b"--no-such-flag\n"},
         server=serve(OK), expect_exit=0,
         known_difference="an unknown flag in a config file is an error, as in newer curl",
         fetch_exit=2)
scenario("config_missing", "-K", "nothing-here", "{url}", server=serve(OK), expect_exit=26)

# Newer curl's flags, compared with the command line curl 7.88 needs for the same
# request: --show-headers is -i; --url-query adds to the query; --skip-existing makes
# no transfer for a file that is there; --follow is -L dropping -X once a redirect
# makes the request a GET (7.88 keeps -X: -L without -X shows the same requests).
scenario("show_headers", "--show-headers", "{url}", curl_args=("-i", "{url}"),
         server=serve(OK), expect_exit=0)
scenario("url_query", "--url-query", "a=b c", "--url-query", "+raw&x", "{base}/p?q=1",
         curl_args=("{base}/p?q=1&a=b+c&raw&x",), server=serve(OK), expect_exit=0)
scenario("skip_existing", "--skip-existing", "-o", "there.txt", "{base}/1", "-o", "new.txt",
         "{base}/2", files={"there.txt": b"old\n"}, curl_args=("-o", "new.txt", "{base}/2"),
         server=serve(OK), expect_exit=0)
scenario("follow_drops_method", "--follow", "-X", "POST", "-d", "x=1", "{base}/a",
         curl_args=("-L", "-d", "x=1", "{base}/a"), server=hops(302), expect_exit=0)
scenario("follow_keeps_method", "--follow", "-X", "PATCH", "-d", "x=1", "{base}/a",
         curl_args=("-L", "-X", "PATCH", "-d", "x=1", "{base}/a"), server=hops(307),
         expect_exit=0)

# --trace, --trace-ascii: curl's form, but of what opensock-fetch sees (its own connection
# lines, bodies as decoded): the files are not compared.
scenario("trace_ascii", "--trace-ascii", "trace.txt", "--trace-time", "{url}", server=serve(OK),
         expect_exit=0, known_difference="the trace's lines are opensock-fetch's", fetch_exit=0)
scenario("trace_hex_stdout", "-s", "--trace", "-", "{url}", server=serve(OK), expect_exit=0,
         known_difference="the trace's lines are opensock-fetch's", fetch_exit=0)

# --name=value: newer curl reads it; curl 7.88 does not know the flag.
scenario("flag_equals_value", "--max-time=5", "-H", "X: y", "--header=X-Two: z", "{url}",
         server=serve(OK), expect_exit=2,
         known_difference="--name=value is read, as newer curl reads it", fetch_exit=0)
scenario("globoff", "-g", "{base}/a[1-2]{x,y}", server=serve(OK), expect_exit=0)
# Redirects: an empty Location leads nowhere; "://" in a relative one's query.
scenario("location_empty", "-L", "-i", "{url}",
         server=serve(reply(b"302 Found", b"Location: ", body=b"stay\n")), expect_exit=0)
scenario("location_relative_with_colon_slash_slash", "-L", "{base}/dir/a",
         server=Server(routes={"/dir/a": redirect(301, b"b.cgi?u=http://&/x"),
                               "*": reply(body=b"followed\n")}), expect_exit=0)
# The local port differs from run to run: its address alone is compared.
scenario("write_out_local_end", "-w", "%{local_ip}\n", "{base}/a", "{base}/b",
         server=serve(OK), expect_exit=0)
# URL globs: sets, ranges (padded, letters, steps), several in one URL, #N in -o.
scenario("glob_set", "{base}/{one,two,three}", server=serve(OK), expect_exit=0,
         compare_connections=True)
scenario("glob_range_into_files", "{base}/[1-3]", "-o", "out_#1.txt", server=serve(OK),
         expect_exit=0)
scenario("glob_padded_and_letters", "{base}/[08-10]/[a-e:2]", "-o", "f_#2_#1_#3", server=serve(OK),
         expect_exit=0)
scenario("glob_numbers_step", "{base}/[1-10:4]", server=serve(OK), expect_exit=0)
scenario("glob_with_plain_url", "{base}/{a,b}", "{base}/c", "-o", "first_#1", server=serve(OK),
         expect_exit=0)
scenario("glob_escaped", "{base}/\\{x\\}\\[1\\]", server=serve(OK), expect_exit=0)
scenario("glob_empty_brackets", "{base}/a[]b", server=serve(OK), expect_exit=0)
scenario("glob_bad_range", "{base}/[2-1]", server=serve(OK), expect_exit=3)
scenario("glob_unmatched", "{base}/{a,b", server=serve(OK), expect_exit=3)
scenario("glob_nested", "{base}/{a,{b,c}}", server=serve(OK), expect_exit=3)
scenario("glob_close_alone", "{base}/a}b", server=serve(OK), expect_exit=3)
scenario("glob_empty_set", "{base}/{}", server=serve(OK), expect_exit=3)
# Named globs (newer curl): "{<name>...}" and "[<name>...]", "#<name>" in -o; curl 7.88
# runs the same with the globs unnamed and #N.
scenario("glob_named", "{base}/{<word>a,b}/[<n>1-2]", "-o", "f_#<n>_#<word>_#1",
         server=serve(OK), expect_exit=0, curl_args=("{base}/{a,b}/[1-2]", "-o", "f_#2_#1_#1"))
scenario("glob_named_twice", "{base}/{<x>a,b}{<x>c,d}", server=serve(OK), expect_exit=0,
         known_difference="a glob name given twice is 3", fetch_exit=3)
scenario("glob_name_not_set", "{base}/{<x>a,b}", "-o", "f_#<y>", server=serve(OK),
         expect_exit=0, known_difference="an -o name with a glob name no glob has is 43",
         fetch_exit=43)
scenario("glob_ipv6_host", "http://[::1]:{port}/{a,b}", server=serve(OK), family="inet6",
         expect_exit=0)

# --------------------------------------------------------------------------------------
# Name overrides, address families, Unix sockets.

# A host in Unicode goes in its IDNA form (libidn2), and -w shows it as written;
# --connect-to takes the connection to the server without resolving the name.
scenario("idn_host", "--connect-to", "::127.0.0.1:{port}", "-w", "%{url_effective}\n",
         "http://\u00e5\u00e4\u00f6.test:{port}/idn", server=serve(OK), locale="C.UTF-8",
         expect_exit=0)
scenario("idn_host_sharp_s", "--connect-to", "::127.0.0.1:{port}",
         "http://stra\u00dfe.test:{port}/", server=serve(OK), locale="C.UTF-8", expect_exit=0)
scenario("idn_host_refused", "--connect-to", "::127.0.0.1:{port}", "http://a\ufffd.test:{port}/",
         server=serve(OK), locale="C.UTF-8", expect_exit=3)
scenario("resolve", "--resolve", "{long_host}:{port}:127.0.0.1", "http://{long_host}:{port}/",
         server=serve(OK), expect_exit=0)
scenario("resolve_other_name", "--resolve", "other.test:{port}:127.0.0.1", "http://{long_host}:{port}/",
         server=serve(OK), expect_exit=6)
scenario("resolve_other_port", "--resolve", "{long_host}:1:127.0.0.1", "http://{long_host}:{port}/",
         server=serve(OK), expect_exit=6)
scenario("connect_to", "--connect-to", "{long_host}:80:127.0.0.1:{port}", "http://{long_host}/",
         server=serve(OK), expect_exit=0)
scenario("connect_to_any", "--connect-to", "::127.0.0.1:{port}", "http://{long_host}:8080/x",
         server=serve(OK), expect_exit=0)
scenario("connect_to_bad_port", "--connect-to", "::127.0.0.1:x", "{url}", server=serve(OK),
         expect_exit=49)
scenario("connect_to_other_port", "--connect-to", "{long_host}:81:127.0.0.1:{port}", "http://{long_host}/",
         server=serve(OK), expect_exit=6)
scenario("ipv4", "-4", "{url}", server=serve(OK), expect_exit=0)
scenario("ipv6", "-6", "-w", "%{remote_ip}\\n", "{url}", family="inet6", server=serve(OK), expect_exit=0)
scenario("unix_socket", "--unix-socket", "{sock}", "http://localhost/path", family="unix",
         server=serve(OK), expect_exit=0)

# --------------------------------------------------------------------------------------
# Output options.

WRITE_OUT = "%{http_code} %{num_redirects} %{url_effective} %{size_download} %{remote_ip} %{remote_port} %{exitcode}\\n"
scenario("write_out_variables", "-s", "-w", WRITE_OUT, "{url}", server=serve(OK), expect_exit=0)
# With nothing connected, %{remote_ip} is empty and %{remote_port} 0.
scenario("write_out_on_refused", "-s", "-w", WRITE_OUT, "http://127.0.0.1:{closed_port}/x", expect_exit=7)
scenario("write_out_literal_text", "-s", "-o", "{out}", "-w", "code=%{http_code}\\tdone\\r\\n100%%\\n",
         "{url}", server=serve(OK), expect_exit=0)
scenario("write_out_404", "-s", "-o", "{out}", "-w", "%{http_code}", "{url}",
         server=serve(reply(b"404 Not Found", body=b"missing\n")), expect_exit=0)
scenario("write_out_size_chunked", "-s", "-o", "{out}", "-w", "%{size_download} %{http_code}\\n", "{url}",
         server=serve(chunked(b"hello", b" world\n")), expect_exit=0)

# -w's other variables. Where curl 7.88 lacks one, curl_args has it print the same text:
# through a variable it has that holds the same value, or as the text newer curl prints
# (its own tests'), written out.
EMPTY = serve(reply(body=b""))
# %{url} as given (a glob's URL expanded, one without a scheme as it is), %{urlnum} the
# place on the command line (shared by a glob's URLs), %{url_effective} with its fragment.
scenario("write_out_url_and_urlnum", "-s", "-w", "%{urlnum} %{url} %{url_effective}\\n",
         "{base}/{a,b}", "127.0.0.1:{port}/c/../d#frag", "{base}/e[1-2]", server=EMPTY,
         expect_exit=0)
# -G's query is in %{url} too, before the fragment; the -o file is %{filename_effective}
# (none for stdout; a file not made as the connection was refused still named).
scenario("write_out_url_with_query", "-s", "-G", "-d", "x=1", "-o", "{out}", "-w",
         "%{url} %{url_effective} [%{filename_effective}]\\n", "{base}/a?b=2#frag", "{base}/c",
         server=EMPTY, expect_exit=0)
scenario("write_out_filename_refused", "-s", "-o", "{out}", "-w",
         "[%{filename_effective}] [%{scheme}] [%{method}] %{exitcode}\\n",
         "http://127.0.0.1:{closed_port}/x", expect_exit=7)
scenario("write_out_filename_remote_name", "-s", "-O", "-w", "%{filename_effective}\\n",
         "{base}/dir/name.txt", server=serve(OK), expect_exit=0)
# %{method} is the last request's: a POST a 302 turned into a GET is a GET (curl's test
# 1197), -X's stays; %{size_upload} is the last request's body, %{size_request} every
# request's bytes; %{referer} -e's, then -e ;auto's (curl's test 2081: no credentials, no
# fragment).
scenario("write_out_method_after_redirect", "-s", "-A", "ua", "-L", "-d", "twinkle", "-w",
         "%{method} %{size_upload} %{size_request} %{num_redirects}\\n", "{base}/a",
         server=hops(302), expect_exit=0)
scenario("write_out_custom_method_after_redirect", "-s", "-A", "ua", "-L", "-X", "PATCH", "-d",
         "twinkle", "-w", "%{method} %{size_upload} %{size_request}\\n", "{base}/a",
         server=hops(307), expect_exit=0)
scenario("write_out_head_method", "-s", "-A", "ua", "-I", "-w", "%{method} %{size_request}\\n",
         "{url}", server=serve(OK), expect_exit=0)
scenario("write_out_referer", "-s", "-e", "first;auto", "-w", "[%{referer}]\\n", "-L",
         "http://user:pass@127.0.0.1:{port}/a#anchor", "{base}/b", server=hops(301),
         expect_exit=0)
scenario("write_out_referer_none", "-s", "-w", "[%{referer}]\\n", "-H", "Referer: set", "{url}",
         server=serve(OK), expect_exit=0)
# %{redirect_url} without -L, also for a scheme opensock does not speak (curl's test 1159)
# and written back as curl writes it, and when --max-redirs stops -L (test 1261, 47).
scenario("write_out_redirect_url_fragment", "-s", "-w", "%{redirect_url}\\n", "{base}/a#y",
         server=serve(redirect(301, b"b/../c?d#x")), expect_exit=0)
scenario("write_out_redirect_url_other_scheme", "-s", "-w", "%{redirect_url}\\n", "{base}/a",
         server=serve(redirect(302, b"ht3p://localhost/")), expect_exit=0)
scenario("write_out_redirect_url_written_back", "-s", "-w", "%{redirect_url}\\n", "{base}/a",
         server=serve(redirect(302, b"HT3P://u:p@LocalHost:99/x/../y?q#f")), expect_exit=0)
scenario("write_out_redirect_url_max_redirs", "-s", "-L", "--max-redirs", "0", "-w",
         "%{redirect_url} %{url_effective} %{num_redirects}\\n", "{base}/a", server=hops(301),
         expect_exit=47)
# A redirect to a refused port leaves the last response's code and type; its fields are
# gone (curl counts the request it could not make).
scenario("write_out_redirect_refused", "-s", "-L", "-w",
         "%{http_code} %{content_type} %{http_version} [%header{x-a}] %{header_json}\\n",
         "{base}/a", "-H", "X-Port: {closed_port}",
         server=serve(reply(b"301 Moved", b"Location: http://127.0.0.1:{closed_port}/b",
                            b"Content-Type: text/x", b"X-A: 1")), expect_exit=7)
# %header{} (curl's test 1670): case-insensitive, the first of repeated fields, blanks
# around the value left out; %{header_json} (test 1671): names in lower case, a repeated
# field's values together (here next to each other: curl 7.88 drops the fields between
# two that are not), JSON escapes; neither has trailers or 1xx fields. After -L, the
# last response's.
HEADERS = reply(b"200 OK", b"Date: Tue, 09 Nov 2010 14:49:00 GMT", b'ETag: "21025-dc7"',
                b"Set-Cookie: a=1; path=/", b"set-cookie: b=2", b"X-Blanks:  \t yes \t ",
                b"X-Escapes: tab\there \\ back", b"Funny-Head: yesyes", body=b"-foo-\n")
scenario("write_out_header", "-s", "-o", "{out}", "-w",
         "%header{etag} %header{nope} %header{DATE}|%header{set-cookie}|%header{x-blanks}|\\n",
         "{url}", server=serve(HEADERS), expect_exit=0)
scenario("write_out_header_json", "-s", "-o", "{out}", "-w", "%{header_json}\\n", "{url}",
         server=serve(HEADERS), expect_exit=0)
scenario("write_out_header_json_none", "-s", "-w", "%{header_json}|%header{date}\\n",
         "http://127.0.0.1:{closed_port}/", expect_exit=7)
scenario("write_out_header_json_trailers_and_interim", "-s", "-o", "{out}", "-w",
         "%{header_json} [%header{x-t}] [%header{x-c}]\\n", "{url}",
         server=once(READ, send(b"HTTP/1.1 100 Continue\r\nX-C: c\r\n\r\n" +
                                chunked(b"hi", trailers=(b"X-T: 1",), headers=(b"X-H: h",)))),
         expect_exit=0)
scenario("write_out_header_after_redirect", "-s", "-L", "-w", "%{header_json} %header{location}\\n",
         "{base}/a", server=Server(routes={"/a": reply(b"301 Moved", b"Location: /b", b"X-A: 1"),
                                           "/b": reply(b"200 OK", b"X-B: 2")}), expect_exit=0)
# The fields of the response to the request sent again with credentials.
scenario("write_out_header_after_auth", "-s", "--anyauth", "-u", "u:p", "-w",
         "%{header_json} %header{x-a} %{http_code}\\n", "{url}",
         server=once(READ, send(reply(b"401 Unauthorized", b'WWW-Authenticate: Basic realm="x"',
                                      b"X-A: first", body=b"no\n")),
                     READ, send(reply(b"200 OK", b"X-A: second", body=b"yes\n"))),
         expect_exit=0)
# Newer curl's %header{name:all:separator} (curl's tests 764 and 765): every value over the
# redirects; curl 7.88 prints that text as it is.
ALL = Server(routes={"/a": reply(b"301 Moved", b"This: one", b"This: two", b"Location: /b",
                                 body=b"-foo-\n"),
                     "/b": reply(b"200 OK", b"This: three", b"This: four", body=b"-foo-\n")})
scenario("write_out_header_all", "-s", "-L", "-o", "{out}", "-w",
         "%header{this:all:***}\\n%header{THIS:all:-{\\}-}\\n%header{this}\\n", "{base}/a",
         server=ALL, expect_exit=0,
         curl_args=("-s", "-L", "-o", "{out}", "-w",
                    "one***two***three***four\\none-{}-two-{}-three-{}-four\\nthree\\n", "{base}/a"))
# Newer curl's %output{file} (curl's tests 990 and 991): the rest into a file, made or
# appended to; curl 7.88 writes the same file as the body.
scenario("write_out_output_file", "-s", "-o", "/dev/null", "-w",
         "%output{{out}}%{http_code}\\n%output{>>{out}}+%{size_download}%{stdout}on stdout\\n",
         "{url}", server=serve(reply(body=b"200\n+6")), expect_exit=0,
         curl_args=("-s", "-o", "{out}", "-w", "on stdout\\n", "{url}"))
scenario("write_out_output_unwritable", "-s", "-o", "/dev/null", "-w",
         "%output{no/such/dir/x}%{http_code}\\n", "{url}", server=serve(OK), expect_exit=0,
         curl_args=("-s", "-o", "/dev/null", "-w", "%{http_code}\\n", "{url}"))
# Newer curl's %{url.*} and %{urle.*} (curl's tests 423 and 424): the parts of the URL as
# given and as fetched last (here through a proxy, after a redirect), the scheme's port
# when none is written, nothing for a URL curl refuses; curl 7.88 prints them as written.
URL_PARTS = ("%{url.host}+%{url.path}+%{url.scheme}+%{url.user}+%{url.password}+%{url.port}"
             "+%{url.query}+%{url.fragment}\\n")
scenario("write_out_url_parts", "-s", "-w", URL_PARTS, "http://uuuu:pppp@127.0.0.1:{port}/423?qqqq#ffff",
         "h55p://hello2000:1/423?qqqq#ffff", "local host", "127.0.0.1:{port}/a/./b/../c",
         server=EMPTY, expect_exit=0,
         curl_args=("-s", "-w", "127.0.0.1+/423+http+uuuu+pppp+{port}+qqqq+ffff\\n",
                    "http://uuuu:pppp@127.0.0.1:{port}/423?qqqq#ffff", "--next", "-s", "-w",
                    "hello2000+/423+h55p+++1+qqqq+ffff\\n", "h55p://hello2000:1/423?qqqq#ffff",
                    "--next", "-s", "-w", "+++++++\\n", "local host", "--next", "-s", "-w",
                    "127.0.0.1+/a/c+http+++{port}++\\n", "127.0.0.1:{port}/a/./b/../c"))
URLE_PARTS = URL_PARTS.replace("url.", "urle.")
scenario("write_out_urle_parts", "-s", "-x", "{url}", "-L", "-w", URLE_PARTS,
         "http://uuuu:pppp@127.0.0.1:{port}/424?qqqq#ffff", "h55p://hello2000:1/424?qqqq#ffff",
         server=Server(routes={"http://anotherhost.example:2023/4240002?moo.html": reply(body=b""),
                               "*": reply(b"301 Moved", b"Location: "
                                          b"http://anotherhost.example:2023/4240002?moo.html")}),
         expect_exit=1,
         curl_args=("-s", "-x", "{url}", "-L", "-w",
                    "anotherhost.example+/4240002+http+++2023+moo.html+\\n",
                    "http://uuuu:pppp@127.0.0.1:{port}/424?qqqq#ffff", "--next", "-s", "-x",
                    "{url}", "-L", "-w", "hello2000+/424+h55p+++1+qqqq+ffff\\n",
                    "h55p://hello2000:1/424?qqqq#ffff"))
# HTTP/1.0 is "1"; newer curl's %{scheme} is in lower case (curl 7.88: "HTTP"), none
# before a connection; without TLS, no certificates and nothing verified.
scenario("write_out_http_1_0", "-s", "-w", "%{http_version} %{response_code} %{http_connect}\\n",
         "{url}", server=serve(reply(version=b"HTTP/1.0", body=b"old\n")), expect_exit=0)
scenario("write_out_scheme", "-s", "-o", "{out}", "-w", "[%{scheme}]\\n", "{url}",
         "http://127.0.0.1:{closed_port}/", server=serve(OK), expect_exit=7,
         curl_args=("-s", "-o", "{out}", "-w", "[http]\\n", "{url}", "--next", "-s", "-w",
                    "[%{scheme}]\\n", "http://127.0.0.1:{closed_port}/"))
scenario("write_out_without_tls", "-s", "-w",
         "[%{certs}] %{num_certs} %{ssl_verify_result} %{proxy_ssl_verify_result} "
         "[%{ftp_entry_path}]\\n", "{url}", server=serve(OK), expect_exit=0)
# %{errormsg} and %{exitcode} after %{onerror} (curl's test 1188, on stdout here).
scenario("write_out_onerror_errormsg", "-s", "-f", "-w",
         "%{onerror}%{urlnum} says %{exitcode} %{errormsg}\\n", "{base}/a", "{base}/b",
         server=serve(reply(b"404 Not Found")), expect_exit=22)
# Newer curl's %{size_delivered}: the body bytes written, here as many as downloaded.
scenario("write_out_size_delivered", "-s", "-w", "%{size_delivered} %{size_download}\\n", "-L",
         "{base}/a", server=hops(302), expect_exit=0,
         curl_args=("-s", "-w", "%{size_download} %{size_download}\\n", "-L", "{base}/a"))
# Newer curl's numbers of connections and transfers (a refused connection takes one too,
# one reused keeps its own), %{proxy_used}, %{num_retries}, %{tls_earlydata}.
scenario("write_out_ids", "-s", "-o", "/dev/null", "-w",
         "%{conn_id} %{xfer_id} %{proxy_used} %{num_retries} %{tls_earlydata}\\n", "{base}/a",
         "{base}/b", "http://127.0.0.1:{closed_port}/", "{base}/c", server=serve(reply(body=b"")),
         expect_exit=0,
         curl_args=("-s", "-o", "/dev/null", "-w", "0 0 0 0 0\\n", "{base}/a", "--next", "-s",
                    "-w", "0 1 0 0 0\\n", "{base}/b", "--next", "-s", "-w", "1 2 0 0 0\\n",
                    "http://127.0.0.1:{closed_port}/", "--next", "-s", "-w", "0 3 0 0 0\\n",
                    "{base}/c"))
scenario("write_out_proxy_used", "-s", "-x", "{url}", "-w", "%{proxy_used} %{http_code}\\n",
         "http://{long_host}/", server=serve(reply(body=b"")), expect_exit=0,
         curl_args=("-s", "-x", "{url}", "-w", "1 %{http_code}\\n", "http://{long_host}/"))
# Newer curl's %time{}: %z and %Z are UTC's, "%%" a percent sign; curl 7.88 prints the text.
scenario("write_out_time_zone", "-s", "-o", "{out}", "-w", "%time{%z %Z %%}|%time{}|%time{x\\n",
         "{url}", server=serve(OK), expect_exit=0,
         curl_args=("-s", "-o", "{out}", "-w", "+0000 UTC %||%time{x\\n", "{url}"))
# What differs from run to run (times, speeds, the time of day, %{json}'s) is written to
# stderr, not compared: the rest of the output still is.
scenario("write_out_times", "-s", "-L", "-w",
         "%{stderr}%{time_namelookup} %{time_connect} %{time_appconnect} %{time_pretransfer} "
         "%{time_posttransfer} %{time_starttransfer} %{time_redirect} %{time_queue} "
         "%{time_total} %{speed_download} %{speed_upload} %time{%F %T.%f %s} %{json}"
         "%{stdout}%{http_code}\\n", "{base}/a", server=hops(301), expect_exit=0,
         curl_args=("-s", "-L", "-w", "%{stderr}%{time_total}%{stdout}%{http_code}\\n",
                    "{base}/a"))
scenario("include", "-i", "{url}",
         server=serve(reply(b"200 OK", b"X-One: 1", b"x-lower: two", body=b"hello\n")), expect_exit=0)
scenario("silent", "-s", "{url}", server=serve(OK), expect_exit=0)
# --stderr: what goes to stderr in a file, or on stdout for "-" (here -w's); -q reads no
# .curlrc.
scenario("stderr_to_file", "-s", "--stderr", "{out}", "-w", "%{stderr}code %{http_code}",
         "{url}", server=serve(OK), expect_exit=0)
scenario("stderr_to_stdout", "-s", "--stderr", "-", "-w", "%{stderr}code %{http_code}",
         "{url}", server=serve(OK), expect_exit=0)
# -#: the bar, as wide as the terminal (79 without one) less the percentage, drawn on a
# file too.
scenario("progress_bar", "-#", "--stderr", "{out}", "{url}", server=serve(reply(body=b"x" * 300)),
         expect_exit=0)
scenario("progress_bar_no_length", "-#", "--stderr", "{out}", "{url}",
         server=once(READ, send(reply(body=b"x" * 30, length=False))), expect_exit=0)
scenario("stderr_unwritable", "-s", "--stderr", "no/such/dir/err", "{url}", server=serve(OK),
         expect_exit=0)
scenario("disable", "-q", "{url}", server=serve(OK), expect_exit=0)
scenario("silent_show_error", "-s", "-S", "{url}", server=serve(OK), expect_exit=0)
scenario("show_error", "-S", "{url}", server=serve(reply(b"404 Not Found", body=b"missing\n")), expect_exit=0)
scenario("output_file", "-o", "{out}", "{url}", server=serve(OK), expect_exit=0)
scenario("output_file_include", "-i", "-o", "{out}", "{url}", server=serve(OK), expect_exit=0)
scenario("remote_name", "-O", "{base}/dir/name.txt", server=serve(OK), expect_exit=0)
# Newer curl names the file by the last segment before trailing slashes, and a path of
# none "curl_response" (curl 7.88 fails both with 23): 7.88 runs the same with -o.
scenario("remote_name_trailing_slashes", "-O", "{base}/dir/name///", server=serve(OK),
         curl_args=("-o", "name", "{base}/dir/name///"), expect_exit=0)
scenario("remote_name_all_but_one", "--remote-name-all", "--no-remote-name", "{base}/a",
         "{base}/b", server=serve(OK), expect_exit=0)
scenario("remote_name_no_segment", "-O", "{base}/", server=serve(OK),
         curl_args=("-o", "curl_response", "{base}/"), expect_exit=0)
# -f: the error body is not written, and the -o file is not even created.
scenario("fail_with_output_file", "-f", "-o", "{out}", "{url}",
         server=serve(reply(b"500 Internal Server Error", body=b"oops\n")), expect_exit=22)
# -O -J: the file named by Content-Disposition's filename=, its last path segment only;
# never over a file that is there (23); the URL's name without one.
def disposed(value):
    return serve(reply(b"200 OK", b"Content-Disposition: " + value, body=b"data\n"))


scenario("remote_header_name", "-O", "-J", "{base}/x/url-name",
         server=disposed(b'attachment; filename="server name.txt"'), expect_exit=0)
scenario("remote_header_name_path", "-O", "-J", "{base}/u",
         server=disposed(b'attachment; filename="../../tmp/a\\b/evil.txt"'), expect_exit=0)
scenario("remote_header_name_unquoted", "-O", "-J", "{base}/u",
         server=disposed(b"attachment; size=5; filename=plain.txt; other=1"), expect_exit=0)
scenario("remote_header_name_none", "-O", "-J", "{base}/url-name",
         server=disposed(b"attachment"), expect_exit=0)
scenario("remote_header_name_encoded_only", "-O", "-J", "{base}/url-name",
         server=disposed(b"attachment; filename*=UTF-8''x.txt"), expect_exit=0)
scenario("remote_header_name_exists", "-O", "-J", "{base}/u",
         server=disposed(b"attachment; filename=taken.txt"), files={"taken.txt": b"mine\n"},
         expect_exit=23)
scenario("remote_header_name_output_dir", "-O", "-J", "--output-dir", "d", "{base}/u",
         server=disposed(b"attachment; filename=in-d.txt"), files={"d/keep": b""},
         expect_exit=0)
scenario("remote_header_name_without_remote_name", "-J", "-o", "{out}", "{base}/u",
         server=disposed(b"attachment; filename=ignored.txt"), expect_exit=0)
# curl 7.88 creates ".hidden"; opensock-fetch takes leading dots off.
scenario("remote_header_name_hidden", "-O", "-J", "{base}/u",
         server=disposed(b'inline; filename=".hidden"'), expect_exit=0,
         known_difference="-J takes leading dots off a file name", fetch_exit=0)

# --output-dir goes before every -o and -O path but "-"; --create-dirs makes the
# directories of the path before the transfer, whatever comes of it.
scenario("output_dir", "--output-dir", "d", "-o", "f", "{url}", server=serve(OK),
         files={"d/keep": b""}, expect_exit=0)
scenario("output_dir_missing", "--output-dir", "d", "-o", "f", "{url}", server=serve(OK),
         expect_exit=23)
scenario("output_dir_remote_name", "--output-dir", "d/", "-O", "{base}/x/name.txt",
         server=serve(OK), files={"d/keep": b""}, expect_exit=0)
scenario("output_dir_stdout", "--output-dir", "d", "-o", "-", "{url}", server=serve(OK),
         expect_exit=0)
scenario("output_dir_absolute_path", "--output-dir", "d", "-o", "{out}", "{url}",
         server=serve(OK), files={"d/keep": b""}, expect_exit=23)
scenario("output_dir_empty", "--output-dir", "", "-o", "f", "{url}", server=serve(OK),
         expect_exit=0)
scenario("create_dirs", "--create-dirs", "-o", "a/b/c/f", "{url}", server=serve(OK),
         expect_exit=0)
scenario("create_dirs_with_output_dir", "--create-dirs", "--output-dir", "o/p", "-o", "q/f",
         "{url}", server=serve(OK), expect_exit=0)
scenario("create_dirs_remote_name", "--create-dirs", "--output-dir", "o", "-O",
         "{base}/x/name.txt", server=serve(OK), expect_exit=0)
scenario("create_dirs_over_a_file", "--create-dirs", "-o", "file/f", "{url}", server=serve(OK),
         files={"file": b"in the way\n"}, expect_exit=23)
scenario("create_dirs_before_the_transfer", "-f", "--create-dirs", "-o", "a/f", "{url}",
         server=serve(reply(b"404 Not Found", body=b"missing\n")), expect_exit=22)
scenario("no_create_dirs", "--create-dirs", "--no-create-dirs", "-o", "a/f", "{url}",
         server=serve(OK), expect_exit=23)

# -C: "Range: bytes=N-", the output appended to; -C - resumes at the output file's size.
# A 416 is no error and not written; a body from elsewhere is 33 unless it is as long as
# the part already there.
PARTIAL = reply(b"206 Partial Content", b"Content-Range: bytes 3-5/6", body=b"lo\n")
scenario("continue_at", "-C", "3", "-o", "{out}", "{url}", server=serve(PARTIAL),
         files={"out": b"hel"}, expect_exit=0)
scenario("continue_at_current", "-C", "-", "-o", "{out}", "{url}", server=serve(PARTIAL),
         files={"out": b"hel"}, expect_exit=0)
scenario("continue_at_current_no_file", "-C", "-", "-o", "{out}", "{url}", server=serve(OK),
         expect_exit=0)
scenario("continue_at_zero", "-C", "0", "{url}", server=serve(OK), expect_exit=0)
# An upload resumed: the file from that byte, Content-Range saying which part; -C - sends
# the whole file as the range from 0.
scenario("upload_continue_at", "-C", "4", "-T", "up.txt", "{base}/put", server=serve(OK),
         files={"up.txt": b"0123456789"}, expect_exit=0)
scenario("upload_continue_at_current", "-C", "-", "-T", "up.txt", "{base}/put",
         server=serve(OK), files={"up.txt": b"0123456789"}, expect_exit=0)
scenario("upload_continue_at_current_with_output", "-C", "-", "-o", "{out}", "-T", "up.txt",
         "{base}/put", server=serve(OK), files={"up.txt": b"0123456789", "out": b"abc"},
         expect_exit=0)
scenario("continue_at_stdout", "-C", "3", "{url}", server=serve(PARTIAL), expect_exit=0)
scenario("continue_at_range_not_satisfiable", "-C", "-", "-o", "{out}", "-w", "%{http_code}",
         "{url}", files={"out": b"hello\n"}, expect_exit=0,
         server=serve(reply(b"416 Range Not Satisfiable", b"Content-Range: bytes */6",
                            body=b"<html>416</html>\n")))
scenario("continue_at_whole_body_again", "-C", "3", "-o", "{out}", "{url}", server=serve(OK),
         files={"out": b"hel"}, expect_exit=33)
scenario("continue_at_already_downloaded", "-C", "6", "-o", "{out}", "{url}", server=serve(OK),
         files={"out": b"hello\n"}, expect_exit=0)
scenario("continue_at_wrong_range", "-C", "2", "-o", "{out}", "{url}", server=serve(PARTIAL),
         files={"out": b"he"}, expect_exit=33)
scenario("continue_at_star_range", "-C", "2", "-o", "{out}", "{url}", files={"out": b"he"},
         server=serve(reply(b"200 OK", b"Content-Range: bytes */6", body=b"hello\n")),
         expect_exit=0)
scenario("continue_at_own_range", "-C", "3", "-H", "Range: bytes=1-", "-o", "{out}", "{url}",
         server=serve(PARTIAL), files={"out": b"hel"}, expect_exit=0)
scenario("continue_at_over_range", "-C", "3", "-r", "0-1", "-o", "{out}", "{url}",
         server=serve(PARTIAL), files={"out": b"hel"}, expect_exit=0)
# -f: a 416 to -C is the file already whole, no failure, as newer curl takes it (curl
# 7.88: 22).
scenario("continue_at_416_fail", "-C", "6", "-f", "-o", "{out}", "{url}", files={"out": b"hello\n"},
         server=serve(reply(b"416 Range Not Satisfiable", b"Content-Range: bytes */6",
                            body=b"<html>416</html>\n")), expect_exit=22,
         known_difference="-f takes a 416 to -C for a whole file", fetch_exit=0)
scenario("continue_at_not_a_number", "-C", "x", "{url}", server=serve(OK), expect_exit=2)

# --etag-save: each ETag value on a line of its own, the file made before anything is
# connected; --etag-compare: the file's lines joined, sent as If-None-Match.
TAGGED = reply(b"200 OK", b'ETag:  "v1"  ', body=b"hello\n")
scenario("etag_save", "--etag-save", "{out}", "{url}", server=serve(TAGGED), expect_exit=0)
scenario("etag_save_none", "--etag-save", "{out}", "{url}", server=serve(OK), expect_exit=0)
scenario("etag_save_redirects", "-L", "--etag-save", "{out}", "{base}/a", expect_exit=0,
         server=Server(routes={"/a": redirect(302, b"/b"), "/b": TAGGED}))
scenario("etag_save_connect_fails", "--etag-save", "{out}", "http://127.0.0.1:{closed_port}/",
         expect_exit=7)
scenario("etag_compare", "--etag-compare", "tag", "{url}", files={"tag": b'"v1"\n'},
         server=serve(reply(b"304 Not Modified")), expect_exit=0)
scenario("etag_compare_lines", "--etag-compare", "tag", "-H", "X-A: 1", "-d", "x", "{url}",
         files={"tag": b"ab\r\ncd\n"}, server=serve(OK), expect_exit=0)
scenario("etag_compare_empty", "--etag-compare", "tag", "{url}", files={"tag": b""},
         server=serve(OK), expect_exit=0)
# A file that cannot be read is an empty one in newer curl (curl 7.88: 26).
scenario("etag_compare_missing", "--etag-compare", "nothing-here", "{url}", server=serve(OK),
         files={"empty": b""}, curl_args=("--etag-compare", "empty", "{url}"), expect_exit=0)
scenario("etag_save_cannot_be_made", "--etag-save", "no/such/dir/tag", "{url}",
         server=serve(OK), expect_exit=26)
# A 304 leaves the output file as it was: it is what the condition asked about.
scenario("etag_compare_not_modified_keeps_output", "--etag-compare", "tag", "-o", "{out}",
         "{url}", files={"tag": b'"v1"\n', "out": b"kept\n"},
         server=serve(reply(b"304 Not Modified")), expect_exit=0)
scenario("not_modified_keeps_output", "-o", "{out}", "{url}", files={"out": b"kept\n"},
         server=serve(reply(b"304 Not Modified")), expect_exit=0)
scenario("empty_body_makes_output", "-o", "{out}", "{url}", files={"out": b"replaced\n"},
         server=serve(reply(b"204 No Content", length=False)), expect_exit=0)
# Newer curl: the etag options take one URL alone (2); curl 7.88 runs them all.
scenario("etag_save_two_urls", "--etag-save", "{out}", "{url}", "{base}/b", server=serve(OK),
         expect_exit=0, known_difference="the etag options take one URL", fetch_exit=2)
scenario("etag_compare_then_url", "{url}", "--etag-compare", "tag", "--url", "{base}/b",
         files={"tag": b'"v1"'}, server=serve(OK), expect_exit=0,
         known_difference="the etag options take one URL", fetch_exit=2)
scenario("etag_compare_and_save", "--etag-compare", "tag", "--etag-save", "tag", "{url}",
         files={"tag": b'"v0"\n'}, server=serve(TAGGED), expect_exit=0)

# -D: every head of every URL, made before anything is connected, emptied by the first.
scenario("dump_header", "-D", "{out}", "{url}",
         server=serve(reply(b"200 OK", b"X-One: 1", body=b"hello\n")), expect_exit=0)
scenario("dump_header_stdout", "-D", "-", "{url}", server=serve(OK), expect_exit=0)
scenario("dump_header_and_include", "-i", "-D", "{out}", "-o", "{out2}", "{url}",
         server=serve(OK), expect_exit=0)
scenario("dump_header_two_urls", "-D", "{out}", "{url}", "{base}/again", server=serve(OK),
         expect_exit=0)
scenario("dump_header_replaces_file", "-D", "{out}", "{url}", server=serve(OK),
         files={"out": b"old contents that are longer than the head\n" * 10}, expect_exit=0)
scenario("dump_header_redirects", "-L", "-D", "{out}", "{base}/a", server=hops(302),
         expect_exit=0)
scenario("dump_header_interim", "-D", "{out}", "{url}", server=serve(CONTINUE + HINTS + OK),
         expect_exit=0)
scenario("dump_header_trailers", "-D", "{out}", "{url}",
         server=serve(chunked(b"hello\n", trailers=(b"X-Checksum: 1",))), expect_exit=0)
scenario("dump_header_connect_fails", "-D", "{out}", "http://127.0.0.1:{closed_port}/",
         expect_exit=7)
scenario("dump_header_fail", "-f", "-D", "{out}", "{url}",
         server=serve(reply(b"404 Not Found", body=b"missing\n")), expect_exit=22)
# curl 7.88 crashes on it (SIGSEGV); newer curl says "Failed to open" and ends with 23.
scenario("dump_header_unwritable", "-D", "no/such/dir/heads", "{url}", server=serve(OK),
         expect_exit=-11, known_difference="a -D file that cannot be made is 23", fetch_exit=23)
scenario("dump_header_head", "-I", "-D", "{out}", "{url}", server=serve(OK), expect_exit=0)

# --------------------------------------------------------------------------------------
# Request methods, headers and bodies.

# -T: PUT from a file (its name appended to a URL without one) or from stdin (chunked),
# with Expect: 100-continue.
UPLOAD = b"line one\r\nline two\n\x00binary\n"
scenario("upload_file", "-T", "up.txt", "{base}/put/here", server=serve(OK),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("upload_file_named_into_directory", "-T", "up.txt", "{base}/dir/", server=serve(OK),
         files={"up.txt": UPLOAD}, expect_exit=0)
# Newer curl writes the name's escapes in upper case (curl 7.88: lower case).
scenario("upload_file_named_after_host", "-T", "sub/a b%+.txt", "127.0.0.1:{port}",
         server=serve(OK), files={"sub/a b%+.txt": UPLOAD}, expect_exit=0,
         curl_args=("-T", "sub/a b%+.txt", "127.0.0.1:{port}/a%20b%25%2B.txt"))
scenario("upload_empty_file", "-T", "empty", "{base}/e", server=serve(OK), files={"empty": b""},
         expect_exit=0)
scenario("upload_stdin", "-T", "-", "{base}/from/stdin", server=serve(OK), stdin=UPLOAD * 3,
         expect_exit=0)
scenario("upload_stdin_dot", "-T", ".", "{base}/", server=serve(OK), stdin=b"dot\n",
         expect_exit=0)
scenario("upload_missing_file", "-T", "nothing-here", "{base}/x", server=serve(OK),
         expect_exit=26)
scenario("upload_with_method", "-X", "POST", "-T", "up.txt", "{base}/p", server=serve(OK),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("upload_headers_replaced", "-H", "Expect:", "-H", "Content-Length: 3", "-T", "up.txt",
         "{base}/h", server=serve(reply(b"200 OK", body=b"hi\n")), files={"up.txt": b"abc"},
         expect_exit=0)
# -F/--form and --form-string: multipart/form-data, compared with the boundary
# normalised.
scenario("form_text", "-F", "name=value", "-F", "empty=", "{base}/f", server=serve(OK),
         expect_exit=0)
scenario("form_file", "-F", "upload=@up.txt", "{base}/f", server=serve(OK),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("form_file_types", "-F", "a=@pic.PNG", "-F", "b=@data.bin", "-F", "c=@doc.txt",
         "{base}/f", server=serve(OK),
         files={"pic.PNG": b"png", "data.bin": b"\x00\x01", "doc.txt": b"text\n"}, expect_exit=0)
scenario("form_file_options", "-F", "f=@sub/up.txt;type=text/x-mine;filename=other name.txt",
         "-F", "g=@\"semi;colon.txt\";filename=\"q\\\"uote\"", "{base}/f", server=serve(OK),
         files={"sub/up.txt": b"one\n", "semi;colon.txt": b"two\n"}, expect_exit=0)
scenario("form_file_content", "-F", "v=<value.txt", "-F", "w=<value.html", "{base}/f",
         server=serve(OK), files={"value.txt": b"from a file\n", "value.html": b"<p>\n"},
         expect_exit=0)
scenario("form_stdin", "-F", "s=@-", "-F", "t=<-", "{base}/f", server=serve(OK),
         stdin=b"standard input\n", expect_exit=0)
scenario("form_text_options", "-F", "a=text;type=text/plain; charset=utf-8",
         "-F", "b=\"quoted; value\";filename=b.html", "-F", "c=x;headers=X-Part: 1",
         "-F", "d=y;headers=@heads.txt;bogus=1", "{base}/f", server=serve(OK),
         files={"heads.txt": b"# comment\nX-A: 1\n folded\n\nX-B: 2\r\n"}, expect_exit=0)
scenario("form_string", "--form-string", "a=@not-a-file;type=x", "{base}/f", server=serve(OK),
         expect_exit=0)
scenario("form_escaped_names", "-F", "we\"ird=1", "-F", "f=@up.txt;filename=a\"b", "{base}/f",
         server=serve(OK), files={"up.txt": b"x"}, expect_exit=0)
# Several files in one part: a multipart/mixed part, each file an attachment with its own
# parameters; --form-escape escapes \ and " in names by a backslash.
scenario("form_several_files", "-F", "a=1", "-F", "f=@one.txt,two.bin;type=x/y,\"th,ree.txt\"",
         "{base}/f", server=serve(OK),
         files={"one.txt": b"1\n", "two.bin": b"2", "th,ree.txt": b"3\n"}, expect_exit=0)
scenario("form_escape", "--form-escape", "-F", "we\"i\\rd=1", "-F",
         "f=@up.txt;filename=a\\\"b\\c", "{base}/f", server=serve(OK), files={"up.txt": b"x"},
         expect_exit=0)
scenario("form_content_type_header", "-H", "Content-Type: multipart/mixed", "-F", "a=1",
         "{base}/f", server=serve(OK), expect_exit=0)
scenario("form_with_headers", "-H", "X-Extra: 1", "-A", "agent", "-F", "a=1", "{base}/f",
         server=serve(OK), expect_exit=0)
scenario("form_missing_file", "-F", "a=@nothing-here", "{base}/f", server=serve(OK),
         expect_exit=26)
scenario("form_no_equals", "-F", "novalue", "{base}/f", server=serve(OK), expect_exit=2)
scenario("form_and_data", "-F", "a=1", "-d", "x", "{base}/f", server=serve(OK), expect_exit=2)
scenario("form_and_head", "-F", "a=1", "-I", "{base}/f", server=serve(OK), expect_exit=2)
scenario("form_redirect_307", "-L", "-F", "a=@up.txt", "{base}/a", server=hops(307),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("form_redirect_302", "-L", "-F", "a=1", "{base}/a", server=hops(302), expect_exit=0)
scenario("form_retry", "--retry", "1", "-F", "a=@up.txt", "{url}",
         server=Server(routes={"*": OK}, connections=((READ, send(BUSY)),)),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("form_large_file", "-F", "big=@big.bin", "{base}/f", server=serve(OK),
         files={"big.bin": BIG * 2}, expect_exit=0)

scenario("data_large", "--data-binary", "@big.bin", "{base}/f", server=serve(OK),
         files={"big.bin": BIG * 2}, expect_exit=0)

# A Transfer-Encoding the caller sets has the body sent as chunks, from a file or -d.
scenario("upload_chunked_by_header", "-H", "Transfer-Encoding: chunked", "-T", "up.txt",
         "{base}/t", server=serve(OK), files={"up.txt": BIG * 2}, expect_exit=0)
scenario("data_chunked_by_header", "-H", "Transfer-Encoding: chunked", "-d", "x=1", "{base}/t",
         server=serve(OK), expect_exit=0)
scenario("data_transfer_coded_by_header", "-H", "Transfer-Encoding: gzip", "-d", "x=1",
         "{base}/t", server=serve(OK), expect_exit=0,
         known_difference="a request body no server can frame is refused", fetch_exit=43)
scenario("upload_resumed", "-T", "up.txt", "-C", "7", "{base}/r", server=serve(OK),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("upload_two_urls", "-T", "a.txt", "-T", "b.txt", "{base}/one", "{base}/two",
         server=serve(OK), files={"a.txt": b"first\n", "b.txt": b"second\n"}, expect_exit=0)
# --url @file (newer curl): a URL a line ('#' lines left out), each saved as -O saves it,
# none a glob; curl 7.88 runs the same URLs with -O. "@-" is stdin.
scenario("url_file", "--url", "@urls.txt", "--output-dir", "d", server=serve(OK),
         files={"urls.txt": b"{base}/a\n  # not this\n \t\n{base}/b{c}\n", "d/keep": b""},
         curl_args=("-g", "--output-dir", "d", "-O", "{base}/a", "-O", "{base}/b{c}"),
         expect_exit=0)
scenario("url_file_stdin", "{base}/first", "--url", "@-", server=serve(OK),
         stdin=b"{base}/x\r\n", curl_args=("-o", "-", "{base}/first", "-O", "{base}/x"),
         expect_exit=0)

# -T's name is a glob too: each file to each URL, file after file; a missing one is 26.
scenario("upload_glob", "-T", "{a.txt,b.txt}", "{base}/{one,two}/", server=serve(OK),
         files={"a.txt": b"first\n", "b.txt": b"second\n"}, expect_exit=0)
scenario("upload_glob_missing", "-T", "{a.txt,none.txt}", "{base}/x", server=serve(OK),
         files={"a.txt": b"first\n"}, expect_exit=26)
scenario("upload_then_get", "-T", "a.txt", "{base}/one", "{base}/two", server=serve(OK),
         files={"a.txt": b"first\n"}, expect_exit=0)
scenario("upload_interim_continue", "-i", "-T", "up.txt", "{base}/c",
         server=serve(CONTINUE + OK), files={"up.txt": UPLOAD}, expect_exit=0)
scenario("upload_redirect_303", "-L", "-T", "up.txt", "{base}/a", server=hops(303),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("upload_redirect_307", "-L", "-T", "up.txt", "{base}/a", server=hops(307),
         files={"up.txt": UPLOAD}, expect_exit=0)
scenario("upload_and_data", "-d", "x", "-T", "up.txt", "{base}/x", server=serve(OK),
         files={"up.txt": UPLOAD}, expect_exit=2)
scenario("upload_write_out", "-s", "-o", "{out}", "-w", "%{method} %{http_code}\n", "-T",
         "up.txt", "{base}/w", server=serve(OK), files={"up.txt": UPLOAD}, expect_exit=0)

scenario("put", "-X", "PUT", "{url}", server=serve(OK), expect_exit=0)
scenario("put_with_data", "-X", "PUT", "-d", "x=1", "{url}", server=serve(OK), expect_exit=0)
scenario("delete", "-X", "DELETE", "{base}/item/7", server=serve(OK), expect_exit=0)
scenario("query_and_fragment", "{base}/p?q=1&r=two#frag", server=serve(OK), expect_exit=0)
scenario("no_path", "{base}", server=serve(OK), expect_exit=0)
scenario("custom_headers", "-H", "X-One: 1", "-H", "X-Two:  spaced  ", "{url}", server=serve(OK), expect_exit=0)
scenario("override_host", "-H", "Host: example.test", "{url}", server=serve(OK), expect_exit=0)
scenario("remove_accept", "-H", "Accept:", "{url}", server=serve(OK), expect_exit=0)
scenario("remove_user_agent", "-H", "User-Agent:", "{url}", server=serve(OK), expect_exit=0)
scenario("empty_header_value", "-H", "X-Empty;", "{url}", server=serve(OK), expect_exit=0)
scenario("replace_accept", "-H", "Accept: text/plain", "{url}", server=serve(OK), expect_exit=0)
scenario("data", "-d", "a=b", "{url}", server=serve(OK), expect_exit=0)
scenario("data_joined", "-d", "a=b", "-d", "c=d", "-d", "e", "{url}", server=serve(OK), expect_exit=0)
scenario("data_content_type", "-H", "Content-Type: text/plain", "-d", "plain", "{url}",
         server=serve(OK), expect_exit=0)
scenario("data_from_file_strips_newlines", "-d", "@body.txt", "{url}", server=serve(OK), expect_exit=0,
         files={"body.txt": b"line one\r\nline two\nend\r\n"})
# Newer curl leaves out every CR, LF and NUL (curl 7.88 cut lines at a CR or a NUL).
scenario("data_from_file_stray_cr_and_nul", "-d", "@body.txt", "{url}", server=serve(OK),
         files={"body.txt": b"one\rtwo\rthree\nfour\0five\n"},
         curl_args=("-d", "onetwothreefourfive", "{url}"), expect_exit=0)
scenario("data_binary_from_file", "--data-binary", "@body.txt", "{url}", server=serve(OK), expect_exit=0,
         files={"body.txt": b"line one\r\nline two\nend\r\n"})
scenario("data_empty", "-d", "", "{url}", server=serve(OK), expect_exit=0)
# -e, with ";auto" the URL a redirect left (without its user and password); -r.
scenario("referer", "-e", "http://r.test/from", "{url}", server=serve(OK), expect_exit=0)
scenario("referer_auto", "-L", "-e", "http://r.test/from;auto", "{base}/a", server=hops(302),
         expect_exit=0)
scenario("referer_auto_only", "-L", "-e", ";auto", "-b", "k=v",
         "http://u:p@127.0.0.1:{port}/a#frag", server=hops(302), expect_exit=0)
scenario("referer_auto_without_redirect", "-e", ";auto", "{url}", server=serve(OK),
         expect_exit=0)
scenario("range", "-r", "0-99", "{url}", server=serve(reply(b"206 Partial Content",
                                                            b"Content-Range: bytes 0-5/6",
                                                            body=b"hello\n")), expect_exit=0)
scenario("range_without_dash", "-r", "4", "{url}", server=serve(OK), expect_exit=0)
scenario("range_own_field", "-r", "0-99", "-H", "Range: bytes=5-", "{url}", server=serve(OK),
         expect_exit=0)
# --data-urlencode: [name]=content and [name]@file, the content encoded with '+' for a
# space; --json: pieces appended without '&', JSON's Content-Type and Accept after -H's.
scenario("data_urlencode", "--data-urlencode", "a b&c", "--data-urlencode", "=x y",
         "--data-urlencode", "n=v w/~", "--data-urlencode", "@enc.txt", "--data-urlencode",
         "m@enc.txt", "{url}", server=serve(OK), files={"enc.txt": b"a b\nc&d=e\n\xff"},
         expect_exit=0)
scenario("data_urlencode_missing_file", "--data-urlencode", "m@nothing-here", "{url}",
         server=serve(OK), expect_exit=0)
scenario("json", "--json", '{"a": 1}', "--json", "[2]", "{url}", server=serve(OK),
         expect_exit=0)
scenario("json_from_file_after_data", "-d", "x=1", "--json", "@j.json", "{url}",
         server=serve(OK), files={"j.json": b'{"k":\n"v"}\n'}, expect_exit=0)
scenario("json_own_fields", "-H", "Accept: x/y", "-H", "X-A: 1", "--json", "{}", "{url}",
         server=serve(OK), expect_exit=0)
# -G: the data in the query of a GET (HEAD with -I), after the URL's own query.
scenario("get_with_data", "-G", "-d", "a=b", "-d", "c", "{base}/p", server=serve(OK),
         expect_exit=0)
# The query -G appends has its escapes' hex digits in upper case, as newer curl writes
# it (curl 7.88 keeps them as given); the URL's own query is left as it is.
scenario("get_with_escapes", "-G", "-d", "a=%3d%2fz", "{base}/p?b=%3d", server=serve(OK),
         expect_exit=0, known_difference="-G's and --url-query's escapes in upper case, as "
         "newer curl writes them", fetch_exit=0, fetch_connections=1)
scenario("get_with_data_and_query", "-G", "-d", "a=b", "{base}/p?x=1", server=serve(OK),
         expect_exit=0)
scenario("get_with_urlencoded_data_head", "-G", "-I", "--data-urlencode", "q=a b", "{base}/p",
         server=serve(OK), expect_exit=0)
scenario("get_without_data", "-G", "{base}/p", server=serve(OK), expect_exit=0)
scenario("get_with_data_followed", "-G", "-L", "-d", "a=b", "{base}/a", server=hops(302),
         expect_exit=0)

# --------------------------------------------------------------------------------------
# Several URLs on one command line.

TWO = Server(routes={"/1": reply(body=b"one\n"), "/2": reply(body=b"two\n")})
scenario("two_urls_reuse_connection", "{base}/1", "{base}/2", server=TWO, expect_exit=0,
         compare_connections=True)
scenario("two_urls_two_outputs", "-o", "{out}", "-o", "{out2}", "{base}/1", "{base}/2", server=TWO,
         expect_exit=0, compare_connections=True)
scenario("two_urls_server_closes", "{base}/1", "{base}/2", expect_exit=0, compare_connections=True,
         server=Server(routes={"/1": reply(b"200 OK", b"Connection: close", body=b"one\n"),
                               "/2": reply(body=b"two\n")}))
scenario("two_urls_close_delimited", "{base}/1", "{base}/2", expect_exit=0, compare_connections=True,
         server=Server(routes={"/1": reply(body=b"one\n", length=False), "/2": reply(body=b"two\n")}))
# The exit code is the last transfer's: the first URL's 52 is forgotten.
scenario("two_urls_first_fails", "{base}/1", "{base}/2", compare_connections=True, expect_exit=0,
         server=Server(connections=((READ, CLOSE),), routes={"/2": reply(body=b"two\n")}))
scenario("two_urls_scripted_keep_alive", "{base}/1", "{base}/2", expect_exit=0, compare_connections=True,
         server=once(READ, send(reply(body=b"one\n")), READ, send(chunked(b"two\n")), hold(5)))
scenario("two_urls_write_out", "-s", "-w", "[%{http_code} %{url_effective}]", "{base}/1", "{base}/2",
         server=TWO, expect_exit=0, compare_connections=True)

# --------------------------------------------------------------------------------------
# Content codings asked for: the request's Accept-Encoding, TE and Connection are compared;
# tests/fetch/peers_versus_curl.py decodes what nginx codes.

GZIPPED = gzip.compress(b"hello, coded\n", mtime=0)
scenario("compressed", "--compressed", "-i", "{url}", expect_exit=0,
         server=serve(reply(b"200 OK", b"Content-Encoding: gzip", body=GZIPPED)))
scenario("compressed_own_accept_encoding", "--compressed", "-H", "Accept-Encoding: br", "{url}",
         expect_exit=0, server=serve(reply(b"200 OK", b"Content-Encoding: gzip", body=GZIPPED)))
scenario("tr_encoding", "--tr-encoding", "-i", "{url}", expect_exit=0,
         server=serve(reply(b"200 OK", b"Transfer-Encoding: gzip, chunked",
                            body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(GZIPPED), GZIPPED), length=False)))
# A transfer coding over a content coding: both decoded, the transfer coding first; TE,
# then Accept-Encoding, then the Connection field naming TE.
DEFLATED_GZIPPED = gzip.compress(zlib.compress(b"hello, twice coded\n"), mtime=0)
scenario("tr_encoding_and_compressed", "--tr-encoding", "--compressed", "-i", "{url}",
         expect_exit=0,
         server=serve(reply(b"200 OK", b"Transfer-Encoding: gzip, chunked",
                            b"Content-Encoding: deflate",
                            body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(DEFLATED_GZIPPED),
                                                              DEFLATED_GZIPPED),
                            length=False)))
scenario("tr_encoding_leaves_content_coding", "--tr-encoding", "{url}", expect_exit=0,
         server=serve(reply(b"200 OK", b"Transfer-Encoding: gzip, chunked",
                            b"Content-Encoding: deflate",
                            body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(DEFLATED_GZIPPED),
                                                              DEFLATED_GZIPPED),
                            length=False)))
# The first -H Connection is merged with the TE it must name (a second one is kept as
# newer curl keeps it; curl 7.88 drops it).
scenario("tr_encoding_own_connection", "--tr-encoding", "-H", "Connection: close", "{url}",
         server=serve(OK), expect_exit=0)
scenario("tr_encoding_empty_connection", "--tr-encoding", "-H", "Connection;", "{url}",
         server=serve(OK), expect_exit=0)

# --------------------------------------------------------------------------------------
# Cookies: -b's strings and files, -c's file (compared byte for byte but for the line
# naming the program that wrote it), -j. Expiry dates are a fixed day a month ahead:
# opensock keeps a cookie 400 days at most, curl 7.88 any time.

_expires = (int(time.time()) // 86400 + 30) * 86400
EXPIRES = email.utils.formatdate(_expires, usegmt=True).encode()
COOKIE_FILE = (b"# Netscape HTTP Cookie File\n\n"
               b"127.0.0.1\tFALSE\t/\tFALSE\t0\tfromfile\tf1\n"
               b"127.0.0.1\tFALSE\t/\tFALSE\t%d\tlasting\tl1\n"
               b"#HttpOnly_127.0.0.1\tFALSE\t/only\tFALSE\t0\tdeep\td1\n"
               b"other.example\tFALSE\t/\tFALSE\t0\telsewhere\te1\n" % _expires)
SETS_COOKIES = reply(b"200 OK", b"Set-Cookie: session=s1; Path=/",
                     b"Set-Cookie: kept=k1; Expires=" + EXPIRES,
                     b"Set-Cookie: narrow=n1; Path=/sub; HttpOnly",
                     b"Set-Cookie: fromfile=changed", body=b"set\n")
COOKIES = Server(routes={"/set": SETS_COOKIES, "/again": OK, "/sub/x": OK})

scenario("header_semicolon_then_blanks", "-H", "X-Sent;", "-H", "X-Not-Sent;  ", "{url}",
         server=serve(OK), expect_exit=0)
# Several -b strings are joined with "; " by newer curl (curl 7.88: ';'), as one -b.
scenario("cookie_strings", "-b", "a=1", "-b", "b=2; c=3", "{url}",
         curl_args=("-b", "a=1; b=2; c=3", "{url}"), server=serve(OK), expect_exit=0)
scenario("cookie_string_with_header", "-b", "a=1", "-H", "X-Other: x", "-H", "Cookie: h=2", "{url}",
         server=serve(OK), expect_exit=0)
scenario("cookie_file_with_header", "-b", "jar.txt", "-b", "a=1", "-H", "Cookie: h=2", "{url}",
         files={"jar.txt": COOKIE_FILE}, server=serve(OK), expect_exit=0)
# A string alone starts no engine: the cookie set is not sent on the next request.
scenario("cookie_string_no_engine", "{base}/set", "-b", "a=1", "{base}/again", server=COOKIES,
         expect_exit=0)
# Newer curl sends -b's strings to the first origin alone, but with --location-trusted
# (curl 7.88 sends them everywhere, as it does not send a -H Cookie).
scenario("cookie_string_on_redirect_elsewhere", "-L", "-b", "a=1", "{base}/a", expect_exit=0,
         server=Server(routes={"/a": redirect(302, b"{base2}/b")}), server2=serve(OK),
         curl_args=("-L", "-H", "Cookie: a=1", "{base}/a"))
scenario("cookie_string_on_trusted_redirect", "--location-trusted", "-b", "a=1", "{base}/a",
         expect_exit=0, server=Server(routes={"/a": redirect(302, b"{base2}/b")}),
         server2=serve(OK))
scenario("cookie_file", "-b", "jar.txt", "{base}/only/x", files={"jar.txt": COOKIE_FILE},
         server=serve(OK), expect_exit=0)
scenario("cookie_file_and_strings", "-b", "jar.txt", "-b", "x=y", "-b", "z=w", "{url}",
         curl_args=("-b", "jar.txt", "-b", "x=y; z=w", "{url}"),
         files={"jar.txt": COOKIE_FILE}, server=serve(OK), expect_exit=0)
scenario("cookie_file_missing", "-b", "nothere.txt", "{base}/set", "{base}/again", server=COOKIES,
         expect_exit=0)
scenario("cookie_jar_file", "-c", "out.txt", "{base}/set", "{base}/again", "{base}/sub/x",
         server=COOKIES, expect_exit=0)
scenario("cookie_jar_stdout", "-c", "-", "{base}/set", "{base}/again", server=COOKIES,
         expect_exit=0)
scenario("cookie_jar_stdout_write_out", "-c", "-", "-w", "[%{http_code}]\n", "-o", "{out}",
         "{base}/set", server=COOKIES, expect_exit=0)
scenario("cookie_file_to_jar", "-b", "jar.txt", "-c", "out.txt", "{base}/set", "{base}/again",
         files={"jar.txt": COOKIE_FILE}, server=COOKIES, expect_exit=0)
scenario("cookie_file_rewritten", "-b", "jar.txt", "-c", "jar.txt", "{base}/set",
         files={"jar.txt": COOKIE_FILE}, server=COOKIES, expect_exit=0)
scenario("cookie_junk_session", "-j", "-b", "jar.txt", "-c", "-", "{base}/set", "{base}/again",
         files={"jar.txt": COOKIE_FILE}, server=COOKIES, expect_exit=0)
scenario("cookie_jar_after_failure", "-b", "jar.txt", "-c", "out.txt",
         "http://127.0.0.1:{closed_port}/", files={"jar.txt": COOKIE_FILE}, expect_exit=7)
scenario("cookie_jar_across_redirect", "-L", "-c", "out.txt", "{base}/a", expect_exit=0,
         server=Server(routes={
             "/a": reply(b"302 Found", b"Location: /b", b"Set-Cookie: hop=1; Path=/"),
             "/b": reply(b"200 OK", b"Set-Cookie: landed=2", body=b"at b\n")}))
scenario("cookie_engine_across_ports", "-L", "-b", "", "-c", "out.txt", "{base}/a", expect_exit=0,
         server=Server(routes={"/a": reply(b"302 Found", b"Location: {base2}/b",
                                           b"Set-Cookie: first=1; Path=/")}),
         server2=serve(reply(b"200 OK", b"Set-Cookie: second=2", body=b"at b\n")))

# --------------------------------------------------------------------------------------
# Credentials: -u, the URL's userinfo, --oauth2-bearer, .netrc; Authorization compared.

UNAUTHORIZED = reply(b"401 Unauthorized", b'WWW-Authenticate: Basic realm="r"', body=b"no\n")
NETRC = b"machine 127.0.0.1 login joe password secret\n"
NETRC_TWO = (b"machine 127.0.0.1 login ann password first\n"
             b"machine 127.0.0.1 login joe password \"s e c\"\n")
ELSEWHERE = Server(routes={"/a": redirect(302, b"{base2}/b")})

scenario("user", "-u", "joe:secret", "{url}", server=serve(OK), expect_exit=0)
scenario("user_empty_password", "-u", "joe:", "{url}", server=serve(OK), expect_exit=0)
scenario("user_and_password_empty", "-u", ":", "{url}", server=serve(OK), expect_exit=0)
scenario("userinfo_user_and_password_empty", "http://:@127.0.0.1:{port}/", server=serve(OK),
         expect_exit=0)
scenario("userinfo_empty", "http://@127.0.0.1:{port}/", server=serve(OK), expect_exit=0)
# A second '@' leaves a host no URL may have: 3.
scenario("userinfo_two_at", "http://user@127.0.0.1:{port}@127.0.0.1:{port}/", server=serve(OK),
         expect_exit=3)
scenario("user_wrong_password", "-i", "-u", "joe:wrong", "{url}", server=serve(UNAUTHORIZED),
         expect_exit=0)
scenario("user_wrong_password_fail", "-f", "-u", "joe:wrong", "{url}", server=serve(UNAUTHORIZED),
         expect_exit=22)
scenario("userinfo", "http://j%40e:p%3Aw@127.0.0.1:{port}/", server=serve(OK), expect_exit=0)
scenario("user_beats_userinfo", "-u", "joe:secret", "http://ann:first@127.0.0.1:{port}/",
         server=serve(OK), expect_exit=0)
scenario("user_own_authorization", "-u", "joe:secret", "-H", "Authorization: Own x", "{url}",
         server=serve(OK), expect_exit=0)
scenario("bearer", "--oauth2-bearer", "tok", "{url}", server=serve(OK), expect_exit=0)
scenario("user_same_origin_redirect", "-L", "-u", "joe:secret", "{base}/a", server=hops(302),
         expect_exit=0)
scenario("userinfo_same_origin_redirect", "-L", "http://joe:secret@127.0.0.1:{port}/a",
         server=hops(302), expect_exit=0)
scenario("user_dropped_elsewhere", "-L", "-u", "joe:secret", "{base}/a", server=ELSEWHERE,
         server2=serve(OK), expect_exit=0)
scenario("user_location_trusted", "-L", "--location-trusted", "-u", "joe:secret", "{base}/a",
         server=ELSEWHERE, server2=serve(OK), expect_exit=0)
scenario("userinfo_dropped_elsewhere", "-L", "http://joe:secret@127.0.0.1:{port}/a",
         server=ELSEWHERE, server2=serve(OK), expect_exit=0)
scenario("userinfo_location_trusted", "-L", "--location-trusted",
         "http://joe:secret@127.0.0.1:{port}/a", server=ELSEWHERE, server2=serve(OK),
         expect_exit=0)
scenario("bearer_dropped_elsewhere", "-L", "--oauth2-bearer", "tok", "{base}/a", server=ELSEWHERE,
         server2=serve(OK), expect_exit=0)
scenario("bearer_location_trusted", "-L", "--location-trusted", "--oauth2-bearer", "tok",
         "{base}/a", server=ELSEWHERE, server2=serve(OK), expect_exit=0)
scenario("netrc_file", "--netrc-file", "n.netrc", "{url}", files={"n.netrc": NETRC},
         server=serve(OK), expect_exit=0)
scenario("netrc_file_other_machine", "--netrc-file", "n.netrc", "{url}",
         files={"n.netrc": b"machine example.com login joe password secret\n"}, server=serve(OK),
         expect_exit=0)
scenario("netrc_file_first_entry", "--netrc-file", "n.netrc", "{url}",
         files={"n.netrc": NETRC_TWO}, server=serve(OK), expect_exit=0)
scenario("netrc_file_login_from_url", "--netrc-file", "n.netrc", "http://joe@127.0.0.1:{port}/",
         files={"n.netrc": NETRC_TWO}, server=serve(OK), expect_exit=0)
scenario("netrc_file_replaces_url_password", "--netrc-file", "n.netrc",
         "http://joe:old@127.0.0.1:{port}/", files={"n.netrc": NETRC}, server=serve(OK),
         expect_exit=0)
scenario("netrc_optional_keeps_url_password", "--netrc-optional", "--netrc-file", "n.netrc",
         "http://joe:old@127.0.0.1:{port}/", files={"n.netrc": NETRC}, server=serve(OK),
         expect_exit=0)
scenario("netrc_user_wins", "-u", "ann:first", "--netrc-file", "n.netrc", "{url}",
         files={"n.netrc": NETRC}, server=serve(OK), expect_exit=0)
scenario("netrc_default_entry", "--netrc-file", "n.netrc", "{url}",
         files={"n.netrc": b"machine example.com login a password b\ndefault login d password p\n"},
         server=serve(OK), expect_exit=0)
# HOME is the working directory: -n reads its .netrc.
scenario("netrc_home", "-n", "{url}", files={".netrc": NETRC}, server=serve(OK), expect_exit=0)
scenario("netrc_on_redirect_elsewhere", "-L", "--netrc-file", "n.netrc", "{base}/a",
         files={"n.netrc": NETRC}, server=ELSEWHERE, server2=serve(OK), expect_exit=0)
# curl 7.88 goes on without credentials when the file is not there; newer curl refuses
# --netrc-file's on the command line (2) and fails -n with 26 before connecting, as
# opensock-fetch does.
scenario("netrc_file_missing", "--netrc-file", "nothere", "{url}", server=serve(OK), expect_exit=0,
         known_difference="a missing --netrc-file is refused (2), as in newer curl",
         fetch_exit=2, fetch_connections=0)
scenario("netrc_missing_home", "-n", "{url}", server=serve(OK), expect_exit=0,
         known_difference="a missing .netrc -n or --netrc-file wants is 26, as in newer curl",
         fetch_exit=26, fetch_connections=0)
scenario("netrc_optional_missing", "--netrc-optional", "{url}", server=serve(OK), expect_exit=0)
scenario("netrc_syntax_error", "--netrc-file", "n.netrc", "{url}",
         files={"n.netrc": b"machine 127.0.0.1 login \"joe\n"}, server=serve(OK), expect_exit=26)
scenario("netrc_optional_syntax_error", "--netrc-optional", "--netrc-file", "n.netrc", "{url}",
         files={"n.netrc": b"machine 127.0.0.1 login \"joe\n"}, server=serve(OK), expect_exit=26)

# NTLM: the negotiate message first, the answer to the server's challenge on the same
# connection. The challenges offer neither the NTLM2 key nor target information, so both
# tools answer with NTLMv1's LM and NT responses, which depend on nothing random.


def ntlm_challenge(flags=0x00008201, nonce=b"\x01\x23\x45\x67\x89\xab\xcd\xef"):
    """A type-2 message: no target name, `flags`, the server's nonce."""
    message = (b"NTLMSSP\0" + struct.pack("<I", 2) + struct.pack("<HHI", 0, 0, 32) +
               struct.pack("<I", flags) + nonce)
    return b"NTLM " + base64.b64encode(message)


def ntlm_refusal(challenge=None, status=b"401 Unauthorized", field=b"WWW-Authenticate"):
    return reply(status, field + b": " + (challenge or b"NTLM"), body=b"no\n")


scenario("ntlm", "-u", "testuser:testpass", "--ntlm", "{url}",
         server=once(READ, send(ntlm_refusal(ntlm_challenge())), READ, send(OK)),
         compare_connections=True, expect_exit=0)
# The names in UTF-16 when the challenge asks for Unicode; a domain before a backslash.
scenario("ntlm_unicode_domain", "-u", "DOM\\joe:Secret1", "--ntlm", "{url}",
         server=once(READ, send(ntlm_refusal(ntlm_challenge(flags=0x00008205))), READ, send(OK)),
         compare_connections=True, expect_exit=0)
scenario("ntlm_wrong_password", "-i", "-u", "joe:wrong", "--ntlm", "{url}",
         server=once(READ, send(ntlm_refusal(ntlm_challenge())), READ, send(ntlm_refusal())),
         expect_exit=0)
# A body waits for the challenge: the negotiate message goes with Content-Length: 0.
scenario("ntlm_post_probe", "-u", "joe:pw", "--ntlm", "-d", "payload", "{url}",
         server=once(READ, send(ntlm_refusal(ntlm_challenge())), READ, send(OK)),
         compare_connections=True, expect_exit=0)
scenario("ntlm_multipart_probe", "-u", "joe:pw", "--ntlm", "-F", "a=b", "{url}",
         server=once(READ, send(ntlm_refusal(ntlm_challenge())), READ, send(OK)),
         expect_exit=0)
# --anyauth picks NTLM over Basic and starts its handshake with the answer to the 401.
scenario("anyauth_picks_ntlm", "-u", "joe:pw", "--anyauth", "{url}",
         server=once(READ, send(reply(b"401 Unauthorized", b'WWW-Authenticate: Basic realm="r"',
                                      b"WWW-Authenticate: NTLM", body=b"no\n")),
                     READ, send(ntlm_refusal(ntlm_challenge())), READ, send(OK)),
         compare_connections=True, expect_exit=0)
# A challenge that is not a type-2 message is not answered.
scenario("ntlm_bad_challenge", "-u", "joe:pw", "--ntlm", "{url}",
         server=once(READ, send(ntlm_refusal(b"NTLM TlRMTVNTUAACAAAA")), READ, send(OK)),
         expect_exit=0)
# The connection NTLM authenticated carries the redirect's request without credentials.
scenario("ntlm_redirect_same_connection", "-L", "-u", "joe:pw", "--ntlm", "{base}/a",
         server=once(READ, send(ntlm_refusal(ntlm_challenge())), READ,
                     send(redirect(302, b"/b")), READ, send(OK)),
         compare_connections=True, expect_exit=0)
# A target of the command line's goes to the proxy as it is.
scenario("request_target_to_proxy", "--request-target", "*", "-X", "OPTIONS", "-x", "{url}",
         "http://www.example.org/", server=serve(OK), expect_exit=0)
# What follows the proxy's authority is left out.
scenario("proxy_with_path", "-x", "{url}346?q", "http://127.0.0.1:1/x", server=serve(OK),
         expect_exit=0)
scenario("proxy_ntlm", "-x", "{url}", "-U", "joe:pw", "--proxy-ntlm", "http://127.0.0.1:1/x",
         server=once(READ, send(ntlm_refusal(ntlm_challenge(), b"407 Proxy Authentication Required",
                                             b"Proxy-Authenticate")), READ, send(OK)),
         compare_connections=True, expect_exit=0)

# --------------------------------------------------------------------------------------
# Where opensock-fetch is deliberately stricter than curl.

# curl sends the value as it is, so the server sees a second header X-Injected.
scenario("header_value_with_crlf", "-H", "X-Bad: one\r\nX-Injected: two", "{url}", server=serve(OK),
         expect_exit=0, known_difference="refuses CR/LF in a -H value before sending", fetch_exit=43,
         fetch_connections=0)
# curl ends the header at the close and reports success with an empty body.
scenario("header_cut_off_by_close", "{url}", server=once(READ, send(b"HTTP/1.1 200 OK\r\nX-Partial: ye")),
         expect_exit=0, known_difference="a header cut off by the close is an error", fetch_exit=8)
# curl reads on to the close and ends with 0 and nothing written.
scenario("lone_cr_line_ends", "{url}", expect_exit=0,
         server=once(READ, send(b"HTTP/1.1 200 OK\rContent-Length: 3\r\rhi\n"), hold(3)),
         known_difference="a lone CR in a header line is 8 at once", fetch_exit=8)
# curl fails it with 43 (a bad function argument).
scenario("fold_after_status_line", "{url}", expect_exit=43,
         server=once(READ, send(b"HTTP/1.1 200 OK\r\n X-A: b\r\nContent-Length: 3\r\n\r\nhi\n"),
                     hold(3)),
         known_difference="a folded line right after the status line is 8", fetch_exit=8)
# curl reads what follows as the body, to the close.
scenario("unasked_101", "{url}", expect_exit=0,
         server=once(READ, send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\n"
                                b"Connection: upgrade\r\n\r\nhi\n"), hold(3)),
         known_difference="a 101 to a request for no switch is 8", fetch_exit=8)
# curl decodes gzip, deflate, br and zstd transfer codings without --tr-encoding too.
scenario("transfer_coding_without_tr_encoding", "{url}", expect_exit=0,
         server=serve(reply(b"200 OK", b"Transfer-Encoding: gzip, chunked",
                            body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(GZIPPED), GZIPPED), length=False)),
         known_difference="a transfer coding is decoded only with --tr-encoding, else 61",
         fetch_exit=61)
# curl takes the last value (6 here, so the 6-byte body completes the response).
scenario("conflicting_content_length", "{url}",
         server=serve(reply(b"200 OK", b"Content-Length: 9", b"Content-Length: 6", length=False,
                            body=b"hello\n")),
         expect_exit=0, known_difference="conflicting Content-Length values are an error", fetch_exit=8)

# --haproxy-protocol: a PROXY protocol line opens each connection, from the socket's ends;
# a forwarding proxy gets it too (curl 7.88 has no --haproxy-clientip).
scenario("haproxy_protocol", "--haproxy-protocol", "{url}", "{base}/again", server=serve(OK),
         expect_exit=0)
scenario("haproxy_protocol_ipv6", "--haproxy-protocol", "{url}", family="inet6",
         server=serve(OK), expect_exit=0)
scenario("haproxy_protocol_proxy", "--haproxy-protocol", "-x", "{url}", "http://{long_host}/",
         server=serve(OK), expect_exit=0)

# --proto, --proto-redir and --proto-default: the protocols a URL and a redirect may use,
# in curl's syntax, and the scheme of a URL written without one.
scenario("proto_denied", "--proto", "-http", "{url}", server=serve(OK), expect_exit=1)
scenario("proto_only", "--proto", "=https,+http", "{url}", server=serve(OK), expect_exit=0)
# Protocols curl knows, though opensock-fetch does not speak them, keep the set from none.
scenario("proto_other_only", "--proto", "=ftp", "{url}", server=serve(OK), expect_exit=1)
scenario("proto_other_added_and_taken", "--proto", "-all,+ftp,-ftp,+http", "{url}",
         server=serve(OK), expect_exit=0)
# curl 7.88 fails the transfer with 1; newer curl refuses a set of none on the command line.
scenario("proto_none", "--proto", "-all", "{url}", server=serve(OK), expect_exit=1,
         known_difference="--proto allowing nothing is refused (2), as in newer curl",
         fetch_exit=2, fetch_connections=0)
scenario("proto_none_named", "--proto", "=ftp,-ftp", "{url}", server=serve(OK), expect_exit=1,
         known_difference="--proto allowing nothing is refused (2), as in newer curl",
         fetch_exit=2, fetch_connections=0)
scenario("proto_all_but", "--proto", "-all,http", "{url}", server=serve(OK), expect_exit=0)
scenario("proto_redir_denied", "-L", "--proto-redir", "-http", "{base}/a", server=hops(302),
         expect_exit=1)
scenario("proto_redir_allowed", "-L", "--proto-redir", "=http", "{base}/a", server=hops(302),
         expect_exit=0)
# One to three slashes after the scheme, as curl reads them, on the command line and in a
# Location.
scenario("url_one_slash", "http:/127.0.0.1:{port}/a", server=serve(OK), expect_exit=0)
scenario("url_three_slashes", "http:///127.0.0.1:{port}/a", server=serve(OK), expect_exit=0)
scenario("url_four_slashes", "http:////127.0.0.1:{port}/a", server=serve(OK), expect_exit=3)
scenario("location_three_slashes", "-L", "{base}/a",
         server=Server(routes={"/a": redirect(302, b"http:///127.0.0.1:{port}/b"),
                               "/b": OK}), expect_exit=0)
scenario("proto_default", "--proto-default", "http", "--resolve",
         "ftp.example.test:{port}:127.0.0.1", "ftp.example.test:{port}/x", server=serve(OK),
         expect_exit=0)
scenario("proto_default_unknown", "--proto-default", "bogus", "{url}", server=serve(OK),
         expect_exit=1)
# --engine: no crypto engine is built in.
scenario("engine_unknown", "--engine", "nothing-here", "{url}", server=serve(OK), expect_exit=53)

# --raw: bodies as they came, chunked framing and trailers, codings undecoded, even with
# --compressed (which still asks for them).
scenario("raw_chunked", "--raw", "{url}",
         server=serve(chunked(b"hello", b" world\n", extension=b";x=1", trailers=(b"X-T: 1",))),
         expect_exit=0)
scenario("raw_coded", "--raw", "--compressed", "{url}",
         server=serve(reply(b"200 OK", b"Content-Encoding: gzip", body=gzip.compress(b"hi\n"))),
         expect_exit=0)
scenario("raw_chunked_then_again", "--raw", "{base}/a", "{base}/b",
         server=serve(chunked(b"hello\n")), expect_exit=0)

# --ignore-content-length: the body runs to the close, whatever its length says.
scenario("ignore_content_length", "--ignore-content-length", "{url}",
         server=serve(reply(b"200 OK", b"Content-Length: 677654", b"Connection: close",
                            body=b"muahahaha\n", length=False)), expect_exit=0)
scenario("ignore_content_length_short", "--ignore-content-length", "-w", "%{size_download}\n",
         "{url}", server=serve(reply(b"200 OK", b"Content-Length: 3", b"Connection: close",
                                     body=b"longer than three\n", length=False)), expect_exit=0)
