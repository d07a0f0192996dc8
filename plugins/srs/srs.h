/*
 * NAME
 *	srs.h - the Sender Rewriting Scheme codec and what the srs plugin shares
 * SYNOPSIS
 *	#include "srs.h"
 *
 *	struct srs_codec c = { .secrets = s, .nsecrets = 1, .hashlength = 8,
 *	    .hashmin = 8, .maxage = 21, .separator = '=' };
 *	char out[SRS_ADDR_MAX];
 *	srs_forward(&c, "alice@example.org", "fwd.example", time(NULL),
 *	    out, sizeof(out));
 *	srs_reverse(&c, out, time(NULL), out2, sizeof(out2));
 * DESCRIPTION
 *	codec.c rewrites envelope senders as the Guarded scheme of the
 *	reference implementations (Mail::SRS, pysrs) does, so that each of
 *	them reverses what the other signed:
 *
 *	SRS0<sep>HASH=TT=HOST=USER@FWDOMAIN for an ordinary sender, where
 *	TT is today's day number modulo 1024 in two base32 characters and
 *	HASH the first hashlength characters of the base64 HMAC-SHA1,
 *	keyed with the first secret, of TT, HOST and USER in lower case,
 *	concatenated;
 *
 *	SRS1<sep>HASH=HOST0=<sep0>REST@FWDOMAIN for a sender that already
 *	is SRS0<sep0>REST@HOST0 (another forwarder's), HASH being over HOST0
 *	and <sep0>REST; an SRS1 sender keeps its HOST0 and SRS0 part and
 *	gets our hash.
 *
 *	Reversal accepts any of the separators "=", "+" and "-" after the
 *	tag, the tag in any case, a hash made with any configured secret
 *	compared exactly and then case-insensitively, and a timestamp at
 *	most maxage days old. SRS1 reverses to the first forwarder's SRS0
 *	address.
 *
 *	out never overlaps the input.
 *
 *	srs_codec_key() keys the HMAC once per secret (hmac.c); a codec
 *	without keys computes the same bytes with the one-shot HMAC().
 *
 *	The other modules: options.c (options -> srs_conf), secrets.c
 *	(the secret file), hmac.c (keyed HMAC-SHA1), srs.c (descriptor
 *	and hooks).
 */
#ifndef SRS_H
#define SRS_H

#include <stddef.h>
#include <time.h>

#define SRS_ADDR_MAX	1024	/* a result, with its NUL */
#define SRS_HASH_MAX	27	/* base64 characters of a SHA-1 HMAC, unpadded */
#define SRS_SECRETS_MAX	16	/* secrets that verify */

/* Results of the codec. */
enum srs_status {
	SRS_OK = 0,
	SRS_NOTSRS,	/* reverse: the local part is no SRS0/SRS1 address */
	SRS_EFORMAT,	/* an SRS address with missing or hashless parts */
	SRS_EHASH,	/* the hash does not verify with any secret */
	SRS_EEXPIRED,	/* the timestamp is too old, from the future or bad */
	SRS_EADDR,	/* the input is no local@domain address */
	SRS_ETOOLONG,	/* the result does not fit */
	SRS_ECRYPTO	/* the crypto library failed */
};

struct srs_codec {
	char **secrets;		/* the first signs, all verify */
	size_t nsecrets;
	int hashlength;		/* characters of a hash we make */
	int hashmin;		/* fewest characters of a hash we accept */
	int maxage;		/* days a timestamp stays valid */
	char separator;		/* after SRS0/SRS1 in what we make: = + - */
	struct srs_key *keys;	/* srs_codec_key(): one per secret, or NULL */
};

int srs_forward(const struct srs_codec *c, const char *sender,
    const char *fwdomain, time_t now, char *out, size_t outlen);
int srs_reverse(const struct srs_codec *c, const char *addr, time_t now,
    char *out, size_t outlen);
int srs_is_srs(const char *local);
int srs_timestamp(time_t now, char ts[3]);
const char *srs_strerror(int status);

/* hmac.c */
struct srs_key;
int srs_codec_key(struct srs_codec *c);
void srs_codec_unkey(struct srs_codec *c);
int srs_hmac(const struct srs_codec *c, size_t i, const unsigned char *data,
    size_t len, unsigned char md[20]);

/* secrets.c */
int srs_secrets_read(const char *path, char ***out, size_t *n, char *err,
    size_t errlen);
void srs_secrets_free(char **v, size_t n);

#endif /* SRS_H */
