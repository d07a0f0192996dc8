/*
 * NAME
 *	chainsel - which chain serves this connection or message
 * SYNOPSIS
 *	#include "session.h"
 *
 *	i = chain_select(s, rcpt_domain_or_NULL);
 * DESCRIPTION
 *	Chains are tried in file order; the first whose conditions all hold
 *	wins. A condition on a fact not known yet (SMTP AUTH before MAIL,
 *	the recipient domain before the first RCPT) is undecided; a chain
 *	with an undecided condition and no false one stops the search, so
 *	a later chain never wins over an earlier one that might still match.
 *	Returns the chain index, -1 while undecided, -2 when none matches.
 */
#include "config.h"

#include <string.h>

#include "session.h"

/* The domain comes normalised (session.c), the patterns too (conf.c). */
int
chain_matches_domain(const struct chain *ch, const char *domain)
{
	for (size_t i = 0; domain && i < ch->nrcpt_domains; i++)
		if (domain_match(domain, ch->rcpt_domains[i]))
			return 1;
	return 0;
}

/* 1 holds, 0 fails, -1 undecided */
static int
chain_holds(const struct session *s, const struct chain *ch,
    const char *rcpt_domain)
{
	int undecided = 0;

	switch (ch->client) {
	case CM_INTERNAL:
		if (s->cls != MM_CLIENT_INTERNAL)
			return 0;
		break;
	case CM_EXTERNAL:
		if (s->cls != MM_CLIENT_EXTERNAL)
			return 0;
		break;
	case CM_TRUSTED:
		if (s->cls != MM_CLIENT_TRUSTED_RELAY)
			return 0;
		break;
	case CM_CIDR:
		if (!s->have_sa || !cidr_list_match(ch->nets, ch->nnets, s->family, s->abytes))
			return 0;
		break;
	default:
		break;
	}
	if (ch->ndaemons) {
		int hit = 0;
		for (size_t i = 0; s->daemon && i < ch->ndaemons; i++)
			if (strcmp(ch->daemons[i], s->daemon) == 0)
				hit = 1;
		if (!hit)
			return 0;
	}
	if (ch->auth >= 0) {
		if (!s->in_msg)
			undecided = 1;
		else if ((s->m->auth_user != NULL) != ch->auth)
			return 0;
	}
	if (ch->nrcpt_domains) {
		if (rcpt_domain == NULL)
			undecided = 1;
		else if (!chain_matches_domain(ch, rcpt_domain))
			return 0;
	}
	return undecided ? -1 : 1;
}

int
chain_select(struct session *s, const char *rcpt_domain)
{
	for (size_t i = 0; i < s->conf->nchains; i++) {
		int h = chain_holds(s, &s->conf->chains[i], rcpt_domain);
		if (h == 1)
			return (int)i;
		if (h < 0)
			return -1;
	}
	return -2;
}
