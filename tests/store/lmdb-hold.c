/*
 * NAME
 *	lmdb-hold - hold an LMDB environment's write lock, for tests
 * SYNOPSIS
 *	lmdb-hold DIR
 * DESCRIPTION
 *	Opens the LMDB environment in DIR (a store of the core), begins a
 *	write transaction, prints "held" and waits until its standard input
 *	ends; then aborts the transaction (nothing written) and exits. LMDB
 *	has one writer at a time across processes, so while it holds, every
 *	commit of the daemon waits; readers are not held. Tests use it to
 *	stall the store's commits at a chosen moment.
 * DIAGNOSTICS
 *	Exit 1 with a message when the environment cannot be opened or the
 *	transaction cannot begin.
 */
#include "config.h"

#include <lmdb.h>
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	char buf[256];
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: lmdb-hold DIR\n");
		return 2;
	}
	if ((r = mdb_env_create(&env)) != 0 ||
	    (r = mdb_env_set_maxdbs(env, 256)) != 0 ||
	    (r = mdb_env_open(env, argv[1], MDB_NOTLS, 0640)) != 0 ||
	    (r = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		fprintf(stderr, "lmdb-hold: %s: %s\n", argv[1], mdb_strerror(r));
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}
