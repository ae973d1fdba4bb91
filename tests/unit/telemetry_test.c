/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The telemetry handlers run on the telemetry thread, which is no RCU reader of the tables:
 * they must read only what the control thread prepared for them. Here one thread plays the
 * telemetry socket and asks for /strait/sessions in a loop while this thread, the control
 * thread, republishes the tables (a timeout change: a new tables generation, the old tables
 * freed after the workers' grace period) and runs its loop. A handler that reads the tables
 * itself reads freed memory (AddressSanitizer: heap-use-after-free).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <rte_telemetry.h>

#include "cp_fixture.h"

/* The handlers' nested dicts are freed by the telemetry library once it has written the reply
 * (keep = 0); called directly, as here, they are not: not a leak of the daemon's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:tel_dict\n";
}

#define SESSIONS 512
#define QUERIES	 200

FIXTURE_GROUP("telemetry_test")

struct reader {
	int done;
	unsigned int ok, failed;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	for (unsigned int i = 0; i < QUERIES; i++) {
		struct rte_tel_data *d = rte_tel_data_alloc();
		const char *params = i % 2 ? "echo,4" : ",4";

		if (!d)
			break;
		if (cp_telemetry_call("/strait/sessions", params, d) == 0)
			r->ok++;
		else
			r->failed++;
		rte_tel_data_free(d);
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void sessions_walk_survives_republished_tables(void **state)
{
	(void)state;
	struct reader r = {0};
	uint64_t gen = cp_generation();
	unsigned int publishes = 0;
	pthread_t t;

	for (uint16_t i = 0; i < SESSIONS; i++)
		fixture_inject((uint16_t)(20000 + i), i % 2 ? 7777 : 8080,
			       i % 2 ? IPPROTO_UDP : IPPROTO_TCP);
	cp_snap_update();
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		// The control loop: a new tables generation, then the loop's own work.
		assert_int_equal(cp_timeout_set("udp", 30 + publishes % 2), 0);
		publishes++;
		cp_snap_update();
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(cp_generation(), gen + publishes);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.ok, QUERIES);
	dp_sessions_clear(-1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sessions_walk_survives_republished_tables),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
