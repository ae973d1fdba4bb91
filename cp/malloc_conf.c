/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jemalloc's options, linked into each executable that links jemalloc (meson.build). jemalloc
 * reads them at its first allocation, from this global (jemalloc(3), "TUNING": malloc_conf);
 * MALLOC_CONF in the environment still overrides them.
 *
 * tcache_max:1048576: blocks of up to 1 MiB come from the thread's cache, reused as they are
 * (calloc() clears them with memset). With jemalloc's default (32 KiB), calloc() took the
 * control plane's per-publication indexes (up to 135 KiB each: the Maglev reuse index, the
 * addresses' index, the slot maps) as large blocks and zeroed each by purging its pages
 * (madvise(MADV_DONTNEED)) and faulting them back: a TLB shootdown that interrupts every
 * worker lcore, ~4 a publication, and twice the CPU of a single change's publication
 * (docs/benchmarks.md, "jemalloc, and the watch's decoding (stop 30)").
 *
 * dirty_decay_ms:60000: freed pages are given back to the kernel over a minute instead of ten
 * seconds. Each purge is an madvise(MADV_DONTNEED), which flushes the TLB of every CPU of the
 * process: an interrupt of every worker lcore. Under endpoint churn the control plane frees
 * and allocates the same sizes publication after publication, and with ten seconds jemalloc
 * purged much of what the next publication then faulted back: 210 interrupts of the worker a
 * publication at 10,000 updates/s, 38-41 with a minute, at the same peak resident size
 * (docs/benchmarks.md, "Fewer purges, fewer interrupts (stop 34)"). Memory an idle control
 * plane no longer uses still goes back, a minute later.
 */
#include <jemalloc/jemalloc.h>

const char *malloc_conf = "tcache_max:1048576,dirty_decay_ms:60000";
