"""curl and opensock-fetch run with the same arguments, compared by exit code and stdout,
and the peers they run against started: what the *_versus_curl.py scripts share."""
import contextlib
import os
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def started(args, port):
    """Runs a peer's command line and yields `port` once it accepts connections."""
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


def run(tool, args, variables=None, normalise=None):
    """Runs `tool -s --max-time 10 args` with no proxy variable in its environment but
    those of `variables`, stdin empty; its stdout through `normalise` if given."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(variables or {})
    p = subprocess.run([tool, "-s", "--max-time", "10"] + args, capture_output=True, timeout=30,
                       env=env, stdin=subprocess.DEVNULL)
    return p.returncode, normalise(p.stdout) if normalise else p.stdout


def compare(curl, fetch, scenarios, normalise=None, newer_codes=None):
    """Runs each (name, args) or (name, args, environment variables) of `scenarios` with
    both tools; prints a line each and a summary, and returns the exit status: 1 when any
    differs. `newer_codes` maps an exit code of the curl on the machine (7.88) to the one
    newer curl gives in its place, which opensock-fetch follows."""
    failed = 0
    total = 0
    for name, args, *variables in scenarios:
        total += 1
        variables = variables[0] if variables else None
        theirs = run(curl, args, variables, normalise)
        ours = run(fetch, args, variables, normalise)
        if newer_codes and (newer_codes.get(theirs[0]), theirs[1]) == ours:
            theirs = ours
        if theirs == ours:
            print(f"ok {name}")
        else:
            failed += 1
            print(f"FAIL {name}: curl {theirs[0]} {theirs[1][:200]!r}, "
                  f"opensock-fetch {ours[0]} {ours[1][:200]!r}")
    print(f"scenarios: {total - failed} passed, {failed} failed")
    return 1 if failed else 0
