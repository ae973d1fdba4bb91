/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building block of the source kinds: a Service's ports and endpoints (k8s_service.c).
 */
#ifndef STRAIT_K8S_SERVICE_H
#define STRAIT_K8S_SERVICE_H

#include <strait/config.h>

#include "k8s_build.h"

/**
 * Mode service: resolve the Service @p tmpl->service_name, its ports and endpoints, into one
 * mapping, or one per ports entry when their endpoints differ.
 * @return 0 (@p r failed when the Service or a port is missing) or -ENOMEM.
 */
int k8s_service_build(struct k8s_build *b, struct k8s_result *r, const struct cfg_mapping *tmpl);

#endif
