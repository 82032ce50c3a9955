# Finds what opensock's headers need and provides the targets asio::asio, fmt::fmt,
# opensock::tls (OpenSSL and OPENSOCK_HAS_TLS=1 when OpenSSL is found and
# OPENSOCK_WITH_TLS is not OFF; empty otherwise, and https then fails with 1) and
# opensock::zlib, opensock::brotli, opensock::zstd, opensock::psl and opensock::idn: each
# links its library and defines OPENSOCK_HAS_<NAME>=1 when the library is found and
# OPENSOCK_WITH_<NAME> is not OFF, and is empty otherwise (zlib: gzip and deflate content
# codings and WebSocket's permessage-deflate; brotli and zstd: the br and zstd codings;
# psl: the public-suffix check of cookie domains; idn: host names in Unicode, libidn2).
# Used by the source tree and by the installed opensockConfig.cmake alike.

include(CMakeFindDependencyMacro)

find_dependency(Threads)
find_dependency(fmt)

if(NOT TARGET asio::asio)
  # vcpkg and Conan ship a CMake package for Asio; Debian ships only the headers.
  find_package(asio CONFIG QUIET)
endif()
if(NOT TARGET asio::asio)
  find_path(OPENSOCK_ASIO_INCLUDE_DIR asio.hpp REQUIRED)
  add_library(asio::asio INTERFACE IMPORTED)
  set_target_properties(asio::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OPENSOCK_ASIO_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS ASIO_STANDALONE
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()

# Asio up to 1.22 recognises clang's coroutines only through <experimental/coroutine>,
# which libstdc++ does not have; clang 14 with libstdc++ 12 runs them with these two
# definitions.
get_target_property(_opensock_asio_dirs asio::asio INTERFACE_INCLUDE_DIRECTORIES)
find_file(OPENSOCK_ASIO_VERSION_HPP asio/version.hpp HINTS ${_opensock_asio_dirs})
if(OPENSOCK_ASIO_VERSION_HPP)
  file(STRINGS "${OPENSOCK_ASIO_VERSION_HPP}" _opensock_asio_line
       REGEX "^#define ASIO_VERSION [0-9]+")
  string(REGEX MATCH "[0-9]+" OPENSOCK_ASIO_VERSION "${_opensock_asio_line}")
endif()
if(OPENSOCK_ASIO_VERSION AND OPENSOCK_ASIO_VERSION LESS_EQUAL 102299)
  set(OPENSOCK_ASIO_CLANG_COROUTINES ON)
else()
  set(OPENSOCK_ASIO_CLANG_COROUTINES OFF)
endif()
get_property(_opensock_asio_patched GLOBAL PROPERTY OPENSOCK_ASIO_CLANG_COROUTINES_SET)
if(OPENSOCK_ASIO_CLANG_COROUTINES AND NOT _opensock_asio_patched)
  set_property(GLOBAL PROPERTY OPENSOCK_ASIO_CLANG_COROUTINES_SET ON)
  set_property(TARGET asio::asio APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS
    "$<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1>"
    "$<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_STD_COROUTINE=1>")
endif()

if(NOT TARGET opensock::tls)
  add_library(opensock::tls INTERFACE IMPORTED)
  if(NOT DEFINED OPENSOCK_WITH_TLS OR OPENSOCK_WITH_TLS)
    find_package(OpenSSL QUIET)
  endif()
  if(OPENSSL_FOUND AND (NOT DEFINED OPENSOCK_WITH_TLS OR OPENSOCK_WITH_TLS))
    set(OPENSOCK_HAS_TLS ON)
    set_target_properties(opensock::tls PROPERTIES
      INTERFACE_LINK_LIBRARIES OpenSSL::SSL
      INTERFACE_COMPILE_DEFINITIONS OPENSOCK_HAS_TLS=1)
  else()
    set(OPENSOCK_HAS_TLS OFF)
  endif()
endif()

if(NOT TARGET opensock::zlib)
  add_library(opensock::zlib INTERFACE IMPORTED)
  if(NOT DEFINED OPENSOCK_WITH_ZLIB OR OPENSOCK_WITH_ZLIB)
    find_package(ZLIB QUIET)
  endif()
  if(ZLIB_FOUND AND (NOT DEFINED OPENSOCK_WITH_ZLIB OR OPENSOCK_WITH_ZLIB))
    set(OPENSOCK_HAS_ZLIB ON)
    set_target_properties(opensock::zlib PROPERTIES
      INTERFACE_LINK_LIBRARIES ZLIB::ZLIB
      INTERFACE_COMPILE_DEFINITIONS OPENSOCK_HAS_ZLIB=1)
  else()
    set(OPENSOCK_HAS_ZLIB OFF)
  endif()
endif()

# The optional libraries without a CMake package on every system: found through
# pkg-config. `name` is the component, `module` the pkg-config module.
find_package(PkgConfig QUIET)
function(_opensock_optional_library name module)
  string(TOUPPER ${name} upper)
  if(TARGET opensock::${name})
    return()
  endif()
  add_library(opensock::${name} INTERFACE IMPORTED)
  set(OPENSOCK_HAS_${upper} OFF PARENT_SCOPE)
  if(DEFINED OPENSOCK_WITH_${upper} AND NOT OPENSOCK_WITH_${upper})
    return()
  endif()
  set(library "")
  if(name STREQUAL "zstd")
    find_package(zstd CONFIG QUIET)
    if(TARGET zstd::libzstd_shared)
      set(library zstd::libzstd_shared)
    elseif(TARGET zstd::libzstd_static)
      set(library zstd::libzstd_static)
    endif()
  endif()
  if(NOT library AND PKG_CONFIG_FOUND)
    pkg_check_modules(OPENSOCK_${upper} QUIET IMPORTED_TARGET GLOBAL ${module})
    if(OPENSOCK_${upper}_FOUND)
      set(library PkgConfig::OPENSOCK_${upper})
    endif()
  endif()
  if(library)
    set_target_properties(opensock::${name} PROPERTIES
      INTERFACE_LINK_LIBRARIES ${library}
      INTERFACE_COMPILE_DEFINITIONS OPENSOCK_HAS_${upper}=1)
    set(OPENSOCK_HAS_${upper} ON PARENT_SCOPE)
  endif()
endfunction()
_opensock_optional_library(brotli libbrotlidec)
_opensock_optional_library(zstd libzstd)
_opensock_optional_library(psl libpsl)
_opensock_optional_library(idn libidn2)
