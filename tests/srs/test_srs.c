/*
 * NAME
 *	test_srs - the SRS codec and the secret file of the srs plugin
 * DESCRIPTION
 *	Proves, on the plugin's own sources (no core):
 *	- signing gives the bytes pysrs gives for the same secret, day,
 *	  hash length and separator (vectors made with Debian's python3-srs):
 *	  SRS0 for a plain sender, SRS1 for an SRS0 sender, SRS1 with the
 *	  first forwarder kept for an SRS1 sender;
 *	- the HMAC keyed once per secret gives the bytes of the one-shot
 *	  HMAC() for keys shorter and longer than a block, and the vectors;
 *	- reversal: SRS0 to the sender, SRS1 to the first forwarder's
 *	  SRS0; any separator and tag case; a hash with its case smashed
 *	  still verifies, a changed one does not, nor one made with another
 *	  secret, nor one shorter than hashmin; an old secret further down
 *	  the list verifies;
 *	- age: valid through maxage days, refused the day after, refused
 *	  from the future, and across the wrap of the 1024-day cycle;
 *	- malformed: too few fields, hashless SRS1, no '@', too long,
 *	  a result that does not fit, an unbalanced quote (found by
 *	  tests/fuzz/fuzz_srs.c), an empty local part;
 *	- the secret file: the first line signs, comments and blank lines
 *	  skipped; a group- or world-readable file, a missing file and an
 *	  empty one are refused with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "srs.h"

#define DAY	86400
#define T0	1764806400	/* 2025-12-04, day stamp 6K */

static char secret1[] = "shhhh!", secret2[] = "old secret";
static char *one[] = { secret1 }, *rotated[] = { secret2, secret1 };

static struct srs_codec
codec(int hashlength, char sep)
{
	struct srs_codec c = { one, 1, hashlength, hashlength, 8, sep, NULL };
	return c;
}

static void
test_forward_vectors(void **state)
{
	struct srs_codec c = codec(8, '=');
	char out[SRS_ADDR_MAX], out2[SRS_ADDR_MAX], ts[3];

	(void)state;
	assert_int_equal(srs_timestamp(T0, ts), SRS_OK);
	assert_string_equal(ts, "6K");
	assert_int_equal(srs_forward(&c, "alice@example.org", "fwd.example", T0,
	    out, sizeof(out)), SRS_OK);
	assert_string_equal(out, "SRS0=/nBCsgNg=6K=example.org=alice@fwd.example");
	assert_int_equal(srs_forward(&c, out, "second.example", T0, out2,
	    sizeof(out2)), SRS_OK);
	assert_string_equal(out2,
	    "SRS1=Ww0ADDlO=fwd.example==/nBCsgNg=6K=example.org=alice@second.example");
	assert_int_equal(srs_forward(&c, out2, "third.example", T0, out,
	    sizeof(out)), SRS_OK);
	assert_string_equal(out,
	    "SRS1=Ww0ADDlO=fwd.example==/nBCsgNg=6K=example.org=alice@third.example");
	c = codec(4, '+');
	assert_int_equal(srs_forward(&c, "Bob.Smith@Example.ORG", "fwd.example", T0,
	    out, sizeof(out)), SRS_OK);
	assert_string_equal(out, "SRS0+f6e8=6K=Example.ORG=Bob.Smith@fwd.example");
}

/* The HMAC keyed once per secret (hmac.c, as the plugin and
   modmilter-srs use it) gives the bytes of the one-shot HMAC(): secrets
   shorter than, as long as and longer than a SHA-1 block (hashed first),
   the vectors above, and a rotation. */
static void
test_keyed(void **state)
{
	static char s64[65], s65[66], s200[201];
	char *secrets[] = { secret1, s64, s65, s200, secret2 }, *old[] = { secret2 };
	struct srs_codec plain = { secrets, 5, 8, 8, 8, '=', NULL }, keyed = plain;
	struct srs_codec rot = { old, 1, 8, 8, 8, '=', NULL };
	unsigned char a[20], b[20], data[300];
	char out[SRS_ADDR_MAX], out2[SRS_ADDR_MAX];

	(void)state;
	memset(s64, 'k', 64);
	memset(s65, 'k', 65);
	memset(s200, 'x', 200);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);
	assert_int_equal(srs_codec_key(&keyed), 0);
	assert_non_null(keyed.keys);
	for (size_t i = 0; i < 5; i++)
		for (size_t len = 0; len <= sizeof(data); len += 37) {
			assert_int_equal(srs_hmac(&plain, i, data, len, a), SRS_OK);
			assert_int_equal(srs_hmac(&keyed, i, data, len, b), SRS_OK);
			assert_memory_equal(a, b, 20);
		}
	assert_int_equal(srs_forward(&keyed, "alice@example.org", "fwd.example", T0,
	    out, sizeof(out)), SRS_OK);
	assert_string_equal(out, "SRS0=/nBCsgNg=6K=example.org=alice@fwd.example");
	assert_int_equal(srs_reverse(&keyed,
	    "SRS1=Ww0ADDlO=fwd.example==/nBCsgNg=6K=example.org=alice@second.example",
	    T0, out, sizeof(out)), SRS_OK);
	/* signed with the last secret of the list: it verifies too */
	assert_int_equal(srs_codec_key(&rot), 0);
	assert_int_equal(srs_forward(&rot, "alice@example.org", "fwd.example", T0,
	    out, sizeof(out)), SRS_OK);
	assert_int_equal(srs_reverse(&keyed, out, T0, out2, sizeof(out2)), SRS_OK);
	assert_string_equal(out2, "alice@example.org");
	srs_codec_unkey(&rot);
	srs_codec_unkey(&keyed);
	assert_null(keyed.keys);
}

static void
test_reverse(void **state)
{
	struct srs_codec c = codec(8, '=');
	char out[SRS_ADDR_MAX];

	(void)state;
	assert_int_equal(srs_reverse(&c, "SRS0=/nBCsgNg=6K=example.org=alice@fwd.example",
	    T0, out, sizeof(out)), SRS_OK);
	assert_string_equal(out, "alice@example.org");
	/* another separator and tag case, smashed hash case */
	assert_int_equal(srs_reverse(&c, "srs0-/NBCSGNG=6k=example.org=alice@fwd.example",
	    T0, out, sizeof(out)), SRS_OK);
	assert_string_equal(out, "alice@example.org");
	assert_int_equal(srs_reverse(&c,
	    "SRS1=Ww0ADDlO=fwd.example==/nBCsgNg=6K=example.org=alice@second.example",
	    T0, out, sizeof(out)), SRS_OK);
	assert_string_equal(out, "SRS0=/nBCsgNg=6K=example.org=alice@fwd.example");
	/* tampered: user, host, hash */
	assert_int_equal(srs_reverse(&c, "SRS0=/nBCsgNg=6K=example.org=mallory@fwd.example",
	    T0, out, sizeof(out)), SRS_EHASH);
	assert_string_equal(out, "");
	assert_int_equal(srs_reverse(&c, "SRS0=/nBCsgNg=6K=example.net=alice@fwd.example",
	    T0, out, sizeof(out)), SRS_EHASH);
	assert_int_equal(srs_reverse(&c, "SRS0=/nBCsgNh=6K=example.org=alice@fwd.example",
	    T0, out, sizeof(out)), SRS_EHASH);
	assert_int_equal(srs_reverse(&c,
	    "SRS1=Ww0ADDlO=fwd.example==/nBCsgNg=6K=example.org=bob@second.example",
	    T0, out, sizeof(out)), SRS_EHASH);
	/* shorter than hashmin; longer than the hash is not accepted either */
	assert_int_equal(srs_reverse(&c, "SRS0=/nBCsgN=6K=example.org=alice@fwd.example",
	    T0, out, sizeof(out)), SRS_EHASH);
	c.hashmin = 4;
	assert_int_equal(srs_reverse(&c, "SRS0=/nBC=6K=example.org=alice@fwd.example",
	    T0, out, sizeof(out)), SRS_OK);
	/* not ours */
	assert_int_equal(srs_reverse(&c, "alice@fwd.example", T0, out, sizeof(out)),
	    SRS_NOTSRS);
	assert_int_equal(srs_reverse(&c, "SRS2=x=y=z=w@fwd.example", T0, out,
	    sizeof(out)), SRS_NOTSRS);
}

static void
test_secrets_rotation(void **state)
{
	struct srs_codec c = codec(8, '='), other = codec(8, '=');
	char out[SRS_ADDR_MAX], back[SRS_ADDR_MAX];

	(void)state;
	c.secrets = rotated;
	c.nsecrets = 2;
	/* signed with the old (second) secret: still verifies */
	assert_int_equal(srs_reverse(&c, "SRS0=/nBCsgNg=6K=example.org=alice@fwd.example",
	    T0, out, sizeof(out)), SRS_OK);
	/* the first one signs: the old codec alone does not verify it */
	assert_int_equal(srs_forward(&c, "alice@example.org", "fwd.example", T0,
	    out, sizeof(out)), SRS_OK);
	assert_int_equal(srs_reverse(&other, out, T0, back, sizeof(back)), SRS_EHASH);
	assert_int_equal(srs_reverse(&c, out, T0, back, sizeof(back)), SRS_OK);
	assert_string_equal(back, "alice@example.org");
}

static void
test_age(void **state)
{
	struct srs_codec c = codec(8, '=');
	char out[SRS_ADDR_MAX], back[SRS_ADDR_MAX];
	time_t t;

	(void)state;
	assert_int_equal(srs_forward(&c, "a@b.example", "fwd.example", T0, out,
	    sizeof(out)), SRS_OK);
	assert_int_equal(srs_reverse(&c, out, T0 + 8 * DAY, back, sizeof(back)), SRS_OK);
	assert_int_equal(srs_reverse(&c, out, T0 + 9 * DAY, back, sizeof(back)),
	    SRS_EEXPIRED);
	assert_int_equal(srs_reverse(&c, out, T0 - DAY, back, sizeof(back)),
	    SRS_EEXPIRED);
	/* signed on the last day of a 1024-day cycle, read in the next */
	t = (time_t)((T0 / DAY / 1024 + 1) * 1024 - 1) * DAY;
	assert_int_equal(srs_forward(&c, "a@b.example", "fwd.example", t, out,
	    sizeof(out)), SRS_OK);
	assert_non_null(strstr(out, "=77="));
	assert_int_equal(srs_reverse(&c, out, t + 3 * DAY, back, sizeof(back)), SRS_OK);
	assert_int_equal(srs_reverse(&c, out, t + 9 * DAY, back, sizeof(back)),
	    SRS_EEXPIRED);
}

static void
test_malformed(void **state)
{
	struct srs_codec c = codec(8, '=');
	char out[SRS_ADDR_MAX], big[2 * SRS_ADDR_MAX], small[20];

	(void)state;
	assert_int_equal(srs_reverse(&c, "SRS0=abcd=6K=example.org@fwd.example", T0,
	    out, sizeof(out)), SRS_EFORMAT);
	assert_int_equal(srs_reverse(&c, "SRS1=abcd=fwd.example@x.example", T0,
	    out, sizeof(out)), SRS_EFORMAT);
	assert_int_equal(srs_reverse(&c, "SRS1=host.example=x==a=b=c=d@x.example", T0,
	    out, sizeof(out)), SRS_EFORMAT);
	assert_int_equal(srs_reverse(&c, "SRS0=abcd", T0, out, sizeof(out)), SRS_EADDR);
	assert_int_equal(srs_forward(&c, "nobody", "fwd.example", T0, out,
	    sizeof(out)), SRS_EADDR);
	assert_int_equal(srs_forward(&c, "a@", "fwd.example", T0, out,
	    sizeof(out)), SRS_EADDR);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[10] = '@';
	assert_int_equal(srs_forward(&c, big, "fwd.example", T0, out, sizeof(out)),
	    SRS_ETOOLONG);
	assert_int_equal(srs_forward(&c, "alice@example.org", "fwd.example", T0,
	    small, sizeof(small)), SRS_ETOOLONG);
	assert_string_equal(small, "");
	/* an unbalanced quote is no quoting: a plain sender, back as it was */
	assert_int_equal(srs_forward(&c, "\"SRS0=a=b=c=d@x.example", "fwd.example", T0,
	    out, sizeof(out)), SRS_OK);
	assert_memory_equal(out, "SRS0=", 5);
	assert_int_equal(srs_reverse(&c, out, T0, big, sizeof(big)), SRS_OK);
	assert_string_equal(big, "\"SRS0=a=b=c=d@x.example");
	/* an empty local part is no sender */
	assert_int_equal(srs_forward(&c, "\"\"@x.example", "fwd.example", T0,
	    out, sizeof(out)), SRS_EADDR);
	/* an SRS1 sender without its fields is signed as a plain sender */
	assert_int_equal(srs_forward(&c, "SRS1=x@b.example", "fwd.example", T0,
	    out, sizeof(out)), SRS_OK);
	assert_memory_equal(out, "SRS0=", 5);
	assert_non_null(strstr(out, "=6K=b.example=SRS1=x@fwd.example"));
}

static void
test_secret_file(void **state)
{
	char path[] = "/tmp/test_srs.XXXXXX", err[512], **v;
	size_t n;
	FILE *fp;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs("# new first\n\nnew secret  \r\nold secret\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(srs_secrets_read(path, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "new secret");
	assert_string_equal(v[1], "old secret");
	srs_secrets_free(v, n);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(srs_secrets_read(path, &v, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 0640"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(srs_secrets_read(path, &v, &n, err, sizeof(err)), -1);
	assert_int_equal(chmod(path, 0600), 0);
	assert_non_null(fp = fopen(path, "w"));
	fputs("# nothing\n", fp);
	fclose(fp);
	assert_int_equal(srs_secrets_read(path, &v, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no secret"));
	unlink(path);
	assert_int_equal(srs_secrets_read(path, &v, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_vectors),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_secrets_rotation),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
