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
 */
#include <jemalloc/jemalloc.h>

const char *malloc_conf = "tcache_max:1048576";
