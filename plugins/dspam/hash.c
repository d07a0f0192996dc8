/*
 * NAME
 *	hash - 64-bit keyed token hashes (SipHash-2-4)
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	uint64_t dspam_hash(const void *data, size_t len);
 *	uint64_t dspam_hash2(const void *prefix, size_t plen,
 *	    const void *data, size_t len);
 *	uint64_t dspam_mix64(uint64_t x);
 * DESCRIPTION
 *	Tokens are stored by hash, never as text. SipHash-2-4 with a fixed
 *	key gives the same value on every host and byte order, so a
 *	dictionary can be copied between machines and an old signature
 *	still names the same tokens. The key is not a secret: the hash
 *	resists collisions made by chance, not by design, which is all a
 *	statistical filter needs.
 *
 *	dspam_hash2() hashes prefix, a 0x1f separator and data, as if
 *	concatenated, for "header-name:word" and word-pair tokens.
 *	The value 0 is reserved (dictionary totals) and never returned.
 */
#include "config.h"

#include <string.h>

#include "dspam.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static const uint64_t K0 = 0x6d6f646d696c7465ULL;	/* "modmilte" */
static const uint64_t K1 = 0x7220647370616d31ULL;	/* "r dspam1" */

struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;		/* bytes not yet compressed */
	unsigned ntail;
	uint64_t total;
};

static void
sip_init(struct sip *s)
{
	s->v0 = 0x736f6d6570736575ULL ^ K0;
	s->v1 = 0x646f72616e646f6dULL ^ K1;
	s->v2 = 0x6c7967656e657261ULL ^ K0;
	s->v3 = 0x7465646279746573ULL ^ K1;
	s->tail = 0;
	s->ntail = 0;
	s->total = 0;
}

static void
sip_block(struct sip *s, uint64_t m)
{
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;

	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	s->v0 = v0; s->v1 = v1; s->v2 = v2; s->v3 = v3;
}

static void
sip_update(struct sip *s, const unsigned char *p, size_t len)
{
	s->total += len;
	while (len > 0 && s->ntail > 0) {
		s->tail |= (uint64_t)*p++ << (8 * s->ntail);
		len--;
		if (++s->ntail == 8) {
			sip_block(s, s->tail);
			s->tail = 0;
			s->ntail = 0;
		}
	}
	while (len >= 8) {
		uint64_t m = 0;
		int i;

		for (i = 7; i >= 0; i--)	/* little endian on every host */
			m = (m << 8) | p[i];
		sip_block(s, m);
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		s->tail |= (uint64_t)*p++ << (8 * s->ntail++);
		len--;
	}
}

static uint64_t
sip_final(struct sip *s)
{
	uint64_t b = (s->total << 56) | s->tail;
	uint64_t v0, v1, v2, v3, h;

	sip_block(s, b);
	v0 = s->v0; v1 = s->v1; v2 = s->v2; v3 = s->v3;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	h = v0 ^ v1 ^ v2 ^ v3;
	return h ? h : 1;
}

uint64_t
dspam_hash(const void *data, size_t len)
{
	struct sip s;

	sip_init(&s);
	sip_update(&s, data, len);
	return sip_final(&s);
}

uint64_t
dspam_hash2(const void *prefix, size_t plen, const void *data, size_t len)
{
	static const unsigned char sep = 0x1f;
	struct sip s;

	sip_init(&s);
	sip_update(&s, prefix, plen);
	sip_update(&s, &sep, 1);
	sip_update(&s, data, len);
	return sip_final(&s);
}

/* A 64-bit finaliser (splitmix64's): spreads a hash over a table's
   slots, and makes word-pair tokens from two hashes. Never 0. */
uint64_t
dspam_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x ? x : 1;
}
