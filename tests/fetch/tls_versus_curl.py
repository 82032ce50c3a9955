#!/usr/bin/env python3
"""curl and opensock-fetch against the suite's nginx https servers (tests/peers/nginx):
the same arguments, compared by exit code and stdout. Each server holds one of the test
certificates tests/peers/tls-certificates makes.

    tls_versus_curl.py --fetch PATH --nginx-dir DIR [--curl curl]
"""
import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # importing side_by_side leaves no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import side_by_side  # noqa: E402


def scenarios(d):
    pki = os.path.join(d, "pki")
    port = {}
    for name in ("good", "wrong-host", "expired", "self-signed", "untrusted", "tls12",
                 "client-cert"):
        with open(os.path.join(d, f"tls-{name}.port")) as f:
            port[name] = int(f.read())
    with open(os.path.join(d, "port")) as f:
        plain = int(f.read())
    ca = ["--cacert", f"{pki}/ca.pem"]
    url = lambda server, host="localhost", path="/echo-method": f"https://{host}:{port[server]}{path}"
    yield "good by name", ca + [url("good")]
    yield "good by IP address SAN", ca + [url("good", "127.0.0.1")]
    yield "good, a file, -w", ca + ["-w", "%{http_code} %{size_download} %{remote_ip}",
                                    url("good", path="/files/hello.txt")]
    yield "two URLs, one connection", ca + [url("good"), url("good", path="/files/hello.txt")]
    yield "system store lacks the test CA", [url("good")]
    for server in ("wrong-host", "expired", "self-signed", "untrusted"):
        yield f"{server} verified", ca + [url(server)]
        yield f"{server} with -k", ["-k", url(server)]
    yield "wrong host by IP address", ca + [url("wrong-host", "127.0.0.1")]
    yield "--capath", ["--capath", f"{pki}/capath", url("good")]
    yield "--cacert missing", ["--cacert", f"{pki}/missing.pem", url("good")]
    yield "--cert missing", ca + ["--cert", f"{pki}/missing.pem", url("good")]
    yield "client certificate", ca + ["--cert", f"{pki}/client.pem", "--key",
                                      f"{pki}/client.key", url("client-cert")]
    yield "no client certificate", ca + ["-w", "%{http_code}", "-o", "/dev/null",
                                         url("client-cert")]
    yield "--tlsv1.2 on a TLS 1.2 server", ca + ["--tlsv1.2", url("tls12")]
    yield "--tlsv1.3 on a TLS 1.2 server", ca + ["--tlsv1.3", url("tls12")]
    yield "plain text behind https", [f"https://127.0.0.1:{plain}/"]
    name = "a" * 64 + ".test"
    yield "--connect-to keeps the name checked", ca + [
        "--connect-to", f"localhost:{port['good']}:127.0.0.1:{port['good']}", url("good")]
    yield "--connect-to another certificate", ca + [
        "--connect-to", f"localhost:{port['good']}:127.0.0.1:{port['wrong-host']}", url("good")]
    yield "--resolve an unknown name", ca + [
        "--resolve", f"{name}:{port['good']}:127.0.0.1", url("good", name)]
    # --pinnedpubkey: the good server's public key, written here by the openssl tool.
    key = os.path.join(pki, "versus-curl-good.pub.pem")
    subprocess.run(["openssl", "pkey", "-in", f"{pki}/good.key", "-pubout", "-out", key],
                   check=True)
    yield "--pinnedpubkey its key", ca + ["--pinnedpubkey", key, url("good")]
    yield "--pinnedpubkey another key, -k", ["-k", "--pinnedpubkey", f"{pki}/ca.pem", url("good")]
    yield "--pinnedpubkey a hash of none", ca + ["--pinnedpubkey", "sha256//" + "A" * 43 + "=",
                                                url("good")]



def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fetch", required=True)
    parser.add_argument("--nginx-dir", required=True)
    parser.add_argument("--curl", default="curl")
    a = parser.parse_args()
    return side_by_side.compare(a.curl, a.fetch, scenarios(a.nginx_dir))


if __name__ == "__main__":
    sys.exit(main())
