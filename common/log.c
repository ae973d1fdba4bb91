/* SPDX-License-Identifier: BSD-3-Clause */
#include <strait/log.h>

RTE_LOG_REGISTER(strait_logtype_dp, strait.dp, NOTICE);
RTE_LOG_REGISTER(strait_logtype_cp, strait.cp, INFO);
RTE_LOG_REGISTER(strait_logtype_k8s, strait.k8s, INFO);
