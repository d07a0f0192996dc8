/*
 * NAME
 *	codec - SRS0/SRS1 addresses made and reversed, as Mail::SRS and pysrs do
 * SYNOPSIS
 *	#include "srs.h"
 *
 *	int srs_forward(c, sender, fwdomain, now, out, outlen);
 *	int srs_reverse(c, addr, now, out, outlen);
 *	int srs_is_srs(local);
 *	int srs_timestamp(now, ts);
 *	const char *srs_strerror(status);
 * DESCRIPTION
 *	srs_forward() writes the address that replaces sender when a
 *	message is forwarded through fwdomain: SRS0 for an ordinary sender,
 *	SRS1 for one that already is an SRS0 or SRS1 address (see srs.h for
 *	the forms). It always rewrites; whether to rewrite at all (a local
 *	sender, the null sender) is the caller's business.
 *
 *	srs_reverse() checks an SRS0 or SRS1 address (its hash, then for
 *	SRS0 its timestamp, in that order as the reference implementations
 *	do) and writes the address it stands for. The domain of addr is
 *	not looked at, except that an SRS0 address with an empty host part
 *	stands for a mailbox at that domain (as pysrs has it).
 *
 *	srs_is_srs() returns 0, or 1 for a local part that starts with
 *	SRS0 and 2 for one that starts with SRS1, in any case, followed by
 *	one of the separators (a quoted local part: pass what follows the
 *	quote). srs_timestamp() writes the two base32
 *	characters of the day of now.
 *
 *	A local part in double quotes loses them for the computation and
 *	the result gets them back around its whole local part (pysrs).
 *	Hashes are computed over the ASCII lower case of their parts, so
 *	that an MTA which smashes the case of a local part does not break
 *	them.
 * DIAGNOSTICS
 *	An enum srs_status; out holds a result only with SRS_OK.
 */
#include <string.h>

#include <openssl/evp.h>

#include "srs.h"

#define DAY		(60 * 60 * 24)
#define TICKSLOTS	1024	/* two base32 characters */

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
is_sep(int ch)
{
	return ch == '=' || ch == '+' || ch == '-';
}

int
srs_is_srs(const char *local)
{
	if (lower(local[0]) != 's' || lower(local[1]) != 'r' ||
	    lower(local[2]) != 's' || (local[3] != '0' && local[3] != '1') ||
	    !is_sep(local[4]))
		return 0;
	return local[3] == '0' ? 1 : 2;
}

int
srs_timestamp(time_t now, char ts[3])
{
	long long days = (long long)now / DAY;

	if (now < 0)
		return SRS_EEXPIRED;
	ts[0] = base32[(days >> 5) & 31];
	ts[1] = base32[days & 31];
	ts[2] = 0;
	return SRS_OK;
}

/* Is ts (two base32 characters, any case) at most maxage days old? */
static int
timestamp_ok(const char *ts, size_t len, int maxage, time_t now)
{
	long long then = 0, today = ((long long)now / DAY) % TICKSLOTS;

	if (len != 2)
		return 0;
	for (size_t i = 0; i < len; i++) {
		const char *p = memchr(base32, ts[i] >= 'a' && ts[i] <= 'z' ?
		    ts[i] - 'a' + 'A' : ts[i], 32);
		if (p == NULL || ts[i] == 0)
			return 0;
		then = then * 32 + (p - base32);
	}
	while (today < then)
		today += TICKSLOTS;
	return today <= then + maxage;
}

/* One part of the hashed data, as a pointer and a length. */
struct part {
	const char *s;
	size_t len;
};

/* The unpadded base64 HMAC-SHA1 of the lower-cased parts under secret
   number i: SRS_HASH_MAX characters into b64 (with its NUL). */
static int
hash_full(const struct srs_codec *c, size_t i, const struct part *parts,
    size_t nparts, char b64[SRS_HASH_MAX + 2])
{
	unsigned char data[2 * SRS_ADDR_MAX], md[20];
	size_t n = 0;
	int rc;

	for (size_t k = 0; k < nparts; k++) {
		if (parts[k].len > sizeof(data) - n)
			return SRS_ETOOLONG;
		for (size_t j = 0; j < parts[k].len; j++)
			data[n++] = (unsigned char)lower((unsigned char)parts[k].s[j]);
	}
	if ((rc = srs_hmac(c, i, data, n, md)) != SRS_OK)
		return rc;
	/* 20 bytes: 28 characters, the last one padding */
	EVP_EncodeBlock((unsigned char *)b64, md, (int)sizeof(md));
	b64[SRS_HASH_MAX] = 0;
	return SRS_OK;
}

static int
ci_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Does hash (len characters) verify with any secret? Exact matches
   first, then case-insensitive ones (a smashed local part). */
static int
hash_verify(const struct srs_codec *c, const char *hash, size_t len,
    const struct part *parts, size_t nparts)
{
	char want[SRS_SECRETS_MAX][SRS_HASH_MAX + 2];
	size_t n = c->nsecrets < SRS_SECRETS_MAX ? c->nsecrets : SRS_SECRETS_MAX;
	int rc;

	if (len < (size_t)c->hashmin || len > SRS_HASH_MAX || n == 0)
		return SRS_EHASH;
	for (size_t i = 0; i < n; i++) {
		if ((rc = hash_full(c, i, parts, nparts, want[i])) != SRS_OK)
			return rc;
		if (memcmp(want[i], hash, len) == 0)
			return SRS_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (ci_equal(want[i], hash, len))
			return SRS_OK;
	return SRS_EHASH;
}

/* Output buffer with an overflow flag. */
struct out {
	char *p;
	size_t len, cap;
	int over;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->over || n >= o->cap - o->len) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = 0;
}

static void
putstr(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Split addr at its last '@'; drop the quotes of a quoted local part. */
static int
split(const char *addr, struct part *local, struct part *domain, int *quoted)
{
	const char *at = strrchr(addr, '@');

	if (strlen(addr) >= SRS_ADDR_MAX)
		return SRS_ETOOLONG;
	if (at == NULL || at == addr)
		return SRS_EADDR;
	local->s = addr;
	local->len = (size_t)(at - addr);
	domain->s = at + 1;
	domain->len = strlen(at + 1);
	*quoted = local->len >= 2 && addr[0] == '"' && at[-1] == '"';
	if (*quoted) {
		local->s++;
		local->len -= 2;
	}
	return SRS_OK;
}

/* Split s (len) at the first n-1 '=' into parts; 0 when there are fewer. */
static int
fields(const char *s, size_t len, struct part *f, size_t n)
{
	size_t k = 0;
	const char *end = s + len;

	while (k + 1 < n) {
		const char *eq = memchr(s, '=', (size_t)(end - s));
		if (eq == NULL)
			return 0;
		f[k].s = s;
		f[k].len = (size_t)(eq - s);
		k++;
		s = eq + 1;
	}
	f[k].s = s;
	f[k].len = (size_t)(end - s);
	return 1;
}

static int
finish(struct out *o, size_t outlen)
{
	if (o->over || o->len >= outlen) {
		o->p[0] = 0;
		return SRS_ETOOLONG;
	}
	return SRS_OK;
}

/* Empty out and split addr: what both directions begin with. */
static int
begin(const char *addr, char *out, size_t outlen, struct part *local,
    struct part *domain, int *quoted)
{
	if (outlen == 0)
		return SRS_ETOOLONG;
	out[0] = 0;
	return split(addr, local, domain, quoted);
}

int
srs_forward(const struct srs_codec *c, const char *sender,
    const char *fwdomain, time_t now, char *out, size_t outlen)
{
	struct part local, domain, p[3], f[3];
	char hash[SRS_HASH_MAX + 2], ts[3], sep[2] = { c->separator, 0 };
	struct out o = { out, 0, outlen, 0 };
	int quoted, rc, kind;
	size_t n;

	if ((rc = begin(sender, out, outlen, &local, &domain, &quoted)) != SRS_OK)
		return rc;
	if (domain.len == 0 || local.len == 0 || c->nsecrets == 0)
		return SRS_EADDR;
	kind = local.len > 5 ? srs_is_srs(local.s) : 0;
	if (kind == 2 && fields(local.s + 5, local.len - 5, f, 3) &&
	    f[1].len > 0 && f[2].len > 0) {
		/* SRS1<sep>OLDHASH=HOST0=REST: the first forwarder stays */
		p[0] = f[1];
		p[1] = f[2];
		n = 2;
	} else if (kind == 1) {
		/* SRS0<sep0>REST@HOST0 -> SRS1<sep>HASH=HOST0=<sep0>REST */
		p[0] = domain;
		p[1].s = local.s + 4;
		p[1].len = local.len - 4;
		n = 2;
	} else {
		/* USER@HOST -> SRS0<sep>HASH=TT=HOST=USER */
		if ((rc = srs_timestamp(now, ts)) != SRS_OK)
			return rc;
		p[0].s = ts;
		p[0].len = 2;
		p[1] = domain;
		p[2] = local;
		n = 3;
	}
	/* the hashed parts are the fields of the address, in order */
	if ((rc = hash_full(c, 0, p, n, hash)) != SRS_OK)
		return rc;
	hash[c->hashlength] = 0;
	putstr(&o, quoted ? "\"" : "");
	putstr(&o, n == 2 ? "SRS1" : "SRS0");
	putstr(&o, sep);
	putstr(&o, hash);
	for (size_t i = 0; i < n; i++) {
		putstr(&o, "=");
		put(&o, p[i].s, p[i].len);
	}
	putstr(&o, quoted ? "\"@" : "@");
	putstr(&o, fwdomain);
	return finish(&o, outlen);
}

int
srs_reverse(const struct srs_codec *c, const char *addr, time_t now,
    char *out, size_t outlen)
{
	struct part local, domain, f[4], user, host;
	struct out o = { out, 0, outlen, 0 };
	int quoted, rc, kind;

	if ((rc = begin(addr, out, outlen, &local, &domain, &quoted)) != SRS_OK)
		return rc;
	kind = local.len >= 5 ? srs_is_srs(local.s) : 0;
	if (kind == 0)
		return SRS_NOTSRS;
	if (kind == 2) {
		/* SRS1<sep>HASH=HOST0=REST -> SRS0REST@HOST0 */
		if (!fields(local.s + 5, local.len - 5, f, 3) ||
		    f[1].len == 0 || f[2].len == 0 ||
		    memchr(f[0].s, '.', f[0].len) != NULL)
			return SRS_EFORMAT;	/* hashless SRS1 is not accepted */
		if ((rc = hash_verify(c, f[0].s, f[0].len, f + 1, 2)) != SRS_OK)
			return rc;
		user = f[2];
		host = f[1];
	} else {
		/* SRS0<sep>HASH=TT=HOST=USER -> USER@HOST */
		if (!fields(local.s + 5, local.len - 5, f, 4) || f[3].len == 0)
			return SRS_EFORMAT;
		if (f[2].len == 0)
			f[2] = domain;
		if (f[2].len == 0)
			return SRS_EFORMAT;
		if ((rc = hash_verify(c, f[0].s, f[0].len, f + 1, 3)) != SRS_OK)
			return rc;
		if (!timestamp_ok(f[1].s, f[1].len, c->maxage, now))
			return SRS_EEXPIRED;
		user = f[3];
		host = f[2];
	}
	putstr(&o, quoted ? "\"" : "");
	putstr(&o, kind == 2 ? "SRS0" : "");
	put(&o, user.s, user.len);
	putstr(&o, quoted ? "\"@" : "@");
	put(&o, host.s, host.len);
	return finish(&o, outlen);
}

const char *
srs_strerror(int status)
{
	switch (status) {
	case SRS_OK: return "ok";
	case SRS_NOTSRS: return "not an SRS address";
	case SRS_EFORMAT: return "malformed SRS address";
	case SRS_EHASH: return "invalid SRS signature";
	case SRS_EEXPIRED: return "expired SRS address";
	case SRS_EADDR: return "not a local@domain address";
	case SRS_ETOOLONG: return "address too long";
	case SRS_ECRYPTO: return "HMAC-SHA1 failed";
	default: return "unknown SRS error";
	}
}
