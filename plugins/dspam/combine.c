/*
 * NAME
 *	combine - token probabilities and their combination into a verdict
 * SYNOPSIS
 *	#include "dspam.h"
 *
 *	struct combparams p;
 *	combine_defaults(&p);		(Fisher-Robinson, s 0.05, x 0.5, min_dev 0.2)
 *	combine(&p, stats, n, nspam, nham, &verdict);
 * DESCRIPTION
 *	Two of DSPAM's combiners:
 *
 *	Fisher-Robinson inverse chi-square (ALGO_FISHER): each token's
 *	probability is Robinson's f(w) = (s*x + n*p(w)) / (s + n), with
 *	p(w) the spam frequency ratio and n its hits; tokens with
 *	|f - 0.5| < min_dev are left out; the rest give
 *	S = C^-1(-2 sum ln(1-f), 2N) and H = C^-1(-2 sum ln f, 2N), and the
 *	message I = (1 + H - S) / 2. Both chi-square tails are computed in
 *	logs, so the log-odds stay exact where I rounds to 0 or 1 (the
 *	ranking a ROC curve needs).
 *
 *	Graham/Burton (ALGO_BURTON): Graham's token probability (innocent
 *	hits doubled, clamped to [0.01, 0.99], at least 5 weighted hits),
 *	Burton's selection of the 27 most interesting tokens where a token
 *	seen twice in the message may fill two places, and Bayes' rule
 *	P = prod p / (prod p + prod (1 - p)).
 *
 *	Tokens marked as noise (st[i].noise, by bnr.c) are left out by
 *	both.
 *
 *	A message with no usable token is innocent with probability 0.5
 *	(the threshold is strict: spam means probability > threshold).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dspam.h"

#define BURTON_TOKENS 27

void
combine_defaults(struct combparams *p)
{
	p->algo = ALGO_FISHER;
	p->robs = 0.05;
	p->robx = 0.5;
	/*
	 * Robinson's minimum deviation: a token whose f(w) is within 0.2
	 * of 0.5 (seen in both classes at less than 7:3) is left out. It
	 * says little about this message, yet each one adds two degrees
	 * of freedom to both chi-square sums, and hundreds of them (list
	 * and newsletter boilerplate) pull a message toward 0.5 or, all
	 * leaning one way, to an extreme. SpamBayes uses 0.1, bogofilter
	 * 0.375; see doc/plugins/dspam-performance.md for the measurements.
	 */
	p->min_dev = 0.2;
	p->max_tokens = 0;
	p->threshold = 0.5;
	p->bnr = 0;
	p->bnr_threshold = 0.3;
	p->bnr_sides = BNR_BOTH;
}

double
combine_token_robinson(const struct combparams *p, uint32_t spam,
    uint32_t ham, uint64_t nspam, uint64_t nham)
{
	double bad = nspam ? (double)spam / (double)nspam : 0.0;
	double good = nham ? (double)ham / (double)nham : 0.0;
	double n = (double)spam + (double)ham, f;

	if (bad + good <= 0.0)
		return p->robx;
	f = bad / (bad + good);
	return (p->robs * p->robx + n * f) / (p->robs + n);
}

double
combine_token_graham(uint32_t spam, uint32_t ham, uint64_t nspam,
    uint64_t nham)
{
	double g = 2.0 * ham, b = spam, pb, pg, pr;

	if (g + b < 5.0)
		return -1.0;	/* not enough evidence */
	pb = nspam ? b / (double)nspam : 0.0;
	pg = nham ? g / (double)nham : 0.0;
	if (pb > 1.0)
		pb = 1.0;
	if (pg > 1.0)
		pg = 1.0;
	if (pb + pg <= 0.0)
		return -1.0;
	pr = pb / (pb + pg);
	if (pr < 0.01)
		pr = 0.01;
	if (pr > 0.99)
		pr = 0.99;
	return pr;
}

static double
logsumexp2(double a, double b)
{
	double m = a > b ? a : b;

	if (m == -INFINITY)
		return -INFINITY;
	return m + log(exp(a - m) + exp(b - m));
}

/*
 * Sums of Poisson terms m^i/i! kept relative to a scale L (in logs),
 * so that each term costs a multiplication, not an exp and a log.
 */
struct psum {
	double s, term, L;	/* sum and current term, both times e^-L */
};

static void
psum_rescale(struct psum *p)
{
	if (p->term > 1e200 || p->s > 1e200) {
		p->s *= 1e-200;
		p->term *= 1e-200;
		p->L += 200.0 * M_LN10;
	}
}

/* ln Q(x2 | df) upper tail, df even: e^-m sum_{i<k} m^i/i! */
double
chi2_log_q(double x2, unsigned df)
{
	double m = x2 / 2.0;
	unsigned k = df / 2, i;
	struct psum p = { 0.0, 1.0, 0.0 };

	if (k == 0)
		return -INFINITY;
	if (x2 <= 0.0)
		return 0.0;
	for (i = 0; i < k; i++) {
		p.s += p.term;
		p.term *= m / (double)(i + 1);
		psum_rescale(&p);
	}
	return log(p.s) + p.L - m;
}

/* ln P(x2 | df) lower tail: e^-m sum_{i>=k} m^i/i! */
double
chi2_log_p(double x2, unsigned df)
{
	double m = x2 / 2.0;
	unsigned k = df / 2, i;
	struct psum p = { 0.0, 1.0, 0.0 };
	int sign;

	if (k == 0)
		return 0.0;
	if (x2 <= 0.0)
		return -INFINITY;
	p.L = (double)k * log(m) - lgamma_r((double)k + 1.0, &sign);	/* reentrant */
	for (i = k;; i++) {
		p.s += p.term;
		if (((double)i > m && p.term < p.s * 1e-17) || i > k + 1000000)
			break;
		p.term *= m / (double)(i + 1);
		psum_rescale(&p);
	}
	return log(p.s) + p.L - m;
}

static void
finish(const struct combparams *p, double logodds, size_t used,
    struct verdict *v)
{
	v->logodds = logodds;
	v->probability = 1.0 / (1.0 + exp(-logodds));
	v->confidence = fabs(v->probability - 0.5) * 2.0;
	v->spam = v->probability > p->threshold;
	v->used = used;
}

struct interesting {
	double p, dev;
};

static int
by_dev(const void *a, const void *b)
{
	const struct interesting *x = a, *y = b;

	return x->dev < y->dev ? 1 : x->dev > y->dev ? -1 :
	    x->p < y->p ? -1 : x->p > y->p;
}

static void
fisher(const struct combparams *p, const struct tokstat *st, size_t n,
    uint64_t nspam, uint64_t nham, struct verdict *v)
{
	double sln = 0.0, sln1 = 0.0;	/* sum ln f, sum ln (1-f) */
	double lqh, lph, lqs, lps;
	struct interesting *t = malloc((n ? n : 1) * sizeof(*t));
	size_t i, used = 0;

	if (t == NULL) {
		finish(p, 0.0, 0, v);	/* no memory: no evidence */
		return;
	}
	for (i = 0; i < n; i++) {
		double f;

		if ((st[i].spam == 0 && st[i].ham == 0) || st[i].noise)
			continue;
		f = combine_token_robinson(p, st[i].spam, st[i].ham, nspam, nham);
		if (fabs(f - 0.5) < p->min_dev)
			continue;
		if (f < 1e-9)
			f = 1e-9;
		if (f > 1.0 - 1e-9)
			f = 1.0 - 1e-9;
		t[used].p = f;
		t[used++].dev = fabs(f - 0.5);
	}
	if (p->max_tokens > 0 && used > p->max_tokens) {
		qsort(t, used, sizeof(*t), by_dev);
		used = p->max_tokens;
	}
	for (i = 0; i < used; i++) {
		sln += log(t[i].p);
		sln1 += log1p(-t[i].p);
	}
	free(t);
	if (used == 0) {
		finish(p, 0.0, 0, v);
		return;
	}
	lqh = chi2_log_q(-2.0 * sln, (unsigned)(2 * used));
	lph = chi2_log_p(-2.0 * sln, (unsigned)(2 * used));
	lqs = chi2_log_q(-2.0 * sln1, (unsigned)(2 * used));
	lps = chi2_log_p(-2.0 * sln1, (unsigned)(2 * used));
	/* I = (Qh + Ps) / 2, 1 - I = (Ph + Qs) / 2 */
	finish(p, logsumexp2(lqh, lps) - logsumexp2(lph, lqs), used, v);
}

static void
burton(const struct combparams *p, const struct tokstat *st, size_t n,
    uint64_t nspam, uint64_t nham, struct verdict *v)
{
	struct interesting *t = malloc((2 * n + 1) * sizeof(*t));
	double lo = 0.0;
	size_t i, k = 0, used;

	if (t == NULL) {
		/* no memory for the selection: no evidence */
		finish(p, 0.0, 0, v);
		return;
	}
	for (i = 0; i < n; i++) {
		double pr = combine_token_graham(st[i].spam, st[i].ham, nspam, nham);

		if (pr < 0.0 || st[i].noise)
			continue;
		t[k].p = pr;
		t[k++].dev = fabs(pr - 0.5);
		if (st[i].n > 1) {
			t[k].p = pr;
			t[k++].dev = fabs(pr - 0.5);
		}
	}
	qsort(t, k, sizeof(*t), by_dev);
	used = k < BURTON_TOKENS ? k : BURTON_TOKENS;
	for (i = 0; i < used; i++)
		lo += log(t[i].p) - log1p(-t[i].p);
	free(t);
	finish(p, lo, used, v);
}

void
combine(const struct combparams *p, const struct tokstat *st, size_t n,
    uint64_t nspam, uint64_t nham, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (p->algo == ALGO_BURTON)
		burton(p, st, n, nspam, nham, v);
	else
		fisher(p, st, n, nspam, nham, v);
}
