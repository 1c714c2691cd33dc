/*
 * san.h - sanitizer fiber annotations.
 *
 * ASan and TSan must be told when a thread moves from one stack to another,
 * or their reports are noise. The scheduler calls these around every
 * goc__ctx_switch; in normal builds they compile to nothing.
 *
 * ASan protocol: before a switch, san_asan_start(&fake_of_leaving_ctx,
 * bottom_of_target, size_of_target) (a NULL save pointer when the leaving
 * context dies); right after it resumes, san_asan_finish(its_fake_save,
 * &bottom_we_came_from, &size_we_came_from).
 * TSan protocol: each context owns a fiber; san_tsan_switch(target) right
 * before the switch.
 */
#ifndef GOC_SAN_H
#define GOC_SAN_H

#include <stddef.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define GOC_ASAN 1
#  endif
#  if __has_feature(thread_sanitizer)
#    define GOC_TSAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define GOC_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#  define GOC_TSAN 1
#endif

#ifdef GOC_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
static inline void san_asan_start(void **save, const void *bottom, size_t size)
{
    __sanitizer_start_switch_fiber(save, bottom, size);
}
static inline void san_asan_finish(void *save, const void **bottom_old, size_t *size_old)
{
    __sanitizer_finish_switch_fiber(save, bottom_old, size_old);
}
#else
static inline void san_asan_start(void **save, const void *bottom, size_t size)
{
    (void)save; (void)bottom; (void)size;
}
static inline void san_asan_finish(void *save, const void **bottom_old, size_t *size_old)
{
    (void)save; (void)bottom_old; (void)size_old;
}
#endif

#ifdef GOC_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
static inline void *san_tsan_current(void) { return __tsan_get_current_fiber(); }
static inline void *san_tsan_create(void) { return __tsan_create_fiber(0); }
static inline void san_tsan_destroy(void *f) { __tsan_destroy_fiber(f); }
static inline void san_tsan_switch(void *f) { __tsan_switch_to_fiber(f, 0); }
/* Happens-before edges TSan cannot see (libuv's pool hands results back
 * through an eventfd, which TSan does not model). */
void __tsan_release(void *addr);
void __tsan_acquire(void *addr);
static inline void goc__san_release(void *addr) { __tsan_release(addr); }
static inline void goc__san_acquire(void *addr) { __tsan_acquire(addr); }
#else
static inline void *san_tsan_current(void) { return NULL; }
static inline void *san_tsan_create(void) { return NULL; }
static inline void san_tsan_destroy(void *f) { (void)f; }
static inline void san_tsan_switch(void *f) { (void)f; }
static inline void goc__san_release(void *addr) { (void)addr; }
static inline void goc__san_acquire(void *addr) { (void)addr; }
#endif

#endif
