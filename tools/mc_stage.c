/*++
 * NAME
 *	mc_stage 3
 * SUMMARY
 *	milterclient internals: one event of the conversation
 * SYNOPSIS
 *	#include "mc_conn.h"
 *
 *	int	mc_send_macros(conn, cmd, macros)
 *	int	mc_stage_open(conn, cmd, macros, off)
 *	int	mc_stage_close(conn, cmd, off, result)
 * DESCRIPTION
 *	The steps every stage function of milterclient(3) takes.
 *	mc_send_macros() queues the macro packet for the event \fIcmd\fR,
 *	with only the macros the filter listed for its stage
 *	(smfi_setsymlist()) when it listed any. mc_stage_open() does that,
 *	then starts the event's packet unless the filter asked not to
 *	receive the event (SMFIP_NO*): 1 and the packet's offset in
 *	\fIoff\fR, or 0 when skipped. mc_stage_close() ends the packet
 *	and, unless the filter asked not to reply (SMFIP_NR_*), reads
 *	its replies until the verdict: progress skipped, a reply code
 *	kept, at end of message the modifications collected into
 *	\fIresult\fR.
 * DIAGNOSTICS
 *	-1 after a failure, as milterclient(3) says; the verdict
 *	(MC_CONTINUE when no reply is expected) otherwise.
 *--*/

#define _GNU_SOURCE

#include <stdlib.h>
#include <string.h>

#include "mc_conn.h"

/* cmd_name - name an MTA command, for messages */

static const char *cmd_name(int cmd)
{
    switch (cmd) {
    case 'O': return ("negotiate");
    case 'D': return ("macro");
    case 'C': return ("connect");
    case 'H': return ("helo");
    case 'M': return ("mail");
    case 'R': return ("rcpt");
    case 'T': return ("data");
    case 'L': return ("header");
    case 'N': return ("eoh");
    case 'B': return ("body");
    case 'E': return ("eom");
    case 'A': return ("abort");
    case 'Q': return ("quit");
    case 'K': return ("quit_nc");
    default: return ("unknown command");
    }
}

/* no_bit, nr_bit, sym_stage - per-event protocol bits and macro stage */

static uint32_t no_bit(int cmd)
{
    switch (cmd) {
    case 'C': return (MC_P_NOCONNECT);
    case 'H': return (MC_P_NOHELO);
    case 'M': return (MC_P_NOMAIL);
    case 'R': return (MC_P_NORCPT);
    case 'T': return (MC_P_NODATA);
    case 'L': return (MC_P_NOHDRS);
    case 'N': return (MC_P_NOEOH);
    case 'B': return (MC_P_NOBODY);
    default: return (0);
    }
}

static uint32_t nr_bit(int cmd)
{
    switch (cmd) {
    case 'C': return (MC_P_NR_CONN);
    case 'H': return (MC_P_NR_HELO);
    case 'M': return (MC_P_NR_MAIL);
    case 'R': return (MC_P_NR_RCPT);
    case 'T': return (MC_P_NR_DATA);
    case 'L': return (MC_P_NR_HDR);
    case 'N': return (MC_P_NR_EOH);
    case 'B': return (MC_P_NR_BODY);
    default: return (0);
    }
}

static int sym_stage(int cmd)
{
    switch (cmd) {
    case 'C': return (0);
    case 'H': return (1);
    case 'M': return (2);
    case 'R': return (3);
    case 'T': return (4);
    case 'E': return (5);
    case 'N': return (6);
    default: return (-1);
    }
}

/* same_macro - compare macro names, ignoring {braces} */

static int same_macro(const char *a, size_t alen, const char *b)
{
    size_t  blen = strlen(b);

    if (alen > 2 && a[0] == '{' && a[alen - 1] == '}')
	a++, alen -= 2;
    if (blen > 2 && b[0] == '{' && b[blen - 1] == '}')
	b++, blen -= 2;
    return (alen == blen && memcmp(a, b, alen) == 0);
}

/* want_macro - is the macro in the filter's list for this stage? */

static int want_macro(const char *list, const char *name)
{
    const char *cp = list;
    size_t  len;

    if (list == NULL)
	return (1);
    while (*cp) {
	cp += strspn(cp, " ,\t");
	len = strcspn(cp, " ,\t");
	if (len > 0 && same_macro(cp, len, name))
	    return (1);
	cp += len;
    }
    return (0);
}

/* mc_send_macros - queue the macro packet for an event */

int     mc_send_macros(MC_CONN *c, int cmd, const char *const *macros)
{
    const char *list;
    const char *const *mp;
    unsigned char stage = (unsigned char) cmd;
    size_t  off;
    size_t  start;
    int     stg;

    if (macros == NULL)
	return (0);
    stg = sym_stage(cmd);
    list = stg >= 0 ? c->symlist[stg] : NULL;
    off = mc_pkt_begin(c, 'D');
    mc_pkt_add(c, &stage, 1);
    start = c->olen;
    for (mp = macros; mp[0] && mp[1]; mp += 2) {
	if (want_macro(list, mp[0])) {
	    mc_pkt_str(c, mp[0]);
	    mc_pkt_str(c, mp[1]);
	}
    }
    if (c->olen == start && !c->nomem) {
	c->olen = off;				/* nothing to send */
	return (0);
    }
    return (mc_pkt_end(c, off));
}

/* mc_stage_open - macros, then start the event packet unless skipped */

int     mc_stage_open(MC_CONN *c, int cmd, const char *const *macros,
		              size_t *off)
{
    if (c->broken)
	return (-1);
    if (mc_send_macros(c, cmd, macros) < 0)
	return (-1);
    if (c->protocol & no_bit(cmd))
	return (0);
    *off = mc_pkt_begin(c, cmd);
    return (1);
}

/* read_reply - read replies to an event until a verdict */

static int read_reply(MC_CONN *c, int cmd, MC_RESULT *r)
{
    const unsigned char *p;
    size_t  left;
    char   *text;
    int     code;

    for (;;) {
	if (mc_get_packet(c, &code, &p, &left) < 0)
	    return (-1);
	switch (code) {
	case 'p':
	    continue;
	case MC_CONTINUE:
	case MC_ACCEPT:
	case MC_REJECT:
	case MC_TEMPFAIL:
	case MC_DISCARD:
	case MC_CONNFAIL:
	case MC_SHUTDOWN:
	case MC_SKIP:
	    if (left != 0)
		return (mc_fail(c, "%s reply to %s with %lu bytes of data",
			     mc_code_name(code), cmd_name(cmd),
			     (unsigned long) left));
	    if (code == MC_SKIP && cmd != 'B')
		return (mc_fail(c, "skip reply to %s", cmd_name(cmd)));
	    if (r)
		r->verdict = code;
	    return (code);
	case MC_REPLYCODE:
	    if (mc_take_str(c, &p, &left, &text, code) < 0)
		return (-1);
	    free(c->reply);
	    c->reply = text;
	    if (left != 0 || (text[0] != '4' && text[0] != '5')
		|| text[1] < '0' || text[1] > '9'
		|| text[2] < '0' || text[2] > '9'
		|| (text[3] != ' ' && text[3] != '-' && text[3] != 0))
		return (mc_fail(c, "malformed replycode reply to %s: %.100s",
			     cmd_name(cmd), text));
	    if (r) {
		r->verdict = code;
		free(r->reply);
		if ((r->reply = strdup(text)) == NULL)
		    return (mc_fail(c, "out of memory"));
	    }
	    return (code);
	default:
	    if (cmd != 'E' || mc_need_action(code) == 0)
		return (mc_fail(c, "unexpected %s reply (0x%02x) to %s",
			     mc_code_name(code), code, cmd_name(cmd)));
	    if (mc_add_mod(c, r, code, p, left) < 0)
		return (-1);
	    continue;
	}
    }
}

/* mc_stage_close - finish the event packet, wait for the reply if any */

int     mc_stage_close(MC_CONN *c, int cmd, size_t off, MC_RESULT *r)
{
    if (mc_pkt_end(c, off) < 0)
	return (-1);
    if (c->protocol & nr_bit(cmd))
	return (MC_CONTINUE);
    return (read_reply(c, cmd, r));
}
