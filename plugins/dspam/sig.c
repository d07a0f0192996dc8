/*
 * NAME
 *	sig - signatures: what a classified message looked like
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	char id[SIG_ID_LEN + 1];
 *	sig_new_id(id);
 *	sig_write(w, id, &sig, ttl, &err);	(part of a dwrite batch)
 *	sig_read(&ds, id, &sig, &err);		(1 found, 0 absent/expired)
 *	sig_expect(w, id, &sig);		(the batch runs only if unchanged)
 *	sig_find_in(msg, len, id);		("X-DSPAM-Signature: <id>")
 * DESCRIPTION
 *	When a message is classified, its token set is kept for a while
 *	under a random 128-bit id that travels with the message in the
 *	X-DSPAM-Signature header. A correction that names the id retrains
 *	exactly the tokens that were counted, whatever happened to the
 *	message on its way back (forwarding, quoting, re-encoding).
 *
 *	A signature is kept in the dictionaries' store database under 'S'
 *	and the 16 id bytes, with the store's own expiry: dictionary id,
 *	the class it was last classified or trained as, whether its tokens
 *	are counted in that class, the class it was first classified as,
 *	and the token hashes (those counted), little endian.
 * DIAGNOSTICS
 *	-1 with *err set (malloc'ed) on a store failure; a malformed or
 *	expired record reads as absent.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "dspam.h"

#define HDR_LEN 16
#define SIG_KEY_LEN (1 + SIG_ID_LEN / 2)

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
id_key(const char *id, unsigned char k[SIG_KEY_LEN])
{
	size_t i;

	k[0] = 'S';
	for (i = 0; i < SIG_ID_LEN / 2; i++)
		k[1 + i] = (unsigned char)(hexnib((unsigned char)id[2 * i]) << 4 |
		    hexnib((unsigned char)id[2 * i + 1]));
}

/* the stored form: dictionary, class, learned, count, hashes */
static unsigned char *
encode(const struct sig *s, size_t *len)
{
	unsigned char *v;
	size_t i;

	*len = HDR_LEN + s->n * 8;
	if ((v = malloc(*len)) == NULL)
		return NULL;
	put_le64(v, s->dict);
	v[8] = (unsigned char)s->klass;
	v[9] = (unsigned char)s->learned;
	v[10] = (unsigned char)s->orig;
	v[11] = 0;
	v[12] = (unsigned char)(s->n & 0xff);
	v[13] = (unsigned char)(s->n >> 8 & 0xff);
	v[14] = (unsigned char)(s->n >> 16 & 0xff);
	v[15] = (unsigned char)(s->n >> 24 & 0xff);
	for (i = 0; i < s->n; i++)
		put_le64(v + HDR_LEN + 8 * i, s->h[i]);
	return v;
}

static int
decode(const unsigned char *v, size_t len, struct sig *s)
{
	size_t i, n;

	if (len < HDR_LEN)
		return 0;
	n = (size_t)v[12] | (size_t)v[13] << 8 | (size_t)v[14] << 16 |
	    (size_t)v[15] << 24;
	if (len != HDR_LEN + n * 8)
		return 0;
	s->dict = get_le64(v);
	s->klass = v[8];
	s->learned = v[9];
	s->orig = v[10];
	s->n = n;
	if ((s->h = malloc((n ? n : 1) * sizeof(*s->h))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		s->h[i] = get_le64(v + HDR_LEN + 8 * i);
	return 1;
}

int
sig_write(struct dwrite *w, const char *id, const struct sig *s,
    double ttl_seconds, char **err)
{
	unsigned char k[SIG_KEY_LEN], *v;
	size_t vl;

	if (!sig_valid_id(id)) {
		if (err)
			*err = strdup("dspam: malformed signature id");
		return -1;
	}
	if ((v = encode(s, &vl)) == NULL) {
		if (err)
			*err = strdup("dspam: out of memory");
		return -1;
	}
	id_key(id, k);
	dwrite_put(w, k, sizeof(k), v, vl, ttl_seconds);
	free(v);
	return 0;
}

int
sig_expect(struct dwrite *w, const char *id, const struct sig *s)
{
	unsigned char k[SIG_KEY_LEN], *v;
	size_t vl;

	if ((v = encode(s, &vl)) == NULL)
		return -1;
	id_key(id, k);
	dwrite_expect(w, k, sizeof(k), v, vl);
	free(v);
	return 0;
}

int
sig_read(const struct dstore *ds, const char *id, struct sig *s, char **err)
{
	const struct mm_api *api = ds->api;
	unsigned char k[SIG_KEY_LEN];
	mm_store_batch *b;
	const void *v;
	size_t vl;
	int i, r;

	memset(s, 0, sizeof(*s));
	if (!sig_valid_id(id))
		return 0;
	id_key(id, k);
	if ((b = api->store_batch(ds->st)) == NULL ||
	    (i = api->store_batch_get(b, k, sizeof(k))) < 0 ||
	    api->store_batch_run(b) != 1) {
		api->store_batch_free(b);
		if (err)
			*err = strdup("dspam store: signature read failed");
		return -1;
	}
	r = api->store_result(b, i, &v, &vl) == 1 ? decode(v, vl, s) : 0;
	api->store_batch_free(b);
	if (r < 0 && err)
		*err = strdup("dspam: out of memory");
	return r;
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
