# Install rules for goc: libraries, public headers, goc.pc and the CMake
# package (gocConfig.cmake, gocConfigVersion.cmake, gocTargets.cmake).
# Included from the top-level CMakeLists.txt after the targets exist.
include(CMakePackageConfigHelpers)

set(GOC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/goc"
    CACHE STRING "Where to install gocConfig.cmake (relative to the prefix)")
set(GOC_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
    CACHE STRING "Where to install goc.pc (relative to the prefix)")

install(TARGETS goc goc_static
  EXPORT gocTargets
  LIBRARY  DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE  DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME  DESTINATION "${CMAKE_INSTALL_BINDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# The one public header; internal headers stay beside their .c files.
install(FILES "${PROJECT_SOURCE_DIR}/include/goc.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# --- CMake package ----------------------------------------------------------
install(EXPORT gocTargets
  NAMESPACE goc::
  FILE gocTargets.cmake
  DESTINATION "${GOC_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/gocConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/gocConfig.cmake"
  INSTALL_DESTINATION "${GOC_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/gocConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)   # 0.x: a new minor version may break the API
install(FILES
  "${PROJECT_BINARY_DIR}/gocConfig.cmake"
  "${PROJECT_BINARY_DIR}/gocConfigVersion.cmake"
  DESTINATION "${GOC_INSTALL_CMAKEDIR}")

# --- pkg-config ---------------------------------------------------------------
# goc.pc is written at install time, so that `cmake --install --prefix P`
# (and CMAKE_INSTALL_PREFIX changed after configuring) gives the right paths.
# Stage 1 (now) fills in everything but the prefix; stage 2 (install) the prefix.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(GOC_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(GOC_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(GOC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(GOC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(GOC_PC_PREFIX "@GOC_PC_INSTALL_PREFIX@")
configure_file("${CMAKE_CURRENT_LIST_DIR}/goc.pc.in"
               "${PROJECT_BINARY_DIR}/goc.pc.stage1" @ONLY)
install(CODE "
  set(GOC_PC_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/goc.pc.stage1\"
                 \"${PROJECT_BINARY_DIR}/goc.pc\" @ONLY)
")
install(FILES "${PROJECT_BINARY_DIR}/goc.pc"
  DESTINATION "${GOC_INSTALL_PKGCONFIGDIR}")
