/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 address and prefix text <-> host-order integers. The config readers use them, and so do
 * the control plane's renderers; nothing here allocates or keeps state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <strait/config.h>

// Strict where inet_aton() is lenient: exactly four decimal octets, nothing around them, and
// no leading zeros, which inet_aton() would read as octal.
int cfg_parse_ipv4(const char *s, uint32_t *addr)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		unsigned int v = 0, digits = 0;
		const char *start;

		if (i > 0 && *s++ != '.')
			return -EINVAL;
		start = s;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && *start == '0'))
			return -EINVAL;
		a = a << 8 | v;
	}
	if (*s != '\0')
		return -EINVAL;
	*addr = a;
	return 0;
}

int cfg_parse_cidr(const char *s, struct cfg_cidr *c)
{
	const char *slash = strchr(s, '/');
	char ip[16];
	size_t iplen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int len = 32;
	uint32_t addr;

	if (iplen >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (cfg_parse_ipv4(ip, &addr))
		return -EINVAL;
	if (slash != NULL) {
		const char *l = slash + 1;

		if (!(l[0] >= '0' && l[0] <= '9') || (l[0] == '0' && l[1] != '\0'))
			return -EINVAL;
		len = (unsigned int)(l[0] - '0');
		if (l[1] != '\0') {
			if (!(l[1] >= '0' && l[1] <= '9') || l[2] != '\0')
				return -EINVAL;
			len = len * 10 + (unsigned int)(l[1] - '0');
		}
		if (len > 32)
			return -EINVAL;
	}
	// Host bits stay as written: `10.0.0.1/24` on a port is an address plus its subnet.
	c->addr = addr;
	c->len = (uint8_t)len;
	return 0;
}

char *cfg_ipv4_str(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
	return buf;
}
