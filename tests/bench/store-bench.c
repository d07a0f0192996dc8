/*
 * NAME
 *	store-bench - counter additions through the core's store, timed
 * SYNOPSIS
 *	store-bench DIR [-k KEYS] [-b BATCH] [-r ROUNDS]
 * DESCRIPTION
 *	The write pattern of dspam's TEFT training: batches of counter
 *	additions (two counters, 17-byte keys) on random keys of a
 *	dictionary of KEYS records (default 200,000, loaded first), BATCH
 *	additions per store batch (default 20,000: a group commit of some
 *	hundred messages), ROUNDS batches (default 20). The LMDB store in
 *	DIR is opened without a flush per commit, so what is timed is the
 *	store's own work. Prints the CPU and wall time per addition
 *	(medians over the rounds). A fixed seed: two builds see the same
 *	keys in the same order.
 * DIAGNOSTICS
 *	Exit 1 when the store cannot be opened or a batch fails.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
key_of(uint64_t i, unsigned char k[17])
{
	uint64_t h = i * 0xff51afd7ed558ccdULL;

	k[0] = 'T';
	memset(k + 1, 0, 8);
	memcpy(k + 9, &h, 8);
}

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
run_batch(mm_store *st, uint64_t keys, long n, int load, long from)
{
	mm_store_batch *b = store_batch(st);
	int64_t d[2] = { 1, 0 };
	unsigned char k[17];
	int r;

	for (long i = 0; i < n; i++) {
		key_of(load ? (uint64_t)(from + i) : next() % keys, k);
		d[0] = (i & 1) ? 1 : 0;
		d[1] = (i & 1) ? 0 : 1;
		store_batch_add(b, k, sizeof(k), d, 2, 30 * 86400.0, 1);
	}
	r = store_batch_run(b);
	store_batch_free(b);
	return r == 1 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct store_cfg cfg = { 0 };
	long keys = 200000, batch = 20000, rounds = 20;
	double *cpu, *wall;
	mm_store *st;
	char *err = NULL;
	int o;

	while ((o = getopt(argc, argv, "k:b:r:")) != -1)
		switch (o) {
		case 'k': keys = atol(optarg); break;
		case 'b': batch = atol(optarg); break;
		case 'r': rounds = atol(optarg); break;
		default: return 2;
		}
	if (optind != argc - 1 || keys < 1 || batch < 1 || rounds < 1) {
		fprintf(stderr, "usage: store-bench DIR [-k KEYS] [-b BATCH] [-r ROUNDS]\n");
		return 2;
	}
	cfg.backend = STORE_LMDB;
	cfg.path = argv[optind];
	cfg.map_size = 1LL << 30;
	cfg.nosync = 1;
	if ((st = store_open(&cfg, "bench", &err)) == NULL) {
		fprintf(stderr, "store-bench: %s\n", err);
		return 1;
	}
	for (long i = 0; i < keys; i += 50000)
		if (run_batch(st, (uint64_t)keys, i + 50000 > keys ? keys - i : 50000, 1, i) < 0)
			return 1;
	cpu = calloc((size_t)rounds, sizeof(*cpu));
	wall = calloc((size_t)rounds, sizeof(*wall));
	for (long r = 0; r < rounds; r++) {
		double c0 = cpu_now(), w0 = mono_now();

		if (run_batch(st, (uint64_t)keys, batch, 0, 0) < 0) {
			fprintf(stderr, "store-bench: a batch failed\n");
			return 1;
		}
		cpu[r] = (cpu_now() - c0) / (double)batch * 1e6;
		wall[r] = (mono_now() - w0) / (double)batch * 1e6;
	}
	qsort(cpu, (size_t)rounds, sizeof(*cpu), cmp);
	qsort(wall, (size_t)rounds, sizeof(*wall), cmp);
	printf("%ld keys, %ld additions per batch, %ld batches: CPU %.3f us, wall %.3f us per addition (medians)\n",
	    keys, batch, rounds, cpu[rounds / 2], wall[rounds / 2]);
	free(cpu);
	free(wall);
	return 0;
}
