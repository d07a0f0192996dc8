#ifndef MILTERCLIENT_H_INCLUDED
#define MILTERCLIENT_H_INCLUDED

/*++
 * NAME
 *	milterclient 3h
 * SUMMARY
 *	MTA side of the milter protocol, version 6
 * SYNOPSIS
 *	#include "milterclient.h"
 * DESCRIPTION
 *	See milterclient.c.
 *--*/

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

 /*
  * Protocol version spoken by this client.
  */
#define MC_VERSION		6

 /*
  * What the filter may do (SMFIF_*) and what it may ask for (SMFIP_*).
  * Values are those of the wire protocol.
  */
#define MC_ACT_ADDHDRS		0x001
#define MC_ACT_CHGBODY		0x002
#define MC_ACT_ADDRCPT		0x004
#define MC_ACT_DELRCPT		0x008
#define MC_ACT_CHGHDRS		0x010
#define MC_ACT_QUARANTINE	0x020
#define MC_ACT_CHGFROM		0x040
#define MC_ACT_ADDRCPT_PAR	0x080
#define MC_ACT_SETSYMLIST	0x100
#define MC_ACT_ALL		0x1FF

#define MC_P_NOCONNECT		0x00000001
#define MC_P_NOHELO		0x00000002
#define MC_P_NOMAIL		0x00000004
#define MC_P_NORCPT		0x00000008
#define MC_P_NOBODY		0x00000010
#define MC_P_NOHDRS		0x00000020
#define MC_P_NOEOH		0x00000040
#define MC_P_NR_HDR		0x00000080
#define MC_P_NOUNKNOWN		0x00000100
#define MC_P_NODATA		0x00000200
#define MC_P_SKIP		0x00000400
#define MC_P_RCPT_REJ		0x00000800
#define MC_P_NR_CONN		0x00001000
#define MC_P_NR_HELO		0x00002000
#define MC_P_NR_MAIL		0x00004000
#define MC_P_NR_RCPT		0x00008000
#define MC_P_NR_DATA		0x00010000
#define MC_P_NR_UNKN		0x00020000
#define MC_P_NR_EOH		0x00040000
#define MC_P_NR_BODY		0x00080000
#define MC_P_HDR_LEADSPC	0x00100000
#define MC_P_ALL		0x001FFFFF

 /*
  * Filter replies (SMFIR_*). A stage function returns one of the verdicts,
  * MC_SKIP (body only), or -1 after an error.
  */
#define MC_CONTINUE		'c'
#define MC_ACCEPT		'a'
#define MC_REJECT		'r'
#define MC_TEMPFAIL		't'
#define MC_DISCARD		'd'
#define MC_REPLYCODE		'y'
#define MC_CONNFAIL		'f'
#define MC_SHUTDOWN		'4'
#define MC_SKIP			's'

 /*
  * Modification requests, received at end of message.
  */
#define MC_M_ADDHEADER		'h'
#define MC_M_INSHEADER		'i'
#define MC_M_CHGHEADER		'm'
#define MC_M_ADDRCPT		'+'
#define MC_M_DELRCPT		'-'
#define MC_M_ADDRCPT_PAR	'2'
#define MC_M_CHGFROM		'e'
#define MC_M_REPLBODY		'b'
#define MC_M_QUARANTINE		'q'

 /*
  * Connect families.
  */
#define MC_FAM_INET		'4'
#define MC_FAM_INET6		'6'
#define MC_FAM_UNIX		'L'
#define MC_FAM_UNKNOWN		'U'

typedef struct MC_MOD {
    int     kind;			/* MC_M_* */
    uint32_t index;			/* 'i' and 'm' only */
    char   *s1;				/* header name, address, reason, body */
    char   *s2;				/* header value, ESMTP args, or NULL */
    size_t  len;			/* length of s1 ('b' data may hold NULs) */
} MC_MOD;

typedef struct MC_RESULT {
    int     verdict;			/* MC_ACCEPT etc., 0 if none yet */
    char   *reply;			/* text of MC_REPLYCODE, else NULL */
    MC_MOD *mods;
    size_t  nmods;
    size_t  amods;
} MC_RESULT;

typedef struct MC_CONN MC_CONN;

extern MC_CONN *mc_open(const char *, int, char *, size_t);
extern void mc_close(MC_CONN *);
extern const char *mc_error(const MC_CONN *);
extern int mc_negotiate(MC_CONN *, uint32_t, uint32_t);
extern uint32_t mc_version(const MC_CONN *);
extern uint32_t mc_actions(const MC_CONN *);
extern uint32_t mc_protocol(const MC_CONN *);
extern const char *mc_symlist(const MC_CONN *, int);
extern const char *mc_reply_text(const MC_CONN *);

extern int mc_connect(MC_CONN *, const char *const *, const char *, int,
		              unsigned, const char *);
extern int mc_helo(MC_CONN *, const char *const *, const char *);
extern int mc_mail(MC_CONN *, const char *const *, const char *const *);
extern int mc_rcpt(MC_CONN *, const char *const *, const char *const *);
extern int mc_data(MC_CONN *, const char *const *);
extern int mc_header(MC_CONN *, const char *, const char *);
extern int mc_eoh(MC_CONN *, const char *const *);
extern int mc_body(MC_CONN *, const void *, size_t);
extern int mc_eom(MC_CONN *, const char *const *, MC_RESULT *);
extern int mc_abort(MC_CONN *);
extern int mc_quit(MC_CONN *);
extern int mc_quit_nc(MC_CONN *);

extern void mc_result_init(MC_RESULT *);
extern void mc_result_free(MC_RESULT *);
extern void mc_result_print(FILE *, const MC_RESULT *);
extern const char *mc_code_name(int);

#endif
