# opensock's port, used as an overlay from a checkout:
#   vcpkg install opensock --overlay-ports=<checkout>/packaging/vcpkg
# It builds the checkout it is part of. In a registry the source comes from the release
# archive instead (vcpkg_from_github with the release's REF and SHA512); the rest stays.
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

# A feature is a CMake component: each turns its OPENSOCK_WITH_<NAME> on.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    tls OPENSOCK_WITH_TLS
    zlib OPENSOCK_WITH_ZLIB
    brotli OPENSOCK_WITH_BROTLI
    zstd OPENSOCK_WITH_ZSTD
    psl OPENSOCK_WITH_PSL
    idn OPENSOCK_WITH_IDN
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DOPENSOCK_INSTALL=ON
    -DOPENSOCK_BUILD_TESTS=OFF
    -DOPENSOCK_BUILD_EXAMPLES=OFF
    -DOPENSOCK_BUILD_BENCHMARKS=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/opensock)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include" "${CURRENT_PACKAGES_DIR}/debug/share")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
