/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rst engine's system seam: raw sockets that send TCP segments we build, and one packet
 * socket that captures the replies leaving local sockets.
 */
#ifndef SOCKREAP_RAWIO_H
#define SOCKREAP_RAWIO_H

#include <stdbool.h>
#include <stddef.h>

#include "packet.h"

struct rawio;

#define RAWIO_BATCH 256

/*
 * Opens an IPPROTO_RAW socket per family, the capture socket (filter attached, not bound: it
 * receives nothing yet) and an rtnetlink socket, all in the calling thread's network namespace,
 * where they act from then on. Needs CAP_NET_RAW; nothing of it afterwards.
 * Returns 0 or a negative errno; *what names the socket that failed.
 */
int rawio_open(struct rawio **out, const char **what);
void rawio_close(struct rawio *io);

/*
 * Starts the capture (binds it; no capability needed) and allocates its frame buffers; again
 * is a no-op. Before it, rawio_poll answers -ENOTCONN. 0 or a negative errno.
 */
int rawio_capture(struct rawio *io);
/*
 * rawio_capture, taking what arrives for this host as well as what leaves (before the first
 * capture only): the forwarded kill's probe to a flow's source is answered towards the
 * router, where conntrack may stop the answer.
 */
int rawio_capture_arriving(struct rawio *io);

/*
 * Sends up to RAWIO_BATCH segments (one sendmmsg per family run). errs[i] gets 0 or a negative
 * errno (-EPERM: a firewall dropped it on the way out). ifindex[i] scopes link-local IPv6
 * destinations (0 otherwise); may be NULL.
 */
void rawio_send(struct rawio *io, const struct pkt_tcp *pkts, const int *ifindex, size_t n,
		int *errs);

typedef void (*rawio_reply_cb)(const struct pkt_tcp *reply, void *arg);

/*
 * Waits up to timeout_ms (0: only what is queued) for captured segments, calls cb for each one
 * that parses and carries no payload, and returns how many it passed on, or a negative errno.
 */
int rawio_poll(struct rawio *io, int timeout_ms, rawio_reply_cb cb, void *arg);

/*
 * Whether addr (as on the wire: IPv4 in addr[0]) is an address of this network namespace:
 * the kernel's route to it is of type local (a route lookup over rtnetlink, remembered per
 * address). A segment sent there reaches a socket here, not another host. 1, 0 or -errno.
 */
int rawio_is_local(struct rawio *io, int family, const uint32_t addr[4]);

/* Frames the capture socket dropped since the last call (PACKET_STATISTICS). */
unsigned rawio_drops(struct rawio *io);

#endif
