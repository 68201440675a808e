/*
 * The kernel prefilter: what part of the AST the kernel can apply to a dump. It must only
 * ever widen: every socket the full evaluation would match has to pass it.
 */
#include "selector.h"

#include <sys/socket.h>

#define FAM_4 1U
#define FAM_6 2U

static uint32_t states_of(const struct sel_node *n)
{
	switch (n->kind) {
	case SEL_STATE:
		return n->u.states.mask;
	case SEL_AND:
		return states_of(n->l) & states_of(n->r);
	case SEL_OR:
		return states_of(n->l) | states_of(n->r);
	case SEL_NOT:
		/* Only a bare state list can be complemented exactly. */
		if (n->l->kind == SEL_STATE)
			return SS_ALL_MASK & ~n->l->u.states.mask;
		return SS_ALL_MASK;
	default:
		return SS_ALL_MASK;
	}
}

static unsigned families_of(const struct sel_node *n)
{
	switch (n->kind) {
	case SEL_FAMILY:
		return n->u.num.value == AF_INET ? FAM_4 : FAM_6;
	case SEL_AND:
		return families_of(n->l) & families_of(n->r);
	case SEL_OR:
		return families_of(n->l) | families_of(n->r);
	case SEL_NOT:
		if (n->l->kind == SEL_FAMILY)
			return (FAM_4 | FAM_6) & ~families_of(n->l);
		return FAM_4 | FAM_6;
	default:
		return FAM_4 | FAM_6;
	}
}

void selector_prefilter(const struct sel_node *n, struct sel_prefilter *pf)
{
	uint32_t states = n ? states_of(n) : SS_ALL_MASK;
	unsigned fam = n ? families_of(n) : FAM_4 | FAM_6;

	if (!selector_names_listen(n))
		states &= ~SS_BIT(SS_LISTEN);
	/* Request sockets are dumped under their own state number. */
	if (states & SS_BIT(SS_SYN_RECV))
		states |= SS_BIT(SS_NEW_SYN_RECV);
	pf->states = states;
	pf->inet = fam & FAM_4;
	pf->inet6 = fam & FAM_6;
}
