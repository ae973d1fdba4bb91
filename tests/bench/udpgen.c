/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udpgen: the end-to-end benchmark's traffic generator. 64-byte (on the wire) UDP frames
 * from N flows (source ports), written to an interface through an AF_PACKET socket with
 * sendmmsg(), for a duration, as fast as it goes or paced to a rate.
 *
 * Why not trafgen: an skb stays charged to the sending socket until whoever receives it frees
 * it, and the socket may hold only its send buffer's worth (net.core.wmem_default, 208 KiB:
 * about 270 frames). When the gateway works on the other CPU (the kernel with RPS) those
 * frames are freed late, and the generator waits instead of the gateway dropping: trafgen
 * measured its own flow control, not the gateway. It cannot raise its buffer without
 * changing the machine-wide sysctls (read-only in a network namespace); this generator takes
 * a large buffer with SO_SNDBUFFORCE (root) and bypasses the qdisc, so what it offers is
 * what the gateway gets, and what the gateway cannot take is dropped and counted there.
 *
 * usage: udpgen IFACE DST_MAC SRC_IP DST_IP DST_PORT FLOWS SECONDS [RATE_PPS]
 * prints: sent=N seconds=S pps=P
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkt_build.h" /* RFC 1071 checksums from scratch, shared with the unit tests */

#define FRAME_LEN  60 /* + 4 bytes of FCS on the wire: 64 */
#define BATCH	   64
#define SPORT_BASE 1024

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 8) {
		fprintf(stderr, "usage: udpgen IFACE DST_MAC SRC_IP DST_IP DST_PORT FLOWS SECONDS "
				"[RATE_PPS]\n");
		return 2;
	}
	const char *ifname = argv[1];
	uint8_t dmac[6], smac[6];
	struct in_addr src, dst;
	int dport = atoi(argv[5]), flows = atoi(argv[6]);
	double secs = atof(argv[7]), rate = argc > 8 ? atof(argv[8]) : 0;

	if (parse_mac(argv[2], dmac) < 0 || inet_pton(AF_INET, argv[3], &src) != 1 ||
	    inet_pton(AF_INET, argv[4], &dst) != 1 || dport <= 0 || dport > 65535 || flows < 1 ||
	    flows > 65536 - SPORT_BASE || secs <= 0) {
		fprintf(stderr, "udpgen: bad arguments\n");
		return 2;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, 0); // protocol 0: send only, receive nothing
	if (fd < 0) {
		perror("udpgen: socket");
		return 1;
	}
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	// The two answers share the union: the MAC first, then the index.
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("udpgen: interface MAC");
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		perror("udpgen: interface index");
		return 1;
	}
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifr.ifr_ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("udpgen: bind");
		return 1;
	}
	int one = 1, buf = 64 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		perror("udpgen: SO_SNDBUFFORCE (continuing with the default buffer)");
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));

	// One frame per flow, checksums computed once.
	uint8_t(*frames)[FRAME_LEN] = calloc((size_t)flows, FRAME_LEN);
	if (!frames)
		return 1;
	for (int f = 0; f < flows; f++) {
		uint8_t *e = frames[f], *ip = e + 14, *u = ip + 20;
		uint16_t sport = (uint16_t)(SPORT_BASE + f), c;
		memcpy(e, dmac, 6);
		memcpy(e + 6, smac, 6);
		e[12] = 0x08;
		ip[0] = 0x45;
		ip[3] = 46; /* 20 + 8 + 18 */
		ip[4] = (uint8_t)(f >> 8), ip[5] = (uint8_t)f;
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &src, 4);
		memcpy(ip + 16, &dst, 4);
		c = tb_ip_cksum(ip, 20);
		ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
		u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport;
		u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
		u[5] = 26;
		for (int i = 8; i < 26; i++)
			u[i] = (uint8_t)i;
		c = tb_l4_cksum(ip, u, 26, IPPROTO_UDP);
		u[6] = (uint8_t)(c >> 8), u[7] = (uint8_t)c;
	}

	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	memset(msgs, 0, sizeof(msgs));
	uint64_t sent = 0;
	unsigned int next = 0;
	double t0 = now_s(), t;
	while ((t = now_s()) - t0 < secs) {
		unsigned int n = BATCH;
		if (rate > 0) {
			// Paced: never ahead of rate * elapsed; small batches keep the spacing even.
			double due = (t - t0) * rate - (double)sent;
			if (due < 1)
				continue;
			n = due < BATCH ? (unsigned int)due : BATCH;
		}
		for (unsigned int i = 0; i < n; i++) {
			iov[i].iov_base = frames[next];
			iov[i].iov_len = FRAME_LEN;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			next = next + 1 == (unsigned int)flows ? 0 : next + 1;
		}
		int r = sendmmsg(fd, msgs, n, 0);
		if (r > 0)
			sent += (uint64_t)r;
		else if (r < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("udpgen: sendmmsg");
			return 1;
		}
	}
	t = now_s() - t0;
	printf("sent=%llu seconds=%.3f pps=%.0f\n", (unsigned long long)sent, t, (double)sent / t);
	free(frames);
	close(fd);
	return 0;
}
