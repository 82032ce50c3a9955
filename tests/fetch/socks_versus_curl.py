#!/usr/bin/env python3
"""curl and opensock-fetch through real SOCKS5 proxies (microsocks, one open and one
that asks for a user name and password) to the suite's nginx (tests/peers/nginx): the
same arguments, compared by exit code and stdout.

    socks_versus_curl.py --fetch PATH --nginx-dir DIR [--curl curl] [--microsocks PATH]
"""
import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # importing side_by_side leaves no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def microsocks(program, *credentials):
    port = free_port()
    args = [program, "-i", "127.0.0.1", "-p", str(port)]
    if credentials:
        args += ["-u", credentials[0], "-P", credentials[1]]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.01)
        yield port
    finally:
        p.terminate()
        p.wait()


def scenarios(d, open_port, auth_port):
    with open(os.path.join(d, "port")) as f:
        nginx = int(f.read())
    with open(os.path.join(d, "tls-good.port")) as f:
        tls = int(f.read())
    ca = ["--cacert", os.path.join(d, "pki", "ca.pem")]
    hello = f"http://localhost:{nginx}/files/hello.txt"
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



def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fetch", required=True)
    parser.add_argument("--nginx-dir", required=True)
    parser.add_argument("--curl", default="curl")
    parser.add_argument("--microsocks", default="/usr/bin/microsocks")
    a = parser.parse_args()
    with microsocks(a.microsocks) as open_port, \
            microsocks(a.microsocks, "alice", "s3cret") as auth_port:
        return side_by_side.compare(a.curl, a.fetch,
                                    scenarios(a.nginx_dir, open_port, auth_port))


if __name__ == "__main__":
    sys.exit(main())
