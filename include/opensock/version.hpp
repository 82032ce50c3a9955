// opensock's version, for code that must tell releases apart at compile time. CMake and
// pkg-config take the package's version from this file.
#pragma once

#define OPENSOCK_VERSION_MAJOR 0
#define OPENSOCK_VERSION_MINOR 1
#define OPENSOCK_VERSION_PATCH 0

/// MAJOR * 10000 + MINOR * 100 + PATCH, for comparisons: 0.1.0 is 100, 1.2.3 is 10203.
#define OPENSOCK_VERSION \
  (OPENSOCK_VERSION_MAJOR * 10000 + OPENSOCK_VERSION_MINOR * 100 + OPENSOCK_VERSION_PATCH)

/// "MAJOR.MINOR.PATCH".
#define OPENSOCK_VERSION_STRING "0.1.0"
