"""Conan 2 recipe for opensock, from the checkout it is part of:

    conan create packaging/conan --build=missing [-o opensock/*:with_tls=False ...]

Options are the CMake components (with_tls, with_zlib, with_brotli, with_zstd, with_psl,
with_idn).
The package holds the headers and opensock::separate's static library; consumers get the
targets opensock::opensock (header-only), opensock::separate and one per component, and
the pkg-config modules of the same names, from Conan's generators.
"""

import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rmdir

required_conan_version = ">=2.0"

# Component: (its Conan requirement, the target the component links, its define).
COMPONENTS = {
    "tls": ("openssl/[>=3 <4]", "openssl::ssl", "OPENSOCK_HAS_TLS=1"),
    "zlib": ("zlib/[>=1.2.11 <2]", "zlib::zlib", "OPENSOCK_HAS_ZLIB=1"),
    "brotli": ("brotli/[>=1.0.9 <2]", "brotli::brotlidec", "OPENSOCK_HAS_BROTLI=1"),
    "zstd": ("zstd/[>=1.5 <2]", "zstd::libzstd", "OPENSOCK_HAS_ZSTD=1"),
    "psl": ("libpsl/[>=0.21 <1]", "libpsl::libpsl", "OPENSOCK_HAS_PSL=1"),
    "idn": ("libidn2/[>=2.3 <3]", "libidn2::libidn2", "OPENSOCK_HAS_IDN=1"),
}


class OpensockConan(ConanFile):
    name = "opensock"
    description = ("Header-only C++20 networking client on Asio whose socket opening is "
                   "the user's to replace")
    license = "BSL-1.0"
    topics = ("networking", "http", "websocket", "asio", "sockets", "header-only")
    package_type = "static-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"fPIC": [True, False], **{f"with_{c}": [True, False] for c in COMPONENTS}}
    default_options = {"fPIC": True, **{f"with_{c}": True for c in COMPONENTS}}

    def _root(self):
        return os.path.join(self.recipe_folder, "..", "..")

    def set_version(self):
        # The version <opensock/version.hpp> states, as CMake reads it.
        header = load(self, os.path.join(self._root(), "include", "opensock", "version.hpp"))
        self.version = ".".join(
            re.search(rf"^#define OPENSOCK_VERSION_{part} (\d+)$", header, re.M).group(1)
            for part in ("MAJOR", "MINOR", "PATCH"))

    def export_sources(self):
        for pattern in ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "src/*"):
            copy(self, pattern, self._root(), self.export_sources_folder)

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # Public headers include theirs: every requirement is transitive.
        self.requires("asio/[>=1.22 <2]", transitive_headers=True)
        self.requires("fmt/[>=9 <12]", transitive_headers=True, transitive_libs=True)
        for component, (requirement, _, _) in COMPONENTS.items():
            if self.options.get_safe(f"with_{component}"):
                self.requires(requirement, transitive_headers=True, transitive_libs=True)

    def validate(self):
        check_min_cppstd(self, 20)

    def generate(self):
        toolchain = CMakeToolchain(self)
        for component in COMPONENTS:
            toolchain.cache_variables[f"OPENSOCK_WITH_{component.upper()}"] = bool(
                self.options.get_safe(f"with_{component}"))
        toolchain.cache_variables["OPENSOCK_INSTALL"] = True
        for part in ("TESTS", "EXAMPLES", "BENCHMARKS"):
            toolchain.cache_variables[f"OPENSOCK_BUILD_{part}"] = False
        toolchain.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        CMake(self).install()
        # Conan's generators make the CMake and pkg-config files from package_info().
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "opensock")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "opensock::core")
        core.set_property("pkg_config_name", "opensock-core")
        core.defines = ["ASIO_STANDALONE"]
        core.requires = ["asio::asio", "fmt::fmt"]
        core.libdirs = []
        core.bindirs = []
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]

        everything = ["core"]
        for component, (_, target, define) in COMPONENTS.items():
            if not self.options.get_safe(f"with_{component}"):
                continue
            part = self.cpp_info.components[component]
            part.set_property("cmake_target_name", f"opensock::{component}")
            part.set_property("pkg_config_name", f"opensock-{component}")
            part.defines = [define]
            part.requires = ["core", target]
            part.libdirs = []
            part.bindirs = []
            everything.append(component)

        header_only = self.cpp_info.components["opensock"]
        header_only.set_property("cmake_target_name", "opensock::opensock")
        header_only.set_property("pkg_config_name", "opensock")
        header_only.requires = everything
        header_only.libdirs = []
        header_only.bindirs = []

        separate = self.cpp_info.components["separate"]
        separate.set_property("cmake_target_name", "opensock::separate")
        separate.set_property("pkg_config_name", "opensock-separate")
        separate.libs = ["opensock_separate"]
        separate.defines = ["OPENSOCK_SEPARATE_COMPILATION"]
        separate.requires = ["opensock"]
