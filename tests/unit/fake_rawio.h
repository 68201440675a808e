/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted stand-in for rawio.c (raw and packet sockets) that behaves like the kernel's TCP
 * for the rst engine: probes draw ACKs carrying snd_nxt/rcv_nxt, only an exact reset kills.
 * Its live sockets are what the fake netlink dump lists. Also stands in for caps.c.
 */
#ifndef SOCKREAP_FAKE_RAWIO_H
#define SOCKREAP_FAKE_RAWIO_H

#include "sock.h"

enum fake_tcp_quirk {
	FQ_NONE = 0,
	FQ_SILENT_TO_SYN = 1,	/* rate-limited: a SYN draws nothing, a data segment does */
	FQ_NEVER_REPLIES = 2,	/* a firewall on the input path */
	FQ_SEND_EPERM = 4,	/* a firewall on the output path */
	FQ_RCV_MOVES = 8,	/* data arrives between the reply and our reset, once */
	FQ_GONE = 16,		/* closed before the engine looked again */
	FQ_EPERM_TWICE = 32,	/* conntrack: the first two probes refused, then one passes */
	FQ_LOSE_FIRST_RST = 64,	/* the first reset is lost on the way */
	/*
	 * The 4-tuple is reused: the socket closes and the next scripted one (same 4-tuple,
	 * another cookie, scripted FQ_GONE) takes its place, right after it answers a probe,
	 * right after its first probe whether it answers or not, or right after it dies.
	 */
	FQ_REPLACED_ON_REPLY = 128,
	FQ_REPLACED_ON_PROBE = 256,
	FQ_REPLACED_ON_DEATH = 512,
	FQ_BREAKS_DUMPS = 1024,	/* once it dies, every netlink dump and check fails (ENOBUFS) */
	/* Its peer has no socket: it answers our probe's reply with an exact reset. */
	FQ_PEER_CLOSED = 2048,
	/*
	 * Its owner aborts it (SO_LINGER {1,0}) after the identity check and before our reset
	 * arrives: it sends its own RST|ACK (seq snd_nxt, ack rcv_nxt) and is gone; the reset
	 * meets no socket. Right after it answers a probe, or as our first reset is on its way.
	 */
	FQ_OWNER_ABORTS_ON_REPLY = 4096,
	FQ_OWNER_ABORTS_BEFORE_RESET = 8192,
	/*
	 * Closed for reading (FIN_WAIT2 after close): a one-byte probe that lands in its window
	 * (here: every one) makes it answer with an RST (seq = the probe's ack, no ACK flag)
	 * and die, as tcp_rcv_state_process does for data after shutdown.
	 */
	FQ_RST_ON_DATA = 16384,
};

struct fake_tcp {
	struct sock_rec rec;
	uint32_t snd_nxt, rcv_nxt;
	unsigned quirks;
	/* What happened to it: */
	bool alive;
	unsigned syn_probes, ack_probes, resets_in, peer_resets, refused;
	uint32_t peer_reset_seq;
};

/*
 * The capture sees every segment the scripted sockets send (replies, their own resets) and,
 * as a packet socket on lo does, every reset the engine sends, as it leaves.
 */
void fake_rawio_script(struct fake_tcp *socks, size_t n);
/* 0, or -errno for rawio_open to fail with. */
void fake_rawio_open_error(int err);
/*
 * Addresses of this namespace, for rawio_is_local: 127.0.0.0/8, ::1 and the local address of
 * every scripted socket. Lookups are counted.
 */
unsigned fake_rawio_local_lookups(void);
/* Segments sent toward addresses of no scripted socket (must stay 0). */
unsigned fake_rawio_strays(void);
/* Capabilities the code under test kept last (caps_keep_only), and how often it was called. */
size_t fake_caps_kept(int *caps, size_t max, unsigned *calls);

#endif
