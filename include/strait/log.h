/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Log types `strait.dp`, `strait.cp`, `strait.k8s` over rte_log (DPDK 22.11 has no
 * RTE_LOG_LINE). The data plane never logs on a worker lcore: it counts drops by reason.
 * Levels are set with EAL's `--log-level=strait.k8s:debug`.
 */
#ifndef STRAIT_LOG_H
#define STRAIT_LOG_H

#include <rte_log.h>

extern int strait_logtype_dp;
extern int strait_logtype_cp;
extern int strait_logtype_k8s;

#define STRAIT_LOG(type, level, fmt, ...)                                                          \
	rte_log(RTE_LOG_##level, strait_logtype_##type, "strait.%s: " fmt "\n", #type,             \
		##__VA_ARGS__)

#define CP_LOG(level, fmt, ...)	 STRAIT_LOG(cp, level, fmt, ##__VA_ARGS__)
#define DP_LOG(level, fmt, ...)	 STRAIT_LOG(dp, level, fmt, ##__VA_ARGS__)
#define K8S_LOG(level, fmt, ...) STRAIT_LOG(k8s, level, fmt, ##__VA_ARGS__)

#endif
