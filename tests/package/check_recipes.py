#!/usr/bin/env python3
"""Checks what can be checked here of the vcpkg port (packaging/vcpkg) and the Conan
recipe (packaging/conan) without vcpkg or Conan: that the port's manifest keeps to
vcpkg's manifest format, that the recipe is valid Python whose version is the one
<opensock/version.hpp> states, and that both offer exactly the components CMake offers,
each mapped to its CMake option; and that debian/changelog states the same version.
Usage: check_recipes.py SOURCE_DIR"""

import ast
import json
import re
import sys
import types
from pathlib import Path

root = Path(sys.argv[1])
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def header_version():
    text = (root / "include/opensock/version.hpp").read_text()
    parts = [re.search(rf"^#define OPENSOCK_VERSION_{p} (\d+)$", text, re.M).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    string = re.search(r'^#define OPENSOCK_VERSION_STRING "([^"]*)"$', text, re.M).group(1)
    check(string == ".".join(parts),
          f"version.hpp: OPENSOCK_VERSION_STRING {string} is not {'.'.join(parts)}")
    return ".".join(parts)


def cmake_components():
    text = (root / "cmake/opensockConfig.cmake.in").read_text()
    return re.search(r"^set\(_opensock_components ([a-z ]+)\)$", text, re.M).group(1).split()


def cmake_options():
    return set(re.findall(r"^option\((OPENSOCK_\w+)", (root / "CMakeLists.txt").read_text(),
                          re.M))


version = header_version()
components = cmake_components()
options = cmake_options()
for c in components:
    check(f"OPENSOCK_WITH_{c.upper()}" in options, f"CMake: no option OPENSOCK_WITH_{c.upper()}")

# vcpkg's manifest format (docs: vcpkg.json reference).
IDENTIFIER = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RESERVED = {"prn", "aux", "nul", "con", "lpt1", "lpt2", "lpt3", "com1", "com2", "com3",
            "default", "core"}
TOP_KEYS = {"name", "version", "version-semver", "version-date", "version-string",
            "port-version", "description", "homepage", "documentation", "license",
            "supports", "dependencies", "default-features", "features", "maintainers",
            "builtin-baseline", "overrides", "summary", "$schema"}
DEPENDENCY_KEYS = {"name", "host", "features", "default-features", "platform", "version>="}


def check_identifier(name, where):
    check(isinstance(name, str) and IDENTIFIER.match(name) and name not in RESERVED,
          f"vcpkg.json: {where}: {name!r} is not a port or feature name")


def check_dependencies(dependencies, where):
    check(isinstance(dependencies, list), f"vcpkg.json: {where}: dependencies is not a list")
    for d in dependencies or []:
        if isinstance(d, str):
            check_identifier(d, where)
            continue
        check(isinstance(d, dict) and "name" in d, f"vcpkg.json: {where}: bad dependency {d!r}")
        if isinstance(d, dict):
            check_identifier(d.get("name"), where)
            check(set(d) <= DEPENDENCY_KEYS, f"vcpkg.json: {where}: unknown keys in {d!r}")
            check(isinstance(d.get("host", False), bool), f"vcpkg.json: {where}: host not bool")


vcpkg_dir = root / "packaging/vcpkg"
manifest = json.loads((vcpkg_dir / "vcpkg.json").read_text())
check(set(manifest) <= TOP_KEYS, f"vcpkg.json: unknown keys {set(manifest) - TOP_KEYS}")
check_identifier(manifest.get("name"), "name")
check(manifest.get("name") == "opensock", "vcpkg.json: the port is not named opensock")
check(manifest.get("version") == version,
      f"vcpkg.json: version {manifest.get('version')} is not {version}")
check(re.match(r"^\d+(\.\d+)*$", str(manifest.get("version"))),
      "vcpkg.json: \"version\" is not dot-separated numbers")
check(isinstance(manifest.get("description"), (str, list)) and manifest.get("description"),
      "vcpkg.json: no description")
check(manifest.get("license") == "BSL-1.0", "vcpkg.json: license is not BSL-1.0")
check((root / "LICENSE").read_text().startswith("Boost Software License - Version 1.0"),
      "LICENSE is not the Boost Software License 1.0 vcpkg.json names")
check_dependencies(manifest.get("dependencies"), "top level")
features = manifest.get("features", {})
check(isinstance(features, dict), "vcpkg.json: features is not an object")
for name, feature in features.items():
    check_identifier(name, "features")
    check(isinstance(feature.get("description"), (str, list)) and feature.get("description"),
          f"vcpkg.json: feature {name} has no description")
    check(set(feature) <= {"description", "dependencies", "supports", "license"},
          f"vcpkg.json: feature {name} has unknown keys")
    check_dependencies(feature.get("dependencies", []), f"feature {name}")
check(sorted(features) == sorted(components),
      f"vcpkg.json: features {sorted(features)}, CMake components {sorted(components)}")
defaults = manifest.get("default-features", [])
check(set(defaults) <= set(features), "vcpkg.json: a default feature that does not exist")
check(sorted(defaults) == sorted(components), "vcpkg.json: not every component is a default")

portfile = (vcpkg_dir / "portfile.cmake").read_text()
mapped = dict(re.findall(r"^\s+([a-z]+) (OPENSOCK_WITH_\w+)$", portfile, re.M))
check(mapped == {c: f"OPENSOCK_WITH_{c.upper()}" for c in components},
      f"portfile.cmake: features map to {mapped}")
for option in re.findall(r"-D(OPENSOCK_\w+)=", portfile):
    check(option in options, f"portfile.cmake: no CMake option {option}")
usage = (vcpkg_dir / "usage").read_text()
for c in components:
    check(f"opensock-{c}" in usage, f"usage: no pkg-config module opensock-{c}")
for target in ("opensock::opensock", "opensock::separate"):
    check(target in usage, f"usage: no {target}")

# The Conan recipe: valid Python, run with stand-ins for the parts of Conan it imports at
# module level, to read its options and the version its set_version() finds.
recipe_path = root / "packaging/conan/conanfile.py"
source = recipe_path.read_text()
ast.parse(source, str(recipe_path))
for test_file in ("test_package/conanfile.py",):
    ast.parse((root / "packaging/conan" / test_file).read_text(), test_file)
stand_ins = {
    "conan": types.ModuleType("conan"),
    "conan.tools": types.ModuleType("conan.tools"),
    "conan.tools.build": types.ModuleType("conan.tools.build"),
    "conan.tools.cmake": types.ModuleType("conan.tools.cmake"),
    "conan.tools.files": types.ModuleType("conan.tools.files"),
}
stand_ins["conan"].ConanFile = type("ConanFile", (), {})
stand_ins["conan.tools.build"].check_min_cppstd = None
for name in ("CMake", "CMakeDeps", "CMakeToolchain", "cmake_layout"):
    setattr(stand_ins["conan.tools.cmake"], name, None)
stand_ins["conan.tools.files"].copy = None
stand_ins["conan.tools.files"].rmdir = None
stand_ins["conan.tools.files"].load = lambda _, path: Path(path).read_text()
sys.modules.update(stand_ins)
recipe = {}
exec(compile(source, str(recipe_path), "exec"), recipe)
conan_file = recipe["OpensockConan"]
check(sorted(recipe["COMPONENTS"]) == sorted(components),
      f"conanfile.py: components {sorted(recipe['COMPONENTS'])}, CMake {sorted(components)}")
check(set(conan_file.options) == {"fPIC"} | {f"with_{c}" for c in components},
      f"conanfile.py: options {sorted(conan_file.options)}")
check(all(conan_file.default_options[f"with_{c}"] for c in components),
      "conanfile.py: not every component is on by default")
instance = conan_file()
instance.recipe_folder = str(root / "packaging/conan")
conan_file.set_version(instance)
check(instance.version == version, f"conanfile.py: version {instance.version} is not {version}")
for _, (requirement, _, define) in recipe["COMPONENTS"].items():
    check(re.match(r"^[a-z0-9_-]+/(\d[\w.]*|\[[^]]+\])$", requirement),
          f"conanfile.py: bad requirement {requirement}")
    check(define.startswith("OPENSOCK_HAS_") and define.endswith("=1"),
          f"conanfile.py: bad define {define}")

# The Debian package's version (a native package: no revision) is the header's too.
changelog = (root / "debian/changelog").read_text()
debian_version = re.match(r"^opensock \(([^)]+)\)", changelog).group(1)
check(debian_version == version, f"debian/changelog: version {debian_version} is not {version}")

for failure in failures:
    print(failure)
print(f"{len(failures)} failures; components {', '.join(components)}; version {version}")
sys.exit(1 if failures else 0)
