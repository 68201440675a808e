// SPDX-License-Identifier: GPL-2.0-or-later
/* The capability seam: libcap-ng behind two calls, so tests can stand in for it. */
#include "caps.h"

#include <cap-ng.h>
#include <errno.h>

bool caps_have(int cap)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() < 0)
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, (unsigned)cap);
}

int caps_keep_only(const int *caps, size_t n)
{
	if (capng_get_caps_process() < 0)
		return -EPERM;
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
		return 0;
	/* Keep what is held of the list: a capability not permitted now cannot be added back. */
	bool held[n ? n : 1];

	for (size_t i = 0; i < n; i++)
		held[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned)caps[i]);
	capng_clear(CAPNG_SELECT_BOTH);
	for (size_t i = 0; i < n; i++)
		if (held[i])
			capng_update(CAPNG_ADD,
				     CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
				     (unsigned)caps[i]);
	/* Shrinking the bounding set needs CAP_SETPCAP; without it the sets alone will do. */
	if (capng_apply(CAPNG_SELECT_BOTH) == 0)
		return 0;
	return capng_apply(CAPNG_SELECT_CAPS) == 0 ? 0 : -EPERM;
}

int caps_effective(const int *caps, size_t n, bool on)
{
	if (capng_get_caps_process() < 0)
		return -EPERM;
	for (size_t i = 0; i < n; i++)
		if (!on || capng_have_capability(CAPNG_PERMITTED, (unsigned)caps[i]))
			capng_update(on ? CAPNG_ADD : CAPNG_DROP, CAPNG_EFFECTIVE, (unsigned)caps[i]);
	return capng_apply(CAPNG_SELECT_CAPS) == 0 ? 0 : -EPERM;
}
