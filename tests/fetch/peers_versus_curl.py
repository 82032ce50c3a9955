#!/usr/bin/env python3
"""curl and opensock-fetch against real servers: the suite's nginx (tests/peers/nginx) for
--compressed and --tr-encoding (its gzip module under /gzip/, files coded by gzip, brotli
and zstd under /coded/) and Basic authentication (/auth-basic/, nginx's auth_basic), and
tests/peers/digest-server for --basic, --digest, --anyauth and --oauth2-bearer. The same
arguments, compared by exit code and stdout, with what differs from run to run in a
response head (Date, nginx's connection number, Digest nonces) made the same.

    peers_versus_curl.py --fetch PATH --nginx-dir DIR [--curl curl]
"""
import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # importing side_by_side leaves no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DIGEST_SERVER = os.path.join(HERE, "..", "peers", "digest-server")
PASSWORD = "opensock:Circle of Life"


def normalised(stdout):
    stdout = re.sub(rb"(?im)^date: [^\r\n]*", b"Date: (now)", stdout)
    stdout = re.sub(rb"(?im)^x-connection: [^\r\n]*", b"X-Connection: (n)", stdout)
    return re.sub(rb'nonce="[^"]*"', b'nonce="(fresh)"', stdout)


def scenarios(nginx, digest):
    gz = f"http://127.0.0.1:{nginx}/gzip/hello.txt"
    yield "--compressed, nginx's gzip", ["--compressed", gz]
    yield "--compressed -i, nginx's gzip", ["--compressed", "-i", gz]
    yield "no --compressed: the body as sent", ["-H", "Accept-Encoding: gzip", gz]
    yield "--compressed on an uncoded file", ["--compressed", "-i",
                                              f"http://127.0.0.1:{nginx}/files/hello.txt"]
    for coding in ("gzip", "br", "zstd", "deflate", "gzip-br"):
        url = f"http://127.0.0.1:{nginx}/coded/{coding}/text"
        yield f"--compressed, {coding}", ["--compressed", url]
        yield f"--compressed -i, {coding}", ["--compressed", "-i", "-o", "/dev/null", url]
    # Without --compressed a coded body is written as it came.
    yield "coded body kept", ["-i", f"http://127.0.0.1:{nginx}/coded/br/text"]
    yield "--tr-encoding", ["--tr-encoding", "-i", f"http://127.0.0.1:{nginx}/files/hello.txt"]
    yield "--tr-encoding --compressed", ["--tr-encoding", "--compressed", gz]

    basic = f"http://127.0.0.1:{nginx}/auth-basic/hello.txt"
    yield "nginx auth_basic, -u", ["-u", PASSWORD, basic]
    yield "nginx auth_basic, URL userinfo", [
        f"http://opensock:Circle%20of%20Life@127.0.0.1:{nginx}/auth-basic/hello.txt"]
    yield "nginx auth_basic, wrong password -i", ["-i", "-u", "opensock:wrong", basic]
    yield "nginx auth_basic, no -u -f", ["-f", basic]
    yield "nginx auth_basic, --anyauth", ["--anyauth", "-u", PASSWORD, basic]
    yield "nginx auth_basic, --digest refused", ["--digest", "-i", "-u", PASSWORD, basic]

    d = f"http://127.0.0.1:{digest}"
    # Not /sha512-256/ nor /unknown-first/: curl 7.88 computes SHA-512-256 wrongly and
    # gives up on an unknown algorithm offered first (test_http_auth covers opensock there).
    for path in ("md5", "sha256", "md5-sess", "auth-int", "no-qop", "userhash", "stale"):
        yield f"--digest {path}", ["--digest", "-u", PASSWORD, f"{d}/{path}/x"]
    yield "--digest -i", ["--digest", "-i", "-u", PASSWORD, f"{d}/md5/x"]
    yield "--digest wrong password -i", ["--digest", "-i", "-u", "opensock:wrong", f"{d}/md5/x"]
    yield "--digest wrong password -f", ["--digest", "-f", "-u", "opensock:wrong", f"{d}/md5/x"]
    yield "--digest POST", ["--digest", "-u", PASSWORD, "-d", "a=b", f"{d}/md5/x"]
    yield "--digest two URLs", ["--digest", "-u", PASSWORD, f"{d}/md5/a", f"{d}/sha256/b"]
    yield "--anyauth picks Digest", ["--anyauth", "-u", PASSWORD, f"{d}/anyauth/x"]
    yield "--anyauth, Basic alone", ["--anyauth", "-u", PASSWORD, f"{d}/basic/x"]
    yield "--basic", ["--basic", "-u", PASSWORD, f"{d}/basic/x"]
    yield "--basic on Digest", ["--basic", "-i", "-u", PASSWORD, f"{d}/md5/x"]
    yield "-u on Basic, wrong -i", ["-i", "-u", "opensock:wrong", f"{d}/basic/x"]
    yield "--oauth2-bearer", ["--oauth2-bearer", "opensock-token", f"{d}/bearer/x"]
    yield "--oauth2-bearer wrong", ["--oauth2-bearer", "nope", "-i", f"{d}/bearer/x"]
    yield "--oauth2-bearer beats -u", ["--oauth2-bearer", "opensock-token", "-u", "a:b",
                                      f"{d}/bearer/x"]
    yield "--digest with the URL's userinfo", [
        "--digest", f"http://opensock:Circle%20of%20Life@127.0.0.1:{digest}/md5/x"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fetch", required=True)
    parser.add_argument("--nginx-dir", required=True)
    parser.add_argument("--curl", default="curl")
    a = parser.parse_args()
    with open(os.path.join(a.nginx_dir, "port")) as f:
        nginx = int(f.read())
    port = side_by_side.free_port()
    with side_by_side.started([sys.executable, DIGEST_SERVER, "--port", str(port)], port):
        return side_by_side.compare(a.curl, a.fetch, list(scenarios(nginx, port)), normalised)


if __name__ == "__main__":
    sys.exit(main())
