#!/usr/bin/env python3
"""curl and opensock-fetch through real proxies to the suite's nginx (tests/peers/nginx):
microsocks (SOCKS5) and tinyproxy (HTTP, CONNECT), one of each open and one that asks
for a user name and password. The same arguments, compared by exit code and stdout.

    proxies_versus_curl.py --fetch PATH --nginx-dir DIR [--curl curl]
                           [--microsocks PATH] [--tinyproxy PATH]
"""
import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # importing side_by_side leaves no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def started(args, port):
    """Runs a proxy's command line and yields `port` once it accepts connections."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.01)
        yield port
    finally:
        p.terminate()
        p.wait()


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


def scenarios(d, open_port, auth_port, http_port, http_auth_port):
    with open(os.path.join(d, "port")) as f:
        nginx = int(f.read())
    with open(os.path.join(d, "tls-good.port")) as f:
        tls = int(f.read())
    ca = ["--cacert", os.path.join(d, "pki", "ca.pem")]
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
    yield "HTTP proxy: the target refuses", ["-p", "-x", http_proxy, f"http://127.0.0.1:{unused}/"]
    yield "SOCKS5 pre-proxy, then an HTTP proxy", ["-p", "--preproxy",
                                                   f"socks5h://127.0.0.1:{open_port}",
                                                   "-x", http_proxy, hello]



def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fetch", required=True)
    parser.add_argument("--nginx-dir", required=True)
    parser.add_argument("--curl", default="curl")
    parser.add_argument("--microsocks", default="/usr/bin/microsocks")
    parser.add_argument("--tinyproxy", default="/usr/bin/tinyproxy")
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, \
            microsocks(a.microsocks) as open_port, \
            microsocks(a.microsocks, "alice", "s3cret") as auth_port, \
            tinyproxy(a.tinyproxy, directory) as http_port, \
            tinyproxy(a.tinyproxy, directory, "alice", "s3cret") as http_auth_port:
        return side_by_side.compare(a.curl, a.fetch,
                                    scenarios(a.nginx_dir, open_port, auth_port, http_port,
                                              http_auth_port))


if __name__ == "__main__":
    sys.exit(main())
