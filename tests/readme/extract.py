#!/usr/bin/env python3
"""Writes every ```cpp block of README.md to a translation unit of its own, for the suite
to compile (and run, where a block says so) exactly as a reader copies it.

    extract.py README.md OUTPUT_DIRECTORY

A block is a whole translation unit unless an HTML comment on the line before its fence
(blank lines may come between; GitHub shows neither) says otherwise:

    <!-- readme-test: wrap=coroutine run -->

  wrap=coroutine  The block is statements, as in a coroutine's body. It becomes the body of
                  asio::awaitable<void> readme_entry(asio::io_context& io), after
                  tests/readme/prologue.hpp, with `io` and `my_factory` (a
                  default_socket_factory) in scope.
  run             Also build the block into a program and run it: a wrapped block against
                  the loopback server of tests/readme/runner.cpp; an unwrapped one must
                  define main() and pass by returning 0.
  run=NAME        The unwrapped block defines asio::awaitable<void> NAME(), which the
                  runner calls against its loopback server.

The runner's server listens on the port the README's examples name, 8080, on 127.0.0.1
and ::1. Any other word in the comment is an error, so that a misspelt marker cannot
quietly leave a block less tested.

Beside the sources it writes blocks.cmake, which sets OPENSOCK_README_BLOCKS to the
target names (readme_<n>_<heading>) and for each block <name>_LINE, <name>_TITLE and
<name>_RUN (none, server or main). Files are rewritten only when their text changes.
"""

import pathlib
import re
import sys

FENCE_OPEN = re.compile(r"^```\s*(cpp|c\+\+)\s*$")
FENCE_CLOSE = re.compile(r"^```\s*$")
MARKER = re.compile(r"^<!--\s*readme-test:(.*?)-->\s*$")
HEADING = re.compile(r"^#+\s+(.*?)\s*#*\s*$")


def fail(readme, line, message):
    sys.exit(f"{readme}:{line}: {message}")


def parse_marker(readme, line, text):
    options = {"wrap": None, "run": None}
    for word in text.split():
        key, _, value = word.partition("=")
        if key == "wrap" and value == "coroutine":
            options["wrap"] = value
        elif key == "run":
            options["run"] = value or True
        else:
            fail(readme, line, f"unknown readme-test option '{word}'")
    if options["wrap"] and isinstance(options["run"], str):
        fail(readme, line, "run=NAME is for unwrapped blocks; a wrapped block runs as run")
    return options


def blocks(readme, lines):
    """(first line of code, title, options, code) for each ```cpp block."""
    heading = "readme"
    marker = None  # (line number, options) of a marker waiting for its block
    i = 0
    while i < len(lines):
        text = lines[i]
        if match := HEADING.match(text):
            heading = match.group(1)
        if match := MARKER.match(text):
            if marker:
                fail(readme, marker[0], "readme-test comment without a ```cpp block after it")
            marker = (i + 1, parse_marker(readme, i + 1, match.group(1)))
        elif FENCE_OPEN.match(text):
            start = i + 1
            end = start
            while end < len(lines) and not FENCE_CLOSE.match(lines[end]):
                end += 1
            if end == len(lines):
                fail(readme, i + 1, "```cpp block without its closing fence")
            options = marker[1] if marker else {"wrap": None, "run": None}
            yield start + 1, heading, options, "".join(lines[start:end])
            marker = None
            i = end
        elif text.strip() and marker:
            fail(readme, marker[0], "readme-test comment without a ```cpp block after it")
        i += 1
    if marker:
        fail(readme, marker[0], "readme-test comment without a ```cpp block after it")


def translation_unit(line, title, options, code):
    # No #line pointing into README.md: g++ takes code under another file name for a
    # header's, and then warns (-Wsubobject-linkage) about the block's lambdas in
    # coroutine frames as it would about a header's.
    where = f"// README.md, line {line}, the block under \"{title}\".\n"
    if options["wrap"] == "coroutine":
        return (where +
                '#include "prologue.hpp"\n'
                "\n"
                "asio::awaitable<void> readme_entry([[maybe_unused]] asio::io_context& io) {\n"
                "  [[maybe_unused]] opensock::default_socket_factory my_factory;\n"
                "  // The block:\n"
                + code +
                "  co_return;\n"
                "}\n")
    if isinstance(options["run"], str):
        return (where + code +
                "\n"
                "// What tests/readme/runner.cpp calls.\n"
                "#include <asio/io_context.hpp>\n"
                "\n"
                "asio::awaitable<void> readme_entry(asio::io_context&) {\n"
                f"  co_await {options['run']}();\n"
                "}\n")
    return where + code


def write_if_changed(path, text):
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def cmake_string(text):
    return '"' + re.sub(r'([\\"$])', r"\\\1", text) + '"'


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    readme = pathlib.Path(sys.argv[1]).resolve()
    out = pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    lines = readme.read_text().splitlines(keepends=True)

    names = []
    manifest = []
    for number, (line, title, options, code) in enumerate(blocks(readme, lines), start=1):
        slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
        name = f"readme_{number}_{slug}" if slug else f"readme_{number}"
        source = out / f"{name}.cpp"
        write_if_changed(source, translation_unit(line, title, options, code))
        if options["run"] is None:
            run = "none"
        elif options["wrap"] or isinstance(options["run"], str):
            run = "server"
        else:
            run = "main"
        names.append(name)
        manifest += [
            f"set({name}_LINE {line})",
            f"set({name}_TITLE {cmake_string(title)})",
            f"set({name}_RUN {run})",
        ]
    if not names:
        fail(readme, 1, "no ```cpp block")
    for stale in out.glob("readme_*.cpp"):
        if stale.stem not in names:
            stale.unlink()
    write_if_changed(out / "blocks.cmake",
                     "# Written by tests/readme/extract.py from README.md.\n"
                     f"set(OPENSOCK_README_BLOCKS {' '.join(names)})\n"
                     + "\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
