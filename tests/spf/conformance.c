/*
 * NAME
 *	test_spf_conformance - run an SPF test suite (YAML) through the plugin's evaluator
 * SYNOPSIS
 *	test_spf_conformance [-v] [-l] [-k KNOWN-FAILURES] SUITE.yml...
 * DESCRIPTION
 *	Reads each scenario of the SPF community's test suites
 *	(rfc7208-tests.yml, rfc4408-tests.yml), loads its zonedata into
 *	a zonedns layer, and runs every test case through spf_check_run()
 *	and spf_check_explanation(), the code the spf plugin runs. A case
 *	passes when the result is one of those the suite allows and, where
 *	the suite gives an explanation, the explanation is exactly that
 *	(the default explanation is the string "DEFAULT", as in the
 *	suite's reference driver).
 *
 *	The zonedata is read as pyspf's driver reads it: a type SPF record
 *	is served as TXT when the name has no TXT entry of its own, "TXT:
 *	NONE" means no TXT record, and "TIMEOUT" makes queries time out.
 *	A NUL byte in record text is served as DEL (0x7f), as the
 *	plugin's resolver layer does with real DNS answers.
 *
 *	KNOWN-FAILURES lists cases that are expected to fail, one per
 *	line: suite file name, case name, reason ('#' starts a comment).
 *	-v prints every case.
 *
 *	-l runs the cases through libspf2's own evaluator instead
 *	(SPF_server_t on the same zonedns layer, SPF_request_query_mailfrom),
 *	for comparison; it is not what the plugin runs.
 * DIAGNOSTICS
 *	Prints one line per failing case and a summary per suite. Exit
 *	status 0 when every case passed or is a listed known failure, 1
 *	when a case failed unexpectedly or a listed case passed (the list
 *	must be kept true), 2 on usage or input errors.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spf_eval.h"
#include "spf_guard.h"
#include "zonedns.h"
#include <spf2/spf.h>

struct known {
	char suite[64], name[128];
	int used;
};

static struct known *known;
static size_t nknown;
static int verbose, use_libspf2;

static void
load_known(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		struct known k;
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		memset(&k, 0, sizeof(k));
		if (sscanf(line, "%63s %127s", k.suite, k.name) != 2)
			continue;
		known = realloc(known, (nknown + 1) * sizeof(*known));
		if (known == NULL)
			exit(2);
		known[nknown++] = k;
	}
	fclose(f);
}

static struct known *
is_known(const char *suite, const char *name)
{
	for (size_t i = 0; i < nknown; i++)
		if (strcmp(known[i].suite, suite) == 0 && strcmp(known[i].name, name) == 0)
			return &known[i];
	return NULL;
}

static yaml_node_t *
get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* A scalar as a C string; NUL bytes become DEL. Caller frees. */
static char *
text(yaml_node_t *n)
{
	char *s;

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return strdup("");
	s = malloc(n->data.scalar.length + 1);
	if (s == NULL)
		exit(2);
	for (size_t i = 0; i < n->data.scalar.length; i++)
		s[i] = n->data.scalar.value[i] ? (char)n->data.scalar.value[i] : 0x7f;
	s[n->data.scalar.length] = 0;
	return s;
}

/* TXT / SPF data: a string, or a list of strings joined without separator. */
static char *
txt_data(yaml_document_t *d, yaml_node_t *v)
{
	size_t len = 0;
	char *s;

	if (v->type != YAML_SEQUENCE_NODE)
		return text(v);
	if ((s = calloc(1, 1)) == NULL)
		exit(2);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		char *part = text(yaml_document_get_node(d, *it));
		size_t pl = strlen(part);
		if ((s = realloc(s, len + pl + 1)) == NULL)
			exit(2);
		memcpy(s + len, part, pl + 1);
		len += pl;
		free(part);
	}
	return s;
}

static int
type_of(const char *t)
{
	static const struct { const char *n; int t; } types[] = {
		{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "MX", ns_t_mx },
		{ "PTR", ns_t_ptr }, { "TXT", ns_t_txt }, { "CNAME", ns_t_cname },
		{ "SPF", 99 },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i].n) == 0)
			return types[i].t;
	return -1;
}

static void
load_name(SPF_dns_server_t *z, yaml_document_t *d, const char *name,
    yaml_node_t *list)
{
	int explicit_txt = 0;

	if (list->type != YAML_SEQUENCE_NODE)
		return;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(d, *it);
		if (e->type == YAML_MAPPING_NODE && get(d, e, "TXT"))
			explicit_txt = 1;
	}
	for (int pass = 0; pass < 2; pass++)
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(d, *it), *k, *v;
		char *data, *key;
		int type;

		if (e->type == YAML_SCALAR_NODE) {
			if (pass == 0 && strcmp((char *)e->data.scalar.value, "TIMEOUT") == 0)
				zonedns_add_timeout(z, name);
			continue;
		}
		if (e->type != YAML_MAPPING_NODE || e->data.mapping.pairs.start ==
		    e->data.mapping.pairs.top)
			continue;
		k = yaml_document_get_node(d, e->data.mapping.pairs.start->key);
		v = yaml_document_get_node(d, e->data.mapping.pairs.start->value);
		key = text(k);
		type = type_of(key);
		free(key);
		/* generated TXT records go after everything else (pass 1) */
		if (pass == 1) {
			if (type == 99 && !explicit_txt) {
				data = txt_data(d, v);
				zonedns_add(z, name, ns_t_txt, data, 0);
				free(data);
			}
			continue;
		}
		if (type < 0 || type == 99)
			continue;
		if (type == ns_t_mx && v->type == YAML_SEQUENCE_NODE &&
		    v->data.sequence.items.top - v->data.sequence.items.start == 2) {
			char *prio = text(yaml_document_get_node(d, v->data.sequence.items.start[0]));
			data = text(yaml_document_get_node(d, v->data.sequence.items.start[1]));
			zonedns_add(z, name, ns_t_mx, data, atoi(prio));
			free(prio);
		} else {
			data = type == ns_t_txt ? txt_data(d, v) : text(v);
			if (!(type == ns_t_txt && strcmp(data, "NONE") == 0))
				zonedns_add(z, name, (ns_type)type, data, 0);
		}
		free(data);
	}
}

static int
result_ok(yaml_document_t *d, yaml_node_t *want, const char *got)
{
	if (want->type == YAML_SCALAR_NODE)
		return strcmp((char *)want->data.scalar.value, got) == 0;
	if (want->type != YAML_SEQUENCE_NODE)
		return 0;
	for (yaml_node_item_t *it = want->data.sequence.items.start;
	    it < want->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(d, *it);
		if (n->type == YAML_SCALAR_NODE &&
		    strcmp((char *)n->data.scalar.value, got) == 0)
			return 1;
	}
	return 0;
}

/* The same case through libspf2's evaluator; result and explanation copied. */
static void
libspf2_case(SPF_dns_server_t *z, const char *host, const char *helo,
    const char *from, char *res, size_t reslen, char *exp, size_t explen)
{
	SPF_server_t *srv;
	SPF_request_t *req;
	SPF_response_t *resp = NULL, *tmp = NULL;
	struct spf_guard g;
	SPF_dns_destroy_t destroy = z->destroy;

	snprintf(res, reslen, "temperror");
	*exp = 0;
	z->destroy = NULL;	/* the server must not free the zone */
	srv = SPF_server_new_dns(z, 0);
	SPF_server_set_explanation(srv, "DEFAULT", &tmp);
	if (tmp)
		SPF_response_free(tmp);
	req = SPF_request_new(srv);
	memset(&g, 0, sizeof(g));
	if (setjmp(g.env) == 0) {
		spf_guard_push(&g);
		if (strchr(host, ':'))
			SPF_request_set_ipv6_str(req, host);
		else
			SPF_request_set_ipv4_str(req, host);
		SPF_request_set_helo_dom(req, helo);
		if (*from)
			SPF_request_set_env_from(req, from);
		SPF_request_query_mailfrom(req, &resp);
		if (resp) {
			snprintf(res, reslen, "%s", SPF_strresult(SPF_response_result(resp)));
			if (SPF_response_get_explanation(resp))
				snprintf(exp, explen, "%s", SPF_response_get_explanation(resp));
		}
		spf_guard_pop(&g);
	} else
		snprintf(res, reslen, "abort");
	if (resp)
		SPF_response_free(resp);
	SPF_request_free(req);
	SPF_server_free(srv);
	z->destroy = destroy;
}

struct tally {
	int cases, pass, xfail, fail, xpass;
};

static void
run_case(SPF_dns_server_t *z, yaml_document_t *d, const char *suite,
    const char *name, yaml_node_t *tc, struct tally *t)
{
	char *helo = text(get(d, tc, "helo")), *host = text(get(d, tc, "host"));
	char *from = text(get(d, tc, "mailfrom")), *sender = NULL;
	yaml_node_t *want = get(d, tc, "result"), *wexp = get(d, tc, "explanation");
	struct spf_env env;
	struct spf_request rq;
	struct spf_check *c;
	const char *got, *exp = NULL, *at;
	char why[600] = "", lres[32], lexp[512];
	struct known *k = is_known(suite, name);
	int ok;

	memset(&env, 0, sizeof(env));
	env.dns = z;
	env.deadline = mm_clock_mono() + 20;
	env.default_exp = "DEFAULT";
	memset(&rq, 0, sizeof(rq));
	if (spf_ip_parse(host, &rq.ip) < 0) {
		fprintf(stderr, "%s %s: bad host %s\n", suite, name, host);
		exit(2);
	}
	rq.helo = helo;
	if (*from) {
		rq.sender = from;
		at = strrchr(from, '@');
		rq.domain = at ? at + 1 : from;
	} else {
		if ((sender = malloc(strlen(helo) + 12)) == NULL)
			exit(2);
		sprintf(sender, "postmaster@%s", helo);
		rq.sender = sender;
		rq.domain = helo;
	}
	if (use_libspf2) {
		c = NULL;
		libspf2_case(z, host, helo, from, lres, sizeof(lres), lexp, sizeof(lexp));
		got = lres;
		ok = want && result_ok(d, want, got);
		if (!ok)
			snprintf(why, sizeof(why), "result %s", got);
	} else {
		if ((c = spf_check_run(&env, &rq)) == NULL)
			exit(2);
		got = spf_result_name(spf_check_result(c));
		ok = want && result_ok(d, want, got);
		if (!ok)
			snprintf(why, sizeof(why), "result %s (%s%s%s)", got,
			    spf_check_mechanism(c), *spf_check_problem(c) ? ": " : "",
			    spf_check_problem(c));
	}
	if (ok && wexp) {
		char *w = text(wexp);
		exp = c ? spf_check_explanation(c) : lexp;
		if (exp == NULL || strcmp(exp, w) != 0) {
			ok = 0;
			snprintf(why, sizeof(why), "explanation \"%s\", expected \"%s\"",
			    exp ? exp : "(none)", w);
		}
		free(w);
	}
	t->cases++;
	if (ok && k) {
		t->xpass++;
		k->used = 1;
		printf("XPASS %s %s: listed in KNOWN-FAILURES but passes\n", suite, name);
	} else if (ok) {
		t->pass++;
		if (verbose)
			printf("PASS  %s %s: %s\n", suite, name, got);
	} else if (k) {
		t->xfail++;
		k->used = 1;
		printf("XFAIL %s %s: %s\n", suite, name, why);
	} else {
		t->fail++;
		printf("FAIL  %s %s: %s\n", suite, name, why);
	}
	spf_check_free(c);
	free(helo);
	free(host);
	free(from);
	free(sender);
}

static int
run_suite(const char *path)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t p;
	yaml_document_t d;
	SPF_dns_server_t *z = zonedns_new();
	struct tally t;
	char *copy = strdup(path);
	const char *suite = basename(copy);

	if (f == NULL || z == NULL || copy == NULL) {
		perror(path);
		exit(2);
	}
	memset(&t, 0, sizeof(t));
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	for (;;) {
		yaml_node_t *root, *zone, *tests;

		if (!yaml_parser_load(&p, &d)) {
			fprintf(stderr, "%s:%lu: %s\n", path,
			    (unsigned long)p.problem_mark.line + 1, p.problem);
			exit(2);
		}
		if ((root = yaml_document_get_root_node(&d)) == NULL) {
			yaml_document_delete(&d);
			break;
		}
		zonedns_clear(z);
		if ((zone = get(&d, root, "zonedata")) && zone->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *pr = zone->data.mapping.pairs.start;
			    pr < zone->data.mapping.pairs.top; pr++) {
				char *name = text(yaml_document_get_node(&d, pr->key));
				load_name(z, &d, name, yaml_document_get_node(&d, pr->value));
				free(name);
			}
		if ((tests = get(&d, root, "tests")) && tests->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *pr = tests->data.mapping.pairs.start;
			    pr < tests->data.mapping.pairs.top; pr++) {
				char *name = text(yaml_document_get_node(&d, pr->key));
				run_case(z, &d, suite, name,
				    yaml_document_get_node(&d, pr->value), &t);
				free(name);
			}
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	fclose(f);
	printf("%s: %d cases, %d pass, %d known failures, %d unexpected failures, "
	    "%d listed but passing\n", suite, t.cases, t.pass, t.xfail, t.fail, t.xpass);
	free(copy);
	SPF_dns_free(z);
	return t.fail || t.xpass ? 1 : 0;
}

int
main(int argc, char **argv)
{
	int rc = 0, i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "-l") == 0)
			use_libspf2 = 1;
		else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc)
			load_known(argv[++i]);
		else {
			fprintf(stderr, "usage: test_spf_conformance [-v] [-l] [-k KNOWN-FAILURES] SUITE.yml...\n");
			return 2;
		}
	}
	if (i == argc) {
		fprintf(stderr, "usage: test_spf_conformance [-v] [-l] [-k KNOWN-FAILURES] SUITE.yml...\n");
		return 2;
	}
	spf_guard_install();
	for (; i < argc; i++)
		rc |= run_suite(argv[i]);
	free(known);
	return rc;
}
