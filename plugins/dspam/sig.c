/*
 * NAME
 *	sig - signatures: what a classified message looked like
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	char id[SIG_ID_LEN + 1];
 *	sig_new_id(id);
 *	sig_put(txn, id, &sig, ttl, &err);
 *	sig_get(txn, id, &sig, &err);		(1 found, 0 absent/expired)
 *	sig_find_in(msg, len, id);		("X-DSPAM-Signature: <id>")
 * DESCRIPTION
 *	When a message is classified, its token set is kept for a while
 *	under a random 128-bit id that travels with the message in the
 *	X-DSPAM-Signature header. A correction that names the id retrains
 *	exactly the tokens that were counted, whatever happened to the
 *	message on its way back (forwarding, quoting, re-encoding).
 *
 *	A signature is stored in the "signatures" database of the
 *	dictionary's environment: expiry time, dictionary id, the class it
 *	was last classified or trained as, whether its tokens are counted
 *	in that class, and the token hashes, little endian.
 * DIAGNOSTICS
 *	-1 with *err set (malloc'ed) on a store failure; a malformed or
 *	expired record reads as absent.
 */
#include "config.h"

#include <ctype.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "dspam.h"

#define HDR_LEN 24

static void
put_le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int
hexnib(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
sig_valid_id(const char *id)
{
	size_t i;

	for (i = 0; i < SIG_ID_LEN; i++)
		if (hexnib((unsigned char)id[i]) < 0)
			return 0;
	return id[SIG_ID_LEN] == '\0';
}

int
sig_new_id(char id[SIG_ID_LEN + 1])
{
	unsigned char r[SIG_ID_LEN / 2];
	size_t i, got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(r); i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	id[SIG_ID_LEN] = '\0';
	return 0;
}

static void
id_key(const char *id, unsigned char k[SIG_ID_LEN / 2])
{
	size_t i;

	for (i = 0; i < SIG_ID_LEN / 2; i++)
		k[i] = (unsigned char)(hexnib((unsigned char)id[2 * i]) << 4 |
		    hexnib((unsigned char)id[2 * i + 1]));
}

int
sig_put(struct dtxn *t, const char *id, const struct sig *s,
    double ttl_seconds, char **err)
{
	unsigned char k[SIG_ID_LEN / 2], *v;
	MDB_dbi dbi;
	MDB_txn *txn = dtxn_lmdb(t, &dbi);
	MDB_val key = { sizeof(k), k }, val;
	size_t i, vl = HDR_LEN + s->n * 8;
	int r;

	if (!sig_valid_id(id)) {
		if (err)
			*err = strdup("dspam: malformed signature id");
		return -1;
	}
	if ((v = malloc(vl)) == NULL) {
		if (err)
			*err = strdup("dspam: out of memory");
		return -1;
	}
	id_key(id, k);
	put_le64(v, (uint64_t)time(NULL) + (uint64_t)(ttl_seconds > 0 ? ttl_seconds : 0));
	put_le64(v + 8, s->dict);
	v[16] = (unsigned char)s->klass;
	v[17] = (unsigned char)s->learned;
	v[18] = v[19] = 0;
	v[20] = (unsigned char)(s->n & 0xff);
	v[21] = (unsigned char)(s->n >> 8 & 0xff);
	v[22] = (unsigned char)(s->n >> 16 & 0xff);
	v[23] = (unsigned char)(s->n >> 24 & 0xff);
	for (i = 0; i < s->n; i++)
		put_le64(v + HDR_LEN + 8 * i, s->h[i]);
	val.mv_size = vl;
	val.mv_data = v;
	r = mdb_put(txn, dbi, &key, &val, 0);
	free(v);
	if (r != 0) {
		if (err && asprintf(err, "dspam signature store: %s%s", mdb_strerror(r),
		    r == MDB_MAP_FULL ? " (raise map_size)" : "") < 0)
			*err = NULL;
		return -1;
	}
	return 0;
}

int
sig_get(struct dtxn *t, const char *id, struct sig *s, char **err)
{
	unsigned char k[SIG_ID_LEN / 2];
	const unsigned char *v;
	MDB_dbi dbi;
	MDB_txn *txn = dtxn_lmdb(t, &dbi);
	MDB_val key = { sizeof(k), k }, val;
	size_t i, n;
	int r;

	memset(s, 0, sizeof(*s));
	if (!sig_valid_id(id))
		return 0;
	id_key(id, k);
	r = mdb_get(txn, dbi, &key, &val);
	if (r == MDB_NOTFOUND)
		return 0;
	if (r != 0) {
		if (err && asprintf(err, "dspam signature store: %s", mdb_strerror(r)) < 0)
			*err = NULL;
		return -1;
	}
	v = val.mv_data;
	if (val.mv_size < HDR_LEN)
		return 0;
	n = (size_t)v[20] | (size_t)v[21] << 8 | (size_t)v[22] << 16 |
	    (size_t)v[23] << 24;
	if (val.mv_size != HDR_LEN + n * 8 || get_le64(v) < (uint64_t)time(NULL))
		return 0;
	s->dict = get_le64(v + 8);
	s->klass = v[16];
	s->learned = v[17];
	s->n = n;
	if ((s->h = malloc((n ? n : 1) * sizeof(*s->h))) == NULL) {
		if (err)
			*err = strdup("dspam: out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		s->h[i] = get_le64(v + HDR_LEN + 8 * i);
	return 1;
}

int
sig_purge(struct dtxn *t, size_t *removed, char **err)
{
	MDB_dbi dbi;
	MDB_txn *txn = dtxn_lmdb(t, &dbi);
	MDB_cursor *c;
	MDB_val key, val;
	uint64_t now = (uint64_t)time(NULL);
	int r;

	*removed = 0;
	if ((r = mdb_cursor_open(txn, dbi, &c)) != 0)
		goto fail;
	r = mdb_cursor_get(c, &key, &val, MDB_FIRST);
	while (r == 0) {
		if (val.mv_size < HDR_LEN || get_le64(val.mv_data) < now) {
			if ((r = mdb_cursor_del(c, 0)) != 0)
				break;
			(*removed)++;
		}
		r = mdb_cursor_get(c, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (r == MDB_NOTFOUND)
		return 0;
fail:
	if (err && asprintf(err, "dspam signature store: %s", mdb_strerror(r)) < 0)
		*err = NULL;
	return -1;
}

void
sig_free(struct sig *s)
{
	free(s->h);
	s->h = NULL;
	s->n = 0;
}

int
sig_find_in(const unsigned char *msg, size_t len, char id[SIG_ID_LEN + 1])
{
	static const char name[] = "x-dspam-signature:";
	size_t nl = sizeof(name) - 1, i;

	for (i = 0; i + nl + SIG_ID_LEN <= len; i++) {
		size_t j;

		if ((msg[i] | 0x20) != 'x' || strncasecmp((const char *)msg + i,
		    name, nl) != 0)
			continue;
		j = i + nl;
		while (j < len && (msg[j] == ' ' || msg[j] == '\t'))
			j++;
		if (j + SIG_ID_LEN <= len) {
			size_t k;

			for (k = 0; k < SIG_ID_LEN; k++) {
				int c = tolower(msg[j + k]);

				if (hexnib(c) < 0)
					break;
				id[k] = (char)c;
			}
			if (k == SIG_ID_LEN && (j + k == len ||
			    !isxdigit(msg[j + k]))) {
				id[SIG_ID_LEN] = '\0';
				return 1;
			}
		}
	}
	return 0;
}
