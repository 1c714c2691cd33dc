# ctest "layers": the library's files call only downward.
#   cmake -DNM=nm -DOBJDIR=<goc_objects' object dir> -DOBJECTS="a.o|b.o|..."
#         -P check-layers.cmake
#
# Every source file of the library has a layer (the table below, bottom
# first; README "Layout" says what each layer is). A file may call what a
# file of a LOWER layer defines, never what a file of its own layer or a
# higher one defines: then there is no circle, and a reader can learn the
# library bottom up. The check reads the object files with nm, so calls
# through static inline functions in headers count too. A file missing
# from the table fails the check: a new file must be given its place.
cmake_policy(VERSION 3.20)

set(layers
  # 0: what every layer stands on: the context switch, spinning, lock
  # ranks, error strings, topology, the current worker and the clock,
  # chaos, guard pages
  "sched/ctx_x86_64.S sched/ctx_aarch64.S sched/current.c"
  "sched/ctx_native.c sched/ctx_ucontext.c sched/spin.c sched/check.c sched/error.c sched/topo.c sched/chaos.c sched/guard.c"
  # memory and diagnostics sinks
  "sched/names.c sched/solo.c"
  "sched/trace.c"
  "sched/stack.c sched/overflow.c sched/copool.c"
  # queues: timer heaps, run queues and wake-ups, the waker's side of parking
  "sched/timer.c sched/runq.c"
  "sched/wake.c"
  "sched/coro.c sched/netpoll.c"
  # the scheduler's loop
  "sched/deadlock.c"
  "sched/idle.c"
  "sched/sched.c"
  # parking, and what parks
  "sched/park.c"
  "sched/coapi.c sched/uvreq.c sched/pollwait.c"
  "sched/dump.c sched/stats.c"
  "sched/monitor.c"
  "sched/runtime.c"
  # the layers above the scheduler (park.h, netpoll.h, uvreq.h)
  "io/fs.c io/dns.c io/thread.c chan/chan.c chan/sync.c chan/wg.c"
  "io/tcp.c chan/select.c chan/after.c"
  "asyncio/event.c asyncio/gen.c asyncio/queue.c asyncio/task.c")

set(level 0)
foreach(row IN LISTS layers)
  string(REPLACE " " ";" files "${row}")
  foreach(f IN LISTS files)
    set(level_of_${f} ${level})
  endforeach()
  math(EXPR level "${level} + 1")
endforeach()

if(NOT NM)
  set(NM nm)
endif()
string(REPLACE "|" ";" objects "${OBJECTS}")
set(sources "")
foreach(obj IN LISTS objects)
  # <OBJDIR>/sched/timer.c.o -> sched/timer.c
  file(RELATIVE_PATH rel "${OBJDIR}" "${obj}")
  string(REGEX REPLACE "\\.o(bj)?$" "" src "${rel}")
  if(NOT DEFINED level_of_${src})
    message(FATAL_ERROR "check-layers: ${src} has no layer: give it one in cmake/check-layers.cmake")
  endif()
  list(APPEND sources "${src}")
  set(src_of_${obj} "${src}")
endforeach()

# One nm for the definitions, one for the uses: "obj.o: 0000 T name" and
# "obj.o:                  U name" (-A names the file on every line).
execute_process(COMMAND "${NM}" -A --defined-only ${objects}
  OUTPUT_VARIABLE defined ERROR_QUIET)
execute_process(COMMAND "${NM}" -A -u ${objects}
  OUTPUT_VARIABLE used ERROR_QUIET)
string(REPLACE "\n" ";" lines "${defined}")
foreach(line IN LISTS lines)
  if(line MATCHES "^(.*\\.o(bj)?): *[0-9a-fA-F]* +[TDBRVW] +([A-Za-z_][A-Za-z0-9_]*)$")
    set(def_${CMAKE_MATCH_3} "${src_of_${CMAKE_MATCH_1}}")
  endif()
endforeach()

set(bad "")
set(calls 0)
string(REPLACE "\n" ";" lines "${used}")
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^(.*\\.o(bj)?): +U +([A-Za-z_][A-Za-z0-9_]*)$")
    continue()
  endif()
  set(src "${src_of_${CMAKE_MATCH_1}}")
  set(sym "${CMAKE_MATCH_3}")
  if(NOT DEFINED def_${sym})
    continue() # libc, libuv, hwloc ...
  endif()
  set(to "${def_${sym}}")
  math(EXPR calls "${calls} + 1")
  if(NOT level_of_${to} LESS level_of_${src})
    list(APPEND bad "${src} (layer ${level_of_${src}}) uses ${sym} of ${to} (layer ${level_of_${to}})")
  endif()
endforeach()

list(LENGTH sources nsources)
if(bad)
  list(JOIN bad "\n  " text)
  message(FATAL_ERROR "check-layers: calls that do not go down:\n  ${text}")
endif()
if(nsources LESS 20 OR calls LESS 100)
  message(FATAL_ERROR "check-layers: read only ${nsources} objects and ${calls} calls: wrong OBJECTS?")
endif()
message(STATUS "check-layers: ${nsources} files, ${calls} calls between them, all downward")
