/*++
 * NAME
 *	mc_result 3
 * SUMMARY
 *	milterclient modifications and results
 * SYNOPSIS
 *	#include "mc_conn.h"
 * DESCRIPTION
 *	mc_need_action() names the negotiated action (MC_ACT_*) that a
 *	modification request needs, 0 for a code that is none.
 *	mc_add_mod() parses one modification request of the filter into a
 *	result, refusing one whose action was not negotiated.
 *	mc_result_init(), mc_result_free(), mc_result_print() and
 *	mc_code_name() are described in milterclient(3).
 * DIAGNOSTICS
 *	mc_add_mod() returns -1 after a malformed request or a memory
 *	shortage, with the reason for mc_error().
 * SEE ALSO
 *	milterclient(3), the interface these serve
 *--*/

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_conn.h"

/* mc_code_name - name a filter reply or modification */

const char *mc_code_name(int code)
{
    switch (code) {
    case MC_CONTINUE: return ("continue");
    case MC_ACCEPT: return ("accept");
    case MC_REJECT: return ("reject");
    case MC_TEMPFAIL: return ("tempfail");
    case MC_DISCARD: return ("discard");
    case MC_REPLYCODE: return ("replycode");
    case MC_CONNFAIL: return ("connfail");
    case MC_SHUTDOWN: return ("shutdown");
    case MC_SKIP: return ("skip");
    case 'p': return ("progress");
    case 'O': return ("negotiate");
    case 'l': return ("setsymlist");
    case MC_M_ADDHEADER: return ("addheader");
    case MC_M_INSHEADER: return ("insheader");
    case MC_M_CHGHEADER: return ("chgheader");
    case MC_M_ADDRCPT: return ("addrcpt");
    case MC_M_DELRCPT: return ("delrcpt");
    case MC_M_ADDRCPT_PAR: return ("addrcpt_par");
    case MC_M_CHGFROM: return ("chgfrom");
    case MC_M_REPLBODY: return ("replbody");
    case MC_M_QUARANTINE: return ("quarantine");
    default: return ("unknown");
    }
}

/* mc_need_action - the action a modification request needs */

uint32_t mc_need_action(int kind)
{
    switch (kind) {
    case MC_M_ADDHEADER: return (MC_ACT_ADDHDRS);
    case MC_M_INSHEADER: return (MC_ACT_ADDHDRS);
    case MC_M_CHGHEADER: return (MC_ACT_CHGHDRS);
    case MC_M_ADDRCPT: return (MC_ACT_ADDRCPT);
    case MC_M_DELRCPT: return (MC_ACT_DELRCPT);
    case MC_M_ADDRCPT_PAR: return (MC_ACT_ADDRCPT_PAR);
    case MC_M_CHGFROM: return (MC_ACT_CHGFROM);
    case MC_M_REPLBODY: return (MC_ACT_CHGBODY);
    case MC_M_QUARANTINE: return (MC_ACT_QUARANTINE);
    default: return (0);
    }
}

/* add_mod - parse one modification request into the result */

int mc_add_mod(MC_CONN *c, MC_RESULT *r, int kind,
		           const unsigned char *p, size_t left)
{
    MC_MOD  m;
    MC_MOD *mods;
    size_t  n;

    if ((c->actions & mc_need_action(kind)) == 0)
	return (mc_fail(c, "%s request without negotiating it",
		     mc_code_name(kind)));
    memset(&m, 0, sizeof(m));
    m.kind = kind;
    switch (kind) {
    case MC_M_INSHEADER:
    case MC_M_CHGHEADER:
	if (mc_take_u32(c, &p, &left, &m.index, kind) < 0)
	    goto bad;
	/* FALLTHROUGH */
    case MC_M_ADDHEADER:
	if (mc_take_str(c, &p, &left, &m.s1, kind) < 0
	    || mc_take_str(c, &p, &left, &m.s2, kind) < 0)
	    goto bad;
	break;
    case MC_M_ADDRCPT_PAR:
    case MC_M_CHGFROM:
	if (mc_take_str(c, &p, &left, &m.s1, kind) < 0
	    || (left > 0 && mc_take_str(c, &p, &left, &m.s2, kind) < 0))
	    goto bad;
	break;
    case MC_M_ADDRCPT:
    case MC_M_DELRCPT:
    case MC_M_QUARANTINE:
	if (mc_take_str(c, &p, &left, &m.s1, kind) < 0)
	    goto bad;
	break;
    case MC_M_REPLBODY:
	if ((m.s1 = malloc(left + 1)) == NULL) {
	    mc_fail(c, "out of memory");
	    goto bad;
	}
	memcpy(m.s1, p, left);
	m.s1[left] = 0;
	m.len = left;
	left = 0;
	break;
    }
    if (left > 0) {
	mc_fail(c, "%s reply with %lu bytes of excess data",
	     mc_code_name(kind), (unsigned long) left);
	goto bad;
    }
    if (m.len == 0 && m.s1)
	m.len = strlen(m.s1);
    if (r->nmods == r->amods) {
	n = r->amods ? 2 * r->amods : 4;
	if ((mods = realloc(r->mods, n * sizeof(*mods))) == NULL) {
	    mc_fail(c, "out of memory");
	    goto bad;
	}
	r->mods = mods;
	r->amods = n;
    }
    r->mods[r->nmods++] = m;
    return (0);

bad:
    free(m.s1);
    free(m.s2);
    return (-1);
}

/* mc_result_init, mc_result_free - result bookkeeping */

void    mc_result_init(MC_RESULT *r)
{
    memset(r, 0, sizeof(*r));
}

void    mc_result_free(MC_RESULT *r)
{
    size_t  i;

    for (i = 0; i < r->nmods; i++) {
	free(r->mods[i].s1);
	free(r->mods[i].s2);
    }
    free(r->mods);
    free(r->reply);
    mc_result_init(r);
}

/* mc_result_print - one line per modification, then the verdict */

void    mc_result_print(FILE *fp, const MC_RESULT *r)
{
    const MC_MOD *m;
    size_t  i;

    for (i = 0; i < r->nmods; i++) {
	m = r->mods + i;
	fprintf(fp, "%s", mc_code_name(m->kind));
	switch (m->kind) {
	case MC_M_INSHEADER:
	case MC_M_CHGHEADER:
	    fprintf(fp, " %lu", (unsigned long) m->index);
	    /* FALLTHROUGH */
	case MC_M_ADDHEADER:
	    fprintf(fp, " %s: %s\n", m->s1, m->s2);
	    break;
	case MC_M_REPLBODY:
	    fprintf(fp, " %lu bytes\n", (unsigned long) m->len);
	    break;
	default:
	    fprintf(fp, " %s%s%s\n", m->s1, m->s2 ? " " : "",
		    m->s2 ? m->s2 : "");
	    break;
	}
    }
    fprintf(fp, "verdict %s%s%s\n", r->verdict ? mc_code_name(r->verdict) :
	    "none", r->reply ? " " : "", r->reply ? r->reply : "");
}
