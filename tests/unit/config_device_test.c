/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader, ports.*.device as a pod hands the port over (config.c, cfg_device_parse):
 * {fromEnv: VAR}, the SR-IOV network device plugin's PCIDEVICE_<RESOURCE> variable (a PCI
 * address, or a comma-separated list of them: the first), and {netdev: IF, driver: ...}, a
 * kernel interface opened as an af_packet or af_xdp vdev. Error cases compare the whole
 * `FILE:LINE: KEY.PATH: what` message and exit status (-EINVAL: the daemon exits 2).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <strait/config.h>

static char err[512];

/* The ext port's device line is line 2 of every document here. */
#define DOC(dev) "ports:\n  ext: {device: " dev ", addresses: [198.51.100.1/24]}\n"

static int load(const char *yaml, struct cfg *c)
{
	err[0] = '\0';
	return cfg_load_string("t.yaml", yaml, strlen(yaml), c, err, sizeof(err));
}

static void expect_device(const char *yaml, const char *device)
{
	struct cfg c;

	assert_int_equal(load(yaml, &c), 0);
	assert_string_equal(err, "");
	assert_true(c.ext.present);
	assert_string_equal(c.ext.device, device);
	assert_int_equal(c.ext.device_line, 2);
	cfg_free(&c);
}

static void expect_error(const char *yaml, const char *msg)
{
	struct cfg c;

	assert_int_equal(load(yaml, &c), -EINVAL);
	assert_string_equal(err, msg);
}

static void scalar_device_is_kept(void **state)
{
	(void)state;
	expect_device(DOC("net_af_packet0"), "net_af_packet0");
	expect_device(DOC("\"net_af_xdp0,iface=eth1\""), "net_af_xdp0,iface=eth1");
}

static void from_env_takes_the_pci_address(void **state)
{
	(void)state;
	assert_int_equal(setenv("PCIDEVICE_INTEL_COM_SRIOV_EXT", "0000:3b:02.1", 1), 0);
	expect_device(DOC("{fromEnv: PCIDEVICE_INTEL_COM_SRIOV_EXT}"), "0000:3b:02.1");
	unsetenv("PCIDEVICE_INTEL_COM_SRIOV_EXT");
}

static void from_env_takes_the_first_of_a_list(void **state)
{
	(void)state;
	assert_int_equal(setenv("PCIDEVICE_INTEL_COM_SRIOV_EXT", "0000:3b:02.3,0000:3b:02.4", 1),
			 0);
	expect_device(DOC("{fromEnv: PCIDEVICE_INTEL_COM_SRIOV_EXT}"), "0000:3b:02.3");
	unsetenv("PCIDEVICE_INTEL_COM_SRIOV_EXT");
}

static void from_env_unset_or_empty_is_an_error(void **state)
{
	(void)state;
	unsetenv("PCIDEVICE_INTEL_COM_SRIOV_EXT");
	expect_error(DOC("{fromEnv: PCIDEVICE_INTEL_COM_SRIOV_EXT}"),
		     "t.yaml:2: ports.ext.device.fromEnv: environment variable "
		     "PCIDEVICE_INTEL_COM_SRIOV_EXT is not set (the SR-IOV device plugin sets it "
		     "when the pod requests the resource)");
	assert_int_equal(setenv("PCIDEVICE_INTEL_COM_SRIOV_EXT", "", 1), 0);
	expect_error(DOC("{fromEnv: PCIDEVICE_INTEL_COM_SRIOV_EXT}"),
		     "t.yaml:2: ports.ext.device.fromEnv: environment variable "
		     "PCIDEVICE_INTEL_COM_SRIOV_EXT is empty (the SR-IOV device plugin sets it "
		     "when the pod requests the resource)");
	unsetenv("PCIDEVICE_INTEL_COM_SRIOV_EXT");
}

static void from_env_not_a_pci_address_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(setenv("STRAIT_TEST_DEV", "eth1,0000:3b:02.4", 1), 0);
	expect_error(DOC("{fromEnv: STRAIT_TEST_DEV}"),
		     "t.yaml:2: ports.ext.device.fromEnv: STRAIT_TEST_DEV=\"eth1\" is not a PCI "
		     "address");
	assert_int_equal(setenv("STRAIT_TEST_DEV", ",0000:3b:02.4", 1), 0);
	expect_error(DOC("{fromEnv: STRAIT_TEST_DEV}"),
		     "t.yaml:2: ports.ext.device.fromEnv: STRAIT_TEST_DEV=\"\" is not a PCI "
		     "address");
	unsetenv("STRAIT_TEST_DEV");
	expect_error(DOC("{fromEnv: \"\"}"), "t.yaml:2: ports.ext.device.fromEnv: must not be "
					     "empty");
}

static void netdev_is_an_af_packet_vdev(void **state)
{
	(void)state;
	expect_device(DOC("{netdev: net1}"), "net_af_packet_net1,iface=net1");
	expect_device(DOC("{netdev: net1, driver: af_packet}"), "net_af_packet_net1,iface=net1");
	expect_device(DOC("{netdev: ens1f0v3, driver: af_xdp}"),
		      "net_af_xdp_ens1f0v3,iface=ens1f0v3");
}

static void netdev_errors_name_the_key(void **state)
{
	(void)state;
	expect_error(DOC("{netdev: \"a,b\"}"),
		     "t.yaml:2: ports.ext.device.netdev: \"a,b\" is not an interface name (1-15 "
		     "characters, no '/', ' ', ',', '=', ':')");
	expect_error(DOC("{netdev: abcdefghijklmnop}"),
		     "t.yaml:2: ports.ext.device.netdev: \"abcdefghijklmnop\" is not an interface "
		     "name (1-15 characters, no '/', ' ', ',', '=', ':')");
	expect_error(DOC("{netdev: \"\"}"),
		     "t.yaml:2: ports.ext.device.netdev: \"\" is not an interface name (1-15 "
		     "characters, no '/', ' ', ',', '=', ':')");
	assert_int_equal(load(DOC("{netdev: net1, driver: tap}"), &(struct cfg){0}), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:2: ports.ext.device.driver: "));
}

static void device_map_needs_one_source(void **state)
{
	(void)state;
	expect_error(DOC("{}"), "t.yaml:2: ports.ext.device: give either fromEnv (a PCIDEVICE_* "
				"variable of the SR-IOV device plugin) or netdev (a kernel "
				"interface), not neither");
	assert_int_equal(setenv("STRAIT_TEST_DEV", "0000:3b:02.1", 1), 0);
	expect_error(DOC("{fromEnv: STRAIT_TEST_DEV, netdev: net1}"),
		     "t.yaml:2: ports.ext.device: give either fromEnv (a PCIDEVICE_* variable of "
		     "the SR-IOV device plugin) or netdev (a kernel interface), not both");
	expect_error(DOC("{fromEnv: STRAIT_TEST_DEV, driver: af_xdp}"),
		     "t.yaml:2: ports.ext.device.driver: only with netdev: a fromEnv device is a "
		     "PCI address");
	unsetenv("STRAIT_TEST_DEV");
	assert_int_equal(load(DOC("{pci: x}"), &(struct cfg){0}), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:2: ports.ext.device"));
	assert_non_null(strstr(err, "pci"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scalar_device_is_kept),
		cmocka_unit_test(from_env_takes_the_pci_address),
		cmocka_unit_test(from_env_takes_the_first_of_a_list),
		cmocka_unit_test(from_env_unset_or_empty_is_an_error),
		cmocka_unit_test(from_env_not_a_pci_address_is_an_error),
		cmocka_unit_test(netdev_is_an_af_packet_vdev),
		cmocka_unit_test(netdev_errors_name_the_key),
		cmocka_unit_test(device_map_needs_one_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
