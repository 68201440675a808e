/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted router for the forwarded-flow kill: stands in for rawio.c and conntrack_nl.c.
 * Each flow has a conntrack entry (with NAT) and two ends; a segment sent through the entry
 * reaches one end as the kernel would route it, and what leaves the router is captured.
 */
#ifndef SOCKREAP_FAKE_FWDNET_H
#define SOCKREAP_FAKE_FWDNET_H

#include "conntrack.h"

enum fake_fwd_quirk {
	FF_NONE = 0,
	FF_DST_SILENT = 1,	/* a firewall past the router: the destination never answers */
	FF_SRC_RCV_MOVED = 2,	/* data from the destination in flight: the source expects more */
	FF_ENTRY_DROPPED = 4,	/* conntrack drops the entry itself once it sees it CLOSE */
	FF_SRC_SILENT = 8,	/* the source never answers (its host gone, a firewall) */
};

struct fake_fwd {
	struct ct_flow f;	/* the entry as dumped */
	uint32_t src_snd_nxt, src_rcv_nxt;	/* the original source end */
	uint32_t dst_snd_nxt, dst_rcv_nxt;	/* the original destination end */
	unsigned quirks;
	/* What happened: */
	bool src_alive, dst_alive, entry;
	uint8_t ct_state;
	unsigned syns, acks, acks_through, resets_refused, deletes;
};

void fake_fwdnet_script(struct fake_fwd *v, size_t n);
/* Segments sent that match no scripted entry in either direction (must stay 0). */
unsigned fake_fwdnet_strays(void);

#endif
