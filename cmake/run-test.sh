#!/bin/sh
# Test launcher for sanitizer builds: run-test.sh PROGRAM [ARGS...]
#
# ASan and TSan from GCC <= 13 / LLVM <= 17 map their shadow memory at fixed
# addresses that assume at most 28 bits of mmap randomization; on kernels
# with vm.mmap_rnd_bits > 28 their binaries die ("FATAL: ThreadSanitizer:
# unexpected memory mapping") or loop on DEADLYSIGNAL. Where the bits are
# high (or cannot be read), run the test with ASLR off via setarch -R, if
# the machine lets us (some container seccomp profiles forbid it).
bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || sysctl -n vm.mmap_rnd_bits 2>/dev/null || echo unknown)
case "$bits" in
  ''|*[!0-9]*) high=1 ;;                          # unknown: assume high
  *) if [ "$bits" -gt 28 ]; then high=1; else high=0; fi ;;
esac
if [ "$high" = 1 ] && [ -z "${GOC_NO_SETARCH:-}" ] &&
   command -v setarch >/dev/null 2>&1 &&
   setarch "$(uname -m)" -R true >/dev/null 2>&1; then
  exec setarch "$(uname -m)" -R "$@"
fi
exec "$@"
