# ctest "consumer": install the freshly built goc into a prefix under the
# build directory, then build and run tests/consumer against it:
#   1. a CMake project: find_package(goc) + goc::goc and goc::goc_static;
#   2. plain cc with `pkg-config --cflags --libs goc` (libgoc.so), and
#      libgoc.a with the private dependencies goc.pc names.
# Run by ctest with -D variables set in tests/CMakeLists.txt.
cmake_policy(VERSION 3.20)
foreach(v GOC_BINARY_DIR GOC_SOURCE_DIR GOC_LIBDIR GOC_GENERATOR GOC_C_COMPILER GOC_PKG_CONFIG)
  if(NOT ${v})
    message(FATAL_ERROR "consumer-test: ${v} is not set")
  endif()
endforeach()

set(work "${GOC_BINARY_DIR}/consumer")
set(prefix "${work}/prefix")
set(src "${GOC_SOURCE_DIR}/tests/consumer")
if(IS_ABSOLUTE "${GOC_LIBDIR}")
  set(libdir "${GOC_LIBDIR}")
else()
  set(libdir "${prefix}/${GOC_LIBDIR}")
endif()
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")

function(step what)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "consumer: ${what}: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: ${what} failed (${rc}):\n${out}")
  endif()
  if(out)
    message("${out}")
  endif()
endfunction()

# --- 1. install -----------------------------------------------------------------
set(config_args "")
if(GOC_CONFIG)
  set(config_args --config "${GOC_CONFIG}")
endif()
step("install" "${CMAKE_COMMAND}" --install "${GOC_BINARY_DIR}" --prefix "${prefix}" ${config_args})
foreach(f "include/goc.h" "${libdir}/libgoc.a" "${libdir}/libgoc.so"
          "${libdir}/pkgconfig/goc.pc" "${libdir}/cmake/goc/gocConfig.cmake"
          "${libdir}/cmake/goc/gocConfigVersion.cmake")
  if(NOT IS_ABSOLUTE "${f}")
    set(f "${prefix}/${f}")
  endif()
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "consumer: install did not produce ${f}")
  endif()
endforeach()
file(GLOB_RECURSE internal_headers "${prefix}/include/*sched*.h" "${prefix}/include/*chan*.h")
if(internal_headers)
  message(FATAL_ERROR "consumer: internal headers were installed: ${internal_headers}")
endif()

# --- 2. find_package(goc) ---------------------------------------------------------
set(build_type_arg "")
if(GOC_CONFIG)
  set(build_type_arg "-DCMAKE_BUILD_TYPE=${GOC_CONFIG}")
endif()
step("configure (find_package)" "${CMAKE_COMMAND}" -S "${src}" -B "${work}/build"
     -G "${GOC_GENERATOR}" "-DCMAKE_C_COMPILER=${GOC_C_COMPILER}"
     "-DCMAKE_PREFIX_PATH=${prefix}" "-DGOC_EXPECT_VERSION=${GOC_VERSION}" ${build_type_arg})
step("build (find_package)" "${CMAKE_COMMAND}" --build "${work}/build" ${config_args})
foreach(exe consumer_shared consumer_static)
  file(GLOB_RECURSE found "${work}/build/${exe}" "${work}/build/*/${exe}")
  if(NOT found)
    message(FATAL_ERROR "consumer: ${exe} was not built")
  endif()
  list(GET found 0 path)
  step("run ${exe}" "${path}")
endforeach()

# --- 3. pkg-config -----------------------------------------------------------------
set(ENV{PKG_CONFIG_PATH} "${libdir}/pkgconfig")
execute_process(COMMAND "${GOC_PKG_CONFIG}" --modversion goc
  OUTPUT_VARIABLE pc_version OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT pc_version STREQUAL "${GOC_VERSION}")
  message(FATAL_ERROR "consumer: pkg-config --modversion goc gave '${pc_version}' (${rc}), "
                      "expected ${GOC_VERSION}")
endif()

execute_process(COMMAND "${GOC_PKG_CONFIG}" --cflags --libs goc
  OUTPUT_VARIABLE pc_flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer: pkg-config --cflags --libs goc failed")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
step("compile (pkg-config)" "${GOC_C_COMPILER}" -std=c11 -Wall -Wextra -Werror
     "${src}/main.c" -o "${work}/consumer_pc" ${pc_flags})
set(ENV{LD_LIBRARY_PATH} "${libdir}")
step("run consumer_pc" "${work}/consumer_pc")
unset(ENV{LD_LIBRARY_PATH})

# Static: goc.pc must name goc's private dependencies for static linking.
# (Linking with the whole `pkg-config --static` closure is not tested: it
# pulls in hwloc's own private libraries, e.g. -ludev, whose -dev packages
# are not needed otherwise.)
execute_process(COMMAND "${GOC_PKG_CONFIG}" --print-requires-private goc
  OUTPUT_VARIABLE pc_requires RESULT_VARIABLE rc)
execute_process(COMMAND "${GOC_PKG_CONFIG}" --static --libs goc
  OUTPUT_VARIABLE pc_static_libs RESULT_VARIABLE rc2)
if(NOT rc EQUAL 0 OR NOT rc2 EQUAL 0 OR NOT pc_requires MATCHES "libuv"
   OR NOT pc_requires MATCHES "hwloc" OR NOT pc_static_libs MATCHES "-lpthread")
  message(FATAL_ERROR "consumer: goc.pc lacks its private dependencies:\n"
    "Requires.private: ${pc_requires}\nstatic libs: ${pc_static_libs}")
endif()
execute_process(COMMAND "${GOC_PKG_CONFIG}" --cflags goc
  OUTPUT_VARIABLE pc_cflags OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND "${GOC_PKG_CONFIG}" --libs-only-L goc
  OUTPUT_VARIABLE pc_libdirs OUTPUT_STRIP_TRAILING_WHITESPACE)
# the libraries of every Requires.private module (libuv, hwloc, and
# libunwind when goc was built with it)
string(REGEX REPLACE "[ \t\r\n]+" ";" pc_req_list "${pc_requires}")
list(REMOVE_ITEM pc_req_list "")
execute_process(COMMAND "${GOC_PKG_CONFIG}" --libs ${pc_req_list}
  OUTPUT_VARIABLE pc_deps OUTPUT_STRIP_TRAILING_WHITESPACE)
separate_arguments(pc_static UNIX_COMMAND "${pc_cflags} ${pc_libdirs} -l:libgoc.a ${pc_deps} -lpthread -ldl")
step("compile (libgoc.a, pkg-config)" "${GOC_C_COMPILER}" -std=c11 -Wall -Wextra -Werror
     "${src}/main.c" -o "${work}/consumer_pc_static" ${pc_static})
step("run consumer_pc_static" "${work}/consumer_pc_static")

message(STATUS "consumer: all good")
