# ctest "symbols": every symbol libgoc.so exports must start with goc_.
#   cmake -DLIB=/path/libgoc.so -DNM=nm -P check-symbols.cmake
cmake_policy(VERSION 3.20)
if(NOT LIB OR NOT EXISTS "${LIB}")
  message(FATAL_ERROR "check-symbols: no library at '${LIB}'")
endif()
if(NOT NM)
  set(NM nm)
endif()
execute_process(COMMAND "${NM}" -D --defined-only "${LIB}"
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check-symbols: ${NM} failed (${rc}): ${err}")
endif()

# Symbols the linker defines in every shared object.
set(linker_symbols _init _fini _edata _end __bss_start __bss_start__
    _bss_end__ __end__ __bss_end__ _end__ __data_start data_start)
string(REPLACE "\n" ";" lines "${out}")
set(bad "")
set(good 0)
foreach(line IN LISTS lines)
  # "0000000000001234 T goc_run" (the address is missing for some types)
  if(NOT line MATCHES "^([0-9a-fA-F]+ +)?([A-Za-z?-]) +([^ ]+)$")
    continue()
  endif()
  set(type "${CMAKE_MATCH_2}")
  string(REGEX REPLACE "@.*$" "" name "${CMAKE_MATCH_3}")   # drop @VERSION
  if(name IN_LIST linker_symbols)
    continue()
  endif()
  if(name MATCHES "^goc_")
    math(EXPR good "${good} + 1")
  else()
    list(APPEND bad "${type} ${name}")
  endif()
endforeach()

if(bad)
  list(JOIN bad "\n  " bad_text)
  message(FATAL_ERROR "check-symbols: ${LIB} exports symbols without the goc_ "
    "prefix (mark internal functions static, or leave them without GOC_API):\n  ${bad_text}")
endif()
if(good EQUAL 0)
  message(FATAL_ERROR "check-symbols: ${LIB} exports no goc_ symbol at all:\n${out}")
endif()
message(STATUS "check-symbols: ${good} exported symbols, all goc_*")
