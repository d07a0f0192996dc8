#ifndef MC_CONN_H
#define MC_CONN_H

/*++
 * NAME
 *	mc_conn 3h
 * SUMMARY
 *	milterclient internals: the connection, packet I/O, sockets
 * SYNOPSIS
 *	#include "mc_conn.h"
 * DESCRIPTION
 *	Shared by milterclient.c (the protocol stages), mc_stage.c (the
 *	steps of one event: macros, packet, replies), mc_packet.c
 *	(buffered packet I/O and errors), mc_socket.c (opening a
 *	libmilter socket spec) and mc_result.c (modifications and
 *	results). Not part of the milterclient(3) interface.
 *--*/

#include <poll.h>
#include <stdint.h>
#include <stddef.h>

#include "milterclient.h"

#define MC_CHUNK	65535		/* body chunk size */
#define MC_MAX_PACKET	(4 << 20)	/* largest reply accepted */
#define MC_OBUF_HIGH	(64 << 10)	/* flush buffered output above this */
#define MC_NSTAGES	7		/* SMFIM_CONNECT .. SMFIM_EOH */

struct MC_CONN {
    int     fd;
    int     timeout;			/* ms, per wait */
    int     broken;			/* after any failure */
    int     nomem;			/* output buffer allocation failed */
    uint32_t offer_act;			/* what we offered */
    uint32_t offer_proto;
    uint32_t version;			/* what the filter negotiated */
    uint32_t actions;
    uint32_t protocol;
    char   *symlist[MC_NSTAGES];
    char   *obuf;			/* output not yet written */
    size_t  olen;
    size_t  ocap;
    unsigned char *ibuf;		/* input read ahead */
    size_t  ipos;
    size_t  iend;
    size_t  icap;
    char   *body;			/* pending body chunk */
    size_t  blen;
    int     body_skip;			/* filter said SMFIR_SKIP */
    char   *reply;			/* last SMFIR_REPLYCODE text */
    char    err[256];
};

/* mc_packet.c */
#ifdef __GNUC__
int     mc_fail(MC_CONN *, const char *,...) __attribute__((format(printf, 2, 3)));
#else
int     mc_fail(MC_CONN *, const char *,...);
#endif
long long mc_now_ms(void);
int     mc_wait_fd(MC_CONN *, short, const char *);
int     mc_flush_out(MC_CONN *);
void    mc_pkt_add(MC_CONN *, const void *, size_t);
void    mc_pkt_str(MC_CONN *, const char *);
size_t  mc_pkt_begin(MC_CONN *, int);
int     mc_pkt_end(MC_CONN *, size_t);
int     mc_fill_in(MC_CONN *, size_t);
int     mc_get_packet(MC_CONN *, int *, const unsigned char **, size_t *);
int     mc_take_u32(MC_CONN *, const unsigned char **, size_t *, uint32_t *, int);
int     mc_take_str(MC_CONN *, const unsigned char **, size_t *, char **, int);

/* mc_stage.c */
int     mc_send_macros(MC_CONN *, int, const char *const *);
int     mc_stage_open(MC_CONN *, int, const char *const *, size_t *);
int     mc_stage_close(MC_CONN *, int, size_t, MC_RESULT *);

/* mc_socket.c */
int     mc_open_spec(const char *, int, char *, size_t);

/* mc_result.c */
uint32_t mc_need_action(int);
int     mc_add_mod(MC_CONN *, MC_RESULT *, int, const unsigned char *, size_t);

#endif
