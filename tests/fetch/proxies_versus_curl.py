#!/usr/bin/env python3
"""curl and opensock-fetch through real proxies to the suite's nginx (tests/peers/nginx):
microsocks (SOCKS5) and tinyproxy (HTTP forwarding and CONNECT), one of each open and
one that asks for a user name and password, dante (SOCKS4), squid asking for Digest
credentials, and stunnel in front of tinyproxy (HTTPS); and through a proxy that answers
each request with its head, to compare what each tool asks a proxy. The same arguments
and proxy variables, compared by exit code and stdout. Then opensock-fetch's address
guards behind a proxy, which curl has not.

    proxies_versus_curl.py --fetch PATH --nginx-dir DIR [--curl curl]
                           [--microsocks PATH] [--tinyproxy PATH] [--stunnel PATH]
                           [--dante PATH] [--squid PATH]
"""
import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # importing side_by_side leaves no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side  # noqa: E402


free_port = side_by_side.free_port
started = side_by_side.started


def microsocks(program, *credentials):
    port = free_port()
    args = [program, "-i", "127.0.0.1", "-p", str(port)]
    if credentials:
        args += ["-u", credentials[0], "-P", credentials[1]]
    return started(args, port)


@contextlib.contextmanager
def tinyproxy(program, directory, *credentials):
    port = free_port()
    config = os.path.join(directory, f"tinyproxy-{port}.conf")
    with open(config, "w") as f:
        f.write(f"Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\n"
                "MaxClients 20\nDisableViaHeader Yes\nLogLevel Critical\n")
        if credentials:
            f.write(f"BasicAuth {credentials[0]} {credentials[1]}\n")
    with started([program, "-d", "-c", config], port) as p:
        yield p


def read_head(c):
    head = b""
    while b"\r\n\r\n" not in head:
        data = c.recv(1)
        if not data:
            break
        head += data
    return head


@contextlib.contextmanager
def dante(program, directory):
    """dante: SOCKS4 and SOCKS5 (not SOCKS4a), to loopback destinations."""
    port = free_port()
    config = os.path.join(directory, f"dante-{port}.conf")
    with open(config, "w") as f:
        f.write(f"logoutput: /dev/null\ninternal: 127.0.0.1 port = {port}\n"
                "external: 127.0.0.1\nsocksmethod: none\nclientmethod: none\n"
                "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
                "socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }\n")
    with started([program, "-f", config, "-N", "1"], port) as p:
        yield p


@contextlib.contextmanager
def squid(program, directory):
    """squid: forwarding and CONNECT for user alice, password s3cret, with Digest only;
    it keeps the connection after a 407. Names come from /etc/hosts, never from DNS."""
    port = free_port()
    files = os.path.join(directory, f"squid-{port}")
    os.mkdir(files)
    os.chmod(files, 0o755)  # squid's helper runs as its own user
    with open(os.path.join(files, "passwords"), "w") as f:
        f.write("alice:s3cret\n")
    config = os.path.join(files, "squid.conf")
    with open(config, "w") as f:
        f.write(f"http_port 127.0.0.1:{port}\npid_filename none\ncache_log /dev/null\n"
                "access_log none\ncache_store_log none\ncache deny all\n"
                f"auth_param digest program /usr/lib/squid/digest_file_auth {files}/passwords\n"
                "auth_param digest realm opensock\nauth_param digest children 1 startup=1\n"
                "acl authenticated proxy_auth REQUIRED\nhttp_access allow authenticated\n"
                "http_access deny all\ndns_nameservers 127.0.0.1\n"
                "shutdown_lifetime 0 seconds\n")
    os.chmod(directory, 0o755)
    with started([program, "-N", "-f", config], port) as p:
        yield p


# What differs between two runs through squid whatever the client: the time in Date
# fields and squid's error pages, the nonce of each challenge, and nginx's count of its
# connections.
VARIES = re.compile(rb"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|"
                    rb'nonce="[^"]*"|X-Connection: \d+')


def without_variations(output):
    return VARIES.sub(b"*", output)


def nginx_of(d):
    """The suite's nginx in `d`: its http and https ports, and curl's --cacert for it."""
    with open(os.path.join(d, "port")) as f:
        nginx = int(f.read())
    with open(os.path.join(d, "tls-good.port")) as f:
        tls = int(f.read())
    return nginx, tls, ["--cacert", os.path.join(d, "pki", "ca.pem")]


def challenge_scenarios(d, squid_port, basic_port):
    """Through squid, which asks for Digest, and tinyproxy on `basic_port`, which asks for
    Basic: curl's --proxy-digest and --proxy-anyauth, with -i."""
    nginx, tls, ca = nginx_of(d)
    hello = f"http://127.0.0.1:{nginx}/files/hello.txt"
    proxy = f"127.0.0.1:{squid_port}"
    user = ["-U", "alice:s3cret"]
    for flag in ("--proxy-digest", "--proxy-anyauth"):
        yield f"squid: {flag}, forwarded", [flag] + user + ["-x", proxy, hello]
        yield f"squid: {flag}, tunnelled", [flag, "-p"] + user + ["-x", proxy, hello]
        yield f"squid: {flag}, https", ca + [flag] + user + [
            "-x", proxy, f"https://localhost:{tls}/files/hello.txt"]
    yield "squid: -i, forwarded", ["-i", "--proxy-digest"] + user + ["-x", proxy, hello]
    yield "squid: -i, tunnelled", ["-i", "-p", "--proxy-digest"] + user + ["-x", proxy, hello]
    yield "squid: -D -, tunnelled", ["-D", "-", "-p", "--proxy-digest"] + user + [
        "-x", proxy, hello]
    yield "squid: -w", ["-w", "%{http_code} %{http_connect} %{num_connects}", "-o", "/dev/null",
                        "-p", "--proxy-anyauth"] + user + ["-x", proxy, hello]
    yield "squid: two URLs", ["--proxy-digest"] + user + ["-x", proxy, hello, hello]
    yield "squid: a POST", ["--proxy-digest", "-d", "abc"] + user + ["-x", proxy, hello]
    yield "squid: credentials in -x", ["--proxy-digest", "-x", f"http://alice:s3cret@{proxy}",
                                       hello]
    yield "squid: wrong password, forwarded", ["--proxy-digest", "-U", "alice:wrong", "-x",
                                               proxy, hello]
    yield "squid: wrong password, tunnelled", ["-p", "--proxy-digest", "-U", "alice:wrong", "-x",
                                               proxy, hello]
    yield "squid: wrong password, -f", ["-f", "--proxy-digest", "-U", "alice:wrong", "-x",
                                        proxy, hello]
    yield "squid: Basic, refused", user + ["-x", proxy, hello]
    yield "squid: Basic, refused, tunnelled", ["-p"] + user + ["-x", proxy, hello]
    yield "squid: --no-proxy-digest", ["--proxy-digest", "--no-proxy-digest"] + user + [
        "-x", proxy, hello]
    yield "tinyproxy: --proxy-anyauth -i, tunnelled", [
        "-i", "-p", "--proxy-anyauth"] + user + ["-x", f"127.0.0.1:{basic_port}", hello]


@contextlib.contextmanager
def stunnel(program, directory, certificate, key, behind):
    """An HTTPS proxy: stunnel's TLS in front of the proxy on port `behind`."""
    port = free_port()
    config = os.path.join(directory, f"stunnel-{port}.conf")
    with open(config, "w") as f:
        f.write(f"foreground = yes\npid =\nsyslog = no\ndebug = 0\n[https-proxy]\n"
                f"accept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{behind}\n"
                f"cert = {certificate}\nkey = {key}\n")
    with started([program, config], port) as p:
        yield p


@contextlib.contextmanager
def head_echo():
    """A proxy that answers every request with its head as the body, and closes; asked
    for a tunnel, it answers 200 and then the request in it, with both heads."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def serve():
        while True:
            try:
                c, _ = server.accept()
            except OSError:
                return
            with c:
                head = read_head(c)
                if head.startswith(b"CONNECT "):
                    c.sendall(b"HTTP/1.1 200 Tunnel ready\r\nProxy-Agent: echo\r\n\r\n")
                    head += read_head(c)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                          % len(head) + head)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def scenarios(d, open_port, auth_port, http_port, http_auth_port, echo_port, https_port,
              dante_port):
    nginx, tls, ca = nginx_of(d)
    hello = f"http://localhost:{nginx}/files/hello.txt"
    hello_tls = f"https://localhost:{tls}/files/hello.txt"
    unused = free_port()
    yield "socks5h", ["-x", f"socks5h://127.0.0.1:{open_port}", hello]
    yield "socks5, the name resolved here", ["-x", f"socks5://127.0.0.1:{open_port}",
                                             f"http://127.0.0.1:{nginx}/files/hello.txt"]
    yield "--socks5-hostname", ["--socks5-hostname", f"127.0.0.1:{open_port}", hello]
    yield "-w through the proxy", ["-w", "%{http_code} %{remote_port}", "-o", "/dev/null",
                                   "--socks5-hostname", f"127.0.0.1:{open_port}", hello]
    yield "https inside the tunnel", ca + ["-x", f"socks5h://127.0.0.1:{open_port}",
                                           f"https://localhost:{tls}/files/hello.txt"]
    yield "credentials in the URL", ["-x", f"socks5h://alice:s3cret@127.0.0.1:{auth_port}", hello]
    yield "credentials by -U", ["-U", "alice:s3cret", "-x", f"socks5h://127.0.0.1:{auth_port}",
                                hello]
    yield "wrong password", ["-x", f"socks5h://alice:wrong@127.0.0.1:{auth_port}", hello]
    yield "no credentials offered", ["-x", f"socks5h://127.0.0.1:{auth_port}", hello]
    yield "--preproxy, then the proxy", ["--preproxy", f"socks5h://127.0.0.1:{open_port}",
                                         "-x", f"socks5h://alice:s3cret@127.0.0.1:{auth_port}",
                                         hello]
    yield "the origin refuses", ["-x", f"socks5h://127.0.0.1:{open_port}",
                                 f"http://127.0.0.1:{unused}/"]
    yield "no proxy listening", ["-x", f"socks5h://127.0.0.1:{unused}", hello]
    yield "an unknown proxy scheme", ["-x", f"gopher://127.0.0.1:{open_port}", hello]
    yield "an empty proxy is none", ["-x", "", hello]
    http_proxy = f"http://127.0.0.1:{http_port}"
    yield "HTTP proxy: https tunnelled", ca + ["-x", http_proxy, hello_tls]
    yield "HTTP proxy without a scheme", ca + ["-x", f"127.0.0.1:{http_port}", hello_tls]
    yield "HTTP proxy: -p tunnels http://", ["-p", "-x", http_proxy, hello]
    yield "HTTP proxy: -w", ["-p", "-w", "%{http_code} %{remote_port}", "-o", "/dev/null",
                             "-x", http_proxy, hello]
    yield "HTTP proxy: Basic credentials", ["-p", "-x",
                                            f"http://alice:s3cret@127.0.0.1:{http_auth_port}",
                                            hello]
    yield "HTTP proxy: -U", ["-p", "-U", "alice:s3cret", "-x", f"127.0.0.1:{http_auth_port}",
                             hello]
    yield "HTTP proxy: 407", ["-p", "-x", f"http://127.0.0.1:{http_auth_port}", hello]
    # tinyproxy closes the connection after its 407: the tunnel is asked again on another.
    yield "HTTP proxy: --proxy-anyauth", ["-p", "--proxy-anyauth", "-U", "alice:s3cret", "-x",
                                          f"127.0.0.1:{http_auth_port}", hello]
    yield "HTTP proxy: --proxy-anyauth, -w", [
        "-w", "%{http_code} %{http_connect} %{num_connects}", "-p", "--proxy-anyauth",
        "-U", "alice:s3cret", "-x", f"127.0.0.1:{http_auth_port}", hello]
    yield "HTTP proxy: --proxy-anyauth, wrong password", [
        "-w", "%{http_connect} %{num_connects}", "-p", "--proxy-anyauth", "-U", "alice:wrong",
        "-x", f"127.0.0.1:{http_auth_port}", hello]
    yield "forwarded: --proxy-anyauth", ["-w", "%{num_connects}", "--proxy-anyauth", "-U",
                                         "alice:s3cret", "-x", f"127.0.0.1:{http_auth_port}",
                                         hello]
    yield "HTTP proxy: --proxy-digest, offered Basic", [
        "-p", "--proxy-digest", "-U", "alice:s3cret", "-x", f"127.0.0.1:{http_auth_port}", hello]
    yield "HTTP proxy: the target refuses", ["-p", "-x", http_proxy, f"http://127.0.0.1:{unused}/"]
    yield "SOCKS5 pre-proxy, then an HTTP proxy", ["-p", "--preproxy",
                                                   f"socks5h://127.0.0.1:{open_port}",
                                                   "-x", http_proxy, hello]
    yield "HTTP proxy: -p --proxy1.0", ["-p", "--proxy1.0", f"127.0.0.1:{http_port}", hello]

    # Forwarding: http:// requests sent to the proxy in absolute form.
    yield "forwarded by tinyproxy", ["-x", http_proxy, hello]
    yield "forwarded, two URLs", ["-x", http_proxy, hello, hello]
    yield "forwarded, -w", ["-w", "%{http_code} %{remote_port} %{num_connects}", "-o",
                            "/dev/null", "-x", http_proxy, hello, hello]
    yield "forwarded with credentials", ["-x", f"http://alice:s3cret@127.0.0.1:{http_auth_port}",
                                         hello]
    yield "forwarded with --proxy-basic", ["--proxy-basic", "-U", "alice:s3cret", "-x",
                                           f"127.0.0.1:{http_auth_port}", hello]
    yield "forwarded: 407", ["-x", f"127.0.0.1:{http_auth_port}", hello]
    yield "forwarded: 407 with -f", ["-f", "-x", f"127.0.0.1:{http_auth_port}", hello]
    yield "tunnelled: 407 with -f", ["-f", "-p", "-x", f"127.0.0.1:{http_auth_port}", hello]
    yield "forwarded through a SOCKS pre-proxy", ["--preproxy", f"socks5h://127.0.0.1:{open_port}",
                                                  "-x", http_proxy, hello]
    echo = f"127.0.0.1:{echo_port}"
    yield "what a proxy is asked: the absolute form", [
        "-A", "t", "-x", f"http://u:p@{echo}", "http://example.test:80/a/../b?q=1#frag"]
    yield "what a proxy is asked: a port, IPv6", ["-A", "t", "-x", echo, "http://[::1]:8080/x"]
    yield "what a proxy is asked: a POST", ["-A", "t", "-x", echo, "-d", "abc",
                                            "http://post.test/p"]
    yield "what a proxy is asked: the caller's fields", [
        "-A", "t", "-H", "X-A: 1", "-H", "Referer: r", "-x", echo, "http://a.test/"]
    yield "what a proxy is asked: CONNECT", ["-A", "t", "-p", "-x", f"http://u:p@{echo}",
                                             "http://[::1]:8080/x"]
    yield "what a proxy is asked: CONNECT in HTTP/1.0", ["-A", "t", "-p", "--proxy1.0", echo,
                                                         "http://a.test/"]
    yield "-i through a tunnel", ["-i", "-A", "t", "-p", "-x", echo, "http://a.test/"]
    yield "-D - through a tunnel", ["-D", "-", "-A", "t", "-p", "-x", echo, "http://a.test/"]
    yield "-i through a tunnel, --suppress-connect-headers", [
        "-i", "--suppress-connect-headers", "-A", "t", "-p", "-x", echo, "http://a.test/"]
    yield "what a proxy is asked: -U", ["-A", "t", "-U", "who:pw", "-x", echo, "http://a.test/"]
    yield "what a proxy is asked: --proxy-header, forwarded", [
        "-A", "t", "-H", "X-Origin: 1", "--proxy-header", "X-Proxy: 2", "-x", echo,
        "http://a.test/"]
    yield "what a proxy is asked: its own Proxy-Connection, forwarded", [
        "-A", "t", "--proxy-header", "Proxy-Connection: close", "-x", echo, "http://a.test/"]
    yield "what a proxy is asked: --proxy-header, CONNECT", [
        "-A", "t", "-H", "X-Origin: 1", "--proxy-header", "X-Proxy: 2", "--proxy-header",
        "User-Agent: proxied", "-p", "-x", echo, "http://a.test/"]
    yield "what a proxy is asked: the caller's Proxy-Connection", [
        "-A", "t", "-H", "Proxy-Connection: close", "-x", echo, "http://a.test/"]

    # dante: SOCKS4 given the first IPv4 address of the name; SOCKS4a, which it does not
    # speak, refused.
    socks4 = f"127.0.0.1:{dante_port}"
    yield "--socks4 through dante", ["--socks4", socks4, hello]
    yield "socks4:// through dante", ["-x", f"socks4://{socks4}", hello]
    yield "--socks4a, which dante refuses", ["--socks4a", socks4, hello]
    yield "socks5:// through dante", ["-x", f"socks5://{socks4}",
                                      f"http://127.0.0.1:{nginx}/files/hello.txt"]

    # An HTTPS proxy: stunnel in front of tinyproxy, with the origins' certificate.
    https_proxy = f"https://localhost:{https_port}"
    proxy_ca = ["--proxy-cacert", os.path.join(d, "pki", "ca.pem")]
    yield "HTTPS proxy: forwarded", proxy_ca + ["-x", https_proxy, hello]
    yield "HTTPS proxy: TLS inside TLS", ca + proxy_ca + ["-x", https_proxy, hello_tls]
    yield "HTTPS proxy: -p", proxy_ca + ["-p", "-x", https_proxy, hello]
    yield "HTTPS proxy: -w", proxy_ca + ["-w", "%{http_code} %{http_connect} %{remote_port}",
                                         "-o", "/dev/null", "-x", https_proxy, hello_tls] + ca
    yield "HTTPS proxy: not trusted", ["-x", https_proxy, hello]
    yield "HTTPS proxy: trusted for the origin only", ca + ["-x", https_proxy, hello_tls]
    yield "HTTPS proxy: --proxy-insecure", ["--proxy-insecure", "-x", https_proxy, hello]
    yield "HTTPS proxy: by its address", ["--proxy-cacert", os.path.join(d, "pki", "ca.pem"),
                                          "-x", f"https://127.0.0.1:{https_port}", hello]
    yield "HTTPS proxy: --proxy-capath", ["--proxy-capath", os.path.join(d, "pki", "capath"),
                                          "-x", https_proxy, hello]
    yield "HTTPS proxy: --proxy-cert, not asked for", proxy_ca + [
        "--proxy-cert", os.path.join(d, "pki", "client.pem"),
        "--proxy-key", os.path.join(d, "pki", "client.key"), "-x", https_proxy, hello]
    yield "HTTPS proxy: HTTPS_PROXY", ca + proxy_ca + [hello_tls], {"HTTPS_PROXY": https_proxy}

    # The environment, as curl reads it.
    yield "http_proxy", ["-A", "t", hello], {"http_proxy": f"http://{echo}"}
    yield "HTTP_PROXY is not read", [hello], {"HTTP_PROXY": f"http://{echo}"}
    yield "ALL_PROXY", ["-A", "t", hello], {"ALL_PROXY": echo}
    yield "all_proxy, a SOCKS proxy", [hello], {"all_proxy": f"socks5h://127.0.0.1:{open_port}"}
    yield "HTTPS_PROXY tunnels https", ca + [hello_tls], {"HTTPS_PROXY": http_proxy,
                                                         "http_proxy": f"http://{echo}"}
    yield "an empty http_proxy: ALL_PROXY", ["-A", "t", hello], {"http_proxy": "",
                                                                "ALL_PROXY": echo}
    yield "an empty ALL_PROXY: none", [hello], {"ALL_PROXY": ""}
    yield "an empty https_proxy: HTTPS_PROXY", ca + [hello_tls], {
        "https_proxy": "", "HTTPS_PROXY": http_proxy, "ALL_PROXY": f"http://{echo}"}
    yield "an empty no_proxy: NO_PROXY", ["-A", "t", hello], {
        "http_proxy": f"http://{echo}", "no_proxy": "", "NO_PROXY": "localhost"}
    yield "-A ''", ["-A", "", "-x", echo, "http://a.test/"]
    yield "NO_PROXY", [hello], {"http_proxy": echo, "NO_PROXY": "example.test, localhost"}
    yield "no_proxy before NO_PROXY", ["-A", "t", hello], {
        "http_proxy": echo, "no_proxy": "example.test", "NO_PROXY": "localhost"}
    yield "no_proxy=*", [hello], {"http_proxy": echo, "no_proxy": "*"}
    yield "NO_PROXY with a range", [f"http://127.0.0.1:{nginx}/files/hello.txt"], {
        "http_proxy": echo, "NO_PROXY": "127.0.0.0/8"}
    yield "NO_PROXY holds for -x too", [
        "-x", echo, hello], {"NO_PROXY": "localhost"}
    yield "--noproxy replaces NO_PROXY", ["-A", "t", "--noproxy", "example.test", hello], {
        "http_proxy": echo, "NO_PROXY": "localhost"}
    yield "-x over the environment's", ["-x", http_proxy, hello], {"http_proxy": echo}
    yield "-x '' over the environment's", ["-x", "", hello], {"http_proxy": echo}
    yield "-U for the environment's proxy", ["-A", "t", "-U", "who:pw", hello], {
        "http_proxy": echo}
    yield "a proxy variable that does not parse", [hello], {"http_proxy": "gopher://x.test"}


def guarded(fetch, echo_port, nginx_dir):
    """opensock-fetch's guards behind a proxy, which curl has not: an origin they refuse
    never reaches the proxy (7), and the proxy is asked for the address they let through,
    never the name, which stays in Host. 0 when all hold."""
    echo = f"127.0.0.1:{echo_port}"
    with open(os.path.join(nginx_dir, "port")) as f:
        nginx = int(f.read())
    name = "a" * 64 + ".invalid"  # glibc refuses it unasked: the proxy could not resolve it
    checks = [
        ("--deny-private: a loopback origin", ["--deny-private", "-x", echo,
                                               f"http://localhost:{nginx}/"], 7, b""),
        ("--deny: one address of two", [
            "-A", "t", "--deny", "127.0.0.2", "--resolve", f"{name}:80:127.0.0.2,127.0.0.1",
            "-x", echo, f"http://{name}/"], 0,
         b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\nUser-Agent: t\r\n"
         b"Proxy-Connection: Keep-Alive\r\n\r\nGET / HTTP/1.1\r\nHost: " + name.encode() +
         b"\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n"),
    ]
    failed = 0
    for what, args, code, out in checks:
        got = side_by_side.run(fetch, args)
        if got == (code, out):
            print(f"ok {what}")
        else:
            failed += 1
            print(f"FAIL {what}: expected {code} {out!r}, got {got[0]} {got[1]!r}")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fetch", required=True)
    parser.add_argument("--nginx-dir", required=True)
    parser.add_argument("--curl", default="curl")
    parser.add_argument("--microsocks", default="/usr/bin/microsocks")
    parser.add_argument("--tinyproxy", default="/usr/bin/tinyproxy")
    parser.add_argument("--stunnel", default="/usr/bin/stunnel4")
    parser.add_argument("--dante", default="/usr/sbin/danted")
    parser.add_argument("--squid", default="/usr/sbin/squid")
    a = parser.parse_args()
    # A refused tunnel is 7 in newer curl ("CONNECT tunnel failed"), 56 in curl 7.88.
    newer_codes = {56: 7}
    with tempfile.TemporaryDirectory() as directory, \
            microsocks(a.microsocks) as open_port, \
            microsocks(a.microsocks, "alice", "s3cret") as auth_port, \
            tinyproxy(a.tinyproxy, directory) as http_port, \
            tinyproxy(a.tinyproxy, directory, "alice", "s3cret") as http_auth_port, \
            head_echo() as echo_port, \
            stunnel(a.stunnel, directory, *(os.path.join(a.nginx_dir, "pki", f"good.{part}")
                                             for part in ("pem", "key")),
                    http_port) as https_port, \
            dante(a.dante, directory) as dante_port, \
            squid(a.squid, directory) as squid_port:
        differ = side_by_side.compare(a.curl, a.fetch,
                                      scenarios(a.nginx_dir, open_port, auth_port, http_port,
                                                http_auth_port, echo_port, https_port,
                                                dante_port), newer_codes=newer_codes)
        challenge_differ = side_by_side.compare(a.curl, a.fetch,
                                             challenge_scenarios(a.nginx_dir, squid_port,
                                                                 http_auth_port),
                                             without_variations, newer_codes)
        return guarded(a.fetch, echo_port, a.nginx_dir) or differ or challenge_differ


if __name__ == "__main__":
    sys.exit(main())
