/*
 * NAME
 *	api_parts - the entries of the API table, by file (private to host/api*.c)
 * SYNOPSIS
 *	#include "api_parts.h"
 * DESCRIPTION
 *	api.c builds struct mm_api from its own entries and those of
 *	api_msg.c (reading) and api_act.c (acting), declared here.
 */
#ifndef MM_API_PARTS_H
#define MM_API_PARTS_H

#include <sys/socket.h>
#include <modmilter/plugin.h>

/* Outside a connection, or abandoned after a timeout: nothing to give. */
#define SESSION_OR(c, dflt) do {					\
	if ((c) == NULL || (c)->s == NULL || (c)->msg == NULL || (c)->failed) \
		return dflt;						\
} while (0)

/* api_msg.c: what a plugin reads */
const char *api_client_addr(mm_ctx *c);
const struct sockaddr *api_client_sockaddr(mm_ctx *c);
const char *api_client_host(mm_ctx *c);
mm_client_class api_client_class(mm_ctx *c);
const char *api_helo(mm_ctx *c);
const char *api_auth_user(mm_ctx *c);
const char *api_macro(mm_ctx *c, const char *name);
const char *api_queue_id(mm_ctx *c);
const char *api_mail_from(mm_ctx *c);
size_t api_rcpt_count(mm_ctx *c);
const char *api_rcpt_at(mm_ctx *c, size_t i);
int api_set_result(mm_ctx *c, const char *fmt, ...);
int api_fact_set(mm_ctx *c, const char *key, const char *value);
const char *api_fact_get(mm_ctx *c, const char *key);
size_t api_header_count(mm_ctx *c);
int api_header_at(mm_ctx *c, size_t i, const char **name, const char **value);
size_t api_received_header_count(mm_ctx *c);
int api_received_header_at(mm_ctx *c, size_t i, const char **name,
    const char **value);
const char *api_header_get(mm_ctx *c, const char *name, size_t nth);
int api_body(mm_ctx *c, const unsigned char **data, size_t *len);
mm_parts *api_parts(mm_ctx *c);

/* api_act.c: what a plugin asks for */
int api_set_reply(mm_ctx *c, const char *rcode, const char *xcode,
    const char *text);
int api_add_header(mm_ctx *c, const char *name, const char *value);
int api_insert_header(mm_ctx *c, size_t idx, const char *name,
    const char *value);
int api_change_header(mm_ctx *c, const char *name, size_t nth,
    const char *value);
int api_add_rcpt(mm_ctx *c, const char *addr);
int api_del_rcpt(mm_ctx *c, const char *addr);
int api_change_from(mm_ctx *c, const char *addr, const char *args);
int api_replace_body(mm_ctx *c, const unsigned char *data, size_t len);
int api_quarantine(mm_ctx *c, const char *reason);
int api_auth_result(mm_ctx *c, const char *clause);
int api_progress(mm_ctx *c);

#endif
