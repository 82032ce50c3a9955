"""curl and opensock-fetch run with the same arguments, compared by exit code and stdout:
what tls_versus_curl.py and socks_versus_curl.py share."""
import os
import subprocess


def run(tool, args, variables=None):
    """Runs `tool -s --max-time 10 args` with no proxy variable in its environment but
    those of `variables`."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(variables or {})
    p = subprocess.run([tool, "-s", "--max-time", "10"] + args, capture_output=True, timeout=30,
                       env=env)
    return p.returncode, p.stdout


def compare(curl, fetch, scenarios):
    """Runs each (name, args) or (name, args, environment variables) of `scenarios` with
    both tools; prints a line each and a summary, and returns the exit status: 1 when any
    differs."""
    failed = 0
    total = 0
    for name, args, *variables in scenarios:
        total += 1
        theirs = run(curl, args, *variables)
        ours = run(fetch, args, *variables)
        if theirs == ours:
            print(f"ok {name}")
        else:
            failed += 1
            print(f"FAIL {name}: curl {theirs[0]} {theirs[1][:200]!r}, "
                  f"opensock-fetch {ours[0]} {ours[1][:200]!r}")
    print(f"scenarios: {total - failed} passed, {failed} failed")
    return 1 if failed else 0
