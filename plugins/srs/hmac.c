/*
 * NAME
 *	hmac - HMAC-SHA1 keyed once per secret, for the SRS codec
 * SYNOPSIS
 *	#include "srs.h"
 *
 *	if (srs_codec_key(&codec) < 0) ...	(once, before the threads)
 *	srs_hmac(&codec, i, data, len, md);	(any thread, any number of times)
 *	srs_codec_unkey(&codec);
 * DESCRIPTION
 *	OpenSSL's one-shot HMAC() fetches the MAC and the digest from the
 *	provider and hashes the padded key on every call: about 1.5 µs of
 *	a call of 2 µs. srs_codec_key() does that work once per secret
 *	and keeps, for each, the SHA-1 states after the inner (key XOR
 *	0x36) and the outer (key XOR 0x5c) pad block (RFC 2104); an HMAC is
 *	then a copy of each state, the data and the inner digest (0.2 µs).
 *	The keyed states are read-only: threads share them. A key longer
 *	than a block is hashed first, as RFC 2104 and HMAC() do.
 *
 *	srs_hmac() uses the keyed states when the codec has them and the
 *	one-shot HMAC() otherwise (the tools and tests that make a codec
 *	without keying it give the same bytes).
 * DIAGNOSTICS
 *	srs_codec_key() returns -1 when libcrypto fails (nothing kept);
 *	srs_hmac() returns SRS_ECRYPTO when it fails.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "srs.h"

#define BLOCK	64	/* SHA-1 block */
#define MDLEN	20	/* SHA-1 digest */

/* One secret's SHA-1 states after the inner and the outer pad block. */
struct srs_key {
	EVP_MD_CTX *inner, *outer;
};

static void
key_free(struct srs_key *k)
{
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
}

/* The state of SHA-1 over the key block XOR pad. */
static EVP_MD_CTX *
padded(EVP_MD *md, const unsigned char block[BLOCK], unsigned char pad)
{
	unsigned char x[BLOCK];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	for (size_t i = 0; i < BLOCK; i++)
		x[i] = block[i] ^ pad;
	if (ctx == NULL || !EVP_DigestInit_ex(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, x, BLOCK)) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	OPENSSL_cleanse(x, sizeof(x));
	return ctx;
}

static int
key_make(EVP_MD *md, const char *secret, struct srs_key *k)
{
	unsigned char block[BLOCK] = { 0 };
	size_t len = strlen(secret);
	unsigned int n;
	int ok = 1;

	if (len > BLOCK)
		ok = EVP_Digest(secret, len, block, &n, md, NULL);
	else
		memcpy(block, secret, len);
	k->inner = ok ? padded(md, block, 0x36) : NULL;
	k->outer = ok ? padded(md, block, 0x5c) : NULL;
	OPENSSL_cleanse(block, sizeof(block));
	if (k->inner == NULL || k->outer == NULL) {
		key_free(k);
		return -1;
	}
	return 0;
}

int
srs_codec_key(struct srs_codec *c)
{
	struct srs_key *keys;
	EVP_MD *md;
	size_t i;

	if (c->nsecrets == 0)
		return 0;
	if ((keys = calloc(c->nsecrets, sizeof(*keys))) == NULL)
		return -1;
	if ((md = EVP_MD_fetch(NULL, "SHA1", NULL)) == NULL) {
		free(keys);
		return -1;
	}
	for (i = 0; i < c->nsecrets; i++)
		if (key_make(md, c->secrets[i], &keys[i]) < 0)
			break;
	EVP_MD_free(md);	/* the states hold their own references */
	if (i < c->nsecrets) {
		while (i-- > 0)
			key_free(&keys[i]);
		free(keys);
		return -1;
	}
	c->keys = keys;
	return 0;
}

void
srs_codec_unkey(struct srs_codec *c)
{
	if (c->keys == NULL)
		return;
	for (size_t i = 0; i < c->nsecrets; i++)
		key_free(&c->keys[i]);
	free(c->keys);
	c->keys = NULL;
}

int
srs_hmac(const struct srs_codec *c, size_t i, const unsigned char *data,
    size_t len, unsigned char md[MDLEN])
{
	unsigned char ih[MDLEN];
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (c->keys == NULL) {
		const char *s = c->secrets[i];
		return HMAC(EVP_sha1(), s, (int)strlen(s), data, len, md, &n) != NULL &&
		    n == MDLEN ? SRS_OK : SRS_ECRYPTO;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return SRS_ECRYPTO;
	ok = EVP_MD_CTX_copy_ex(ctx, c->keys[i].inner) &&
	    EVP_DigestUpdate(ctx, data, len) &&
	    EVP_DigestFinal_ex(ctx, ih, &n) && n == MDLEN &&
	    EVP_MD_CTX_copy_ex(ctx, c->keys[i].outer) &&
	    EVP_DigestUpdate(ctx, ih, MDLEN) &&
	    EVP_DigestFinal_ex(ctx, md, &n) && n == MDLEN;
	EVP_MD_CTX_free(ctx);
	return ok ? SRS_OK : SRS_ECRYPTO;
}
