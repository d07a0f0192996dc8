#!/usr/bin/env python3
"""Count what became of every message of tests/fault/run.sh.

    count.py RESULTS.TSV SINKDIR MAILDIR QUEUED-TAGS EVENTS

RESULTS.TSV is load.py's log, SINKDIR the smtp-sink dumps (what Postfix
delivered), MAILDIR the wiretap archive Maildir of the watched recipient,
QUEUED-TAGS the tags of the messages still in Postfix's queue, one a line,
EVENTS lines "PHASE inject|restore EPOCH" (when each fault began and ended).
Prints one row per phase and exits 1 when a message was lost, delivered
twice, archived twice, delivered without an archive copy (arch-tmp counts
the accepted messages whose complete copy was left in the Maildir's tmp/
instead of new/: kept, logged, not a failure here), delivered
without the milter's headers, refused permanently, or still refused when
retried after its fault had ended.
"""
import collections
import os
import re
import sys

results, sinkdir, maildir, queuedf, eventsf = sys.argv[1:6]


def is_temp(code):
    return code == 0 or 400 <= code < 500


def headers(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.search(rb"\r?\n\r?\n", data)
    head = data[:m.start()] if m else data
    body = data[m.end():] if m else b""
    head = re.sub(rb"\r?\n[ \t]+", b" ", head).decode("utf-8", "replace")
    h = collections.defaultdict(list)
    for line in head.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            h[k.strip().lower()].append(v.strip())
    return h, body


attempts = collections.defaultdict(dict)     # tag -> {n: (code, start, secs, text)}
phase_of = {}
order = []
with open(results) as f:
    for line in f:
        p = line.rstrip("\n").split("\t")
        if len(p) < 6:
            continue
        tag, phase, n, t0, secs, code = int(p[0]), p[1], int(p[2]), float(p[3]), float(p[4]), int(p[5])
        attempts[tag][n] = (code, t0, secs, p[6] if len(p) > 6 else "")
        phase_of[tag] = phase
        if phase not in order:
            order.append(phase)

delivered = collections.Counter()
delivered_at = {}
unchecked = collections.Counter()
other = 0
for name in os.listdir(sinkdir):
    path = os.path.join(sinkdir, name)
    h, body = headers(path)
    if not h.get("x-fault-tag"):
        other += 1
        continue
    tag = int(h["x-fault-tag"][0])
    delivered[tag] += 1
    delivered_at[tag] = min(delivered_at.get(tag, 1e12), os.stat(path).st_mtime)
    ok = (any(v.startswith("pass") for v in h.get("received-spf", [])) and
          any(v.startswith("mx.example.com;") and "spf=pass" in v
              for v in h.get("authentication-results", [])) and
          bool(h.get("x-dspam-result")))
    if tag % 7 == 0:     # carried a banned attachment
        ok = ok and bool(h.get("x-modmilter-mime")) and b"TVqQ" not in body
    if not ok:
        unchecked[tag] += 1

archived = collections.Counter()      # copies in new/ (or cur/)
intmp = collections.Counter()         # files left in tmp/
tmpleft = 0
for sub in ("new", "cur", "tmp"):
    dd = os.path.join(maildir, sub)
    for name in (os.listdir(dd) if os.path.isdir(dd) else []):
        h, _ = headers(os.path.join(dd, name))
        if sub == "tmp":
            tmpleft += 1
        if h.get("x-fault-tag"):
            (intmp if sub == "tmp" else archived)[int(h["x-fault-tag"][0])] += 1

queued = set()
with open(queuedf) as f:
    for line in f:
        if line.strip().isdigit():
            queued.add(int(line))

restored = {}
with open(eventsf) as f:
    for line in f:
        p = line.split()
        if len(p) == 3 and p[1] == "restore":
            restored[p[0]] = float(p[2])


def shape(text):
    """a reply with the per-message parts (addresses, queue ids) made alike"""
    text = re.sub(r"t\d+@s\d+\.", "tN@sN.", text)
    text = re.sub(r"\bs\d+\.(snd|slow)\b", r"sN.\1", text)
    return re.sub(r"\b[0-9A-F]{10,12}\b", "QUEUEID", text)


COLS = ["fault", "sent", "local", "250", "4xx", "retry-ok", "still-4xx", "5xx", "delivered",
        "queued", "lost", "dup", "arch-dup", "arch-miss", "arch-tmp", "unchecked", "4xx-after", "max-delay"]
# max-delay: from the first attempt to the delivery (a refused message's
# retry included, and for local submissions Postfix's own retries)
rows = []
summary = []
problems = []
notes = []
tot = collections.Counter()
for phase in order:
    c = collections.Counter()
    maxdelay = 0.0
    last4xx = None
    replies = collections.Counter()
    took = collections.defaultdict(list)
    for tag in sorted(t for t in attempts if phase_of[t] == phase):
        a = attempts[tag]
        c["sent"] += 1
        if tag % 5 == 3:     # load.py's local(): submitted with sendmail(1)
            c["local"] += 1
        first = a.get(1)
        if first is None:
            problems.append("%d: no first attempt recorded" % tag)
            continue
        accepted_at = None
        if 200 <= first[0] < 300:
            c["250"] += 1
            accepted_at = first[1] + first[2]
        elif is_temp(first[0]):
            c["4xx"] += 1
            replies["%d %s" % (first[0], shape(first[3]))] += 1
            took["%d %s" % (first[0], shape(first[3]))].append(first[2])
            last4xx = max(last4xx or 0, first[1] + first[2])
            r = a.get(2)
            if r is None:
                c["still-4xx"] += 1
                problems.append("%d (%s): refused %d '%s', never retried" % (tag, phase, first[0], first[3]))
            elif 200 <= r[0] < 300:
                c["retry-ok"] += 1
                accepted_at = r[1] + r[2]
            elif is_temp(r[0]):
                c["still-4xx"] += 1
                problems.append("%d (%s): retry refused again: %d %s" % (tag, phase, r[0], r[3]))
            else:
                c["5xx"] += 1
                problems.append("%d (%s): retry refused permanently: %d %s" % (tag, phase, r[0], r[3]))
        else:
            c["5xx"] += 1
            problems.append("%d (%s): refused permanently: %d %s" % (tag, phase, first[0], first[3]))
        d = delivered[tag]
        if d:
            maxdelay = max(maxdelay, delivered_at[tag] - first[1])
        if d == 1:
            c["delivered"] += 1
        if tag in queued:
            c["queued"] += 1
        if accepted_at is not None and d == 0 and tag not in queued:
            c["lost"] += 1
            problems.append("%d (%s): accepted, never delivered, not queued" % (tag, phase))
        if d > 1 or (d > 0 and accepted_at is None):
            c["dup"] += 1
            problems.append("%d (%s): delivered %d times, accepted %s" % (tag, phase, d, accepted_at is not None))
        want = 1 if accepted_at is not None else 0
        if archived[tag] > want:
            c["arch-dup"] += 1
            problems.append("%d (%s): %d archive copies, %d accepted" % (tag, phase, archived[tag], want))
        if accepted_at is not None and d > 0 and archived[tag] == 0:
            if intmp[tag]:
                c["arch-tmp"] += 1
                notes.append("%d (%s): accepted; its archive copy is complete but was left in tmp/" % (tag, phase))
            else:
                c["arch-miss"] += 1
                problems.append("%d (%s): delivered without its archive copy" % (tag, phase))
        elif intmp[tag]:
            notes.append("%d (%s): a copy in tmp/ from an attempt that was not accepted" % (tag, phase))
        if unchecked[tag]:
            c["unchecked"] += 1
            problems.append("%d (%s): delivered without the milter's headers" % (tag, phase))
    tot.update(c)
    after = "-"
    if last4xx is not None and phase in restored:
        after = "%.1fs" % max(0.0, last4xx - restored[phase])
    rows.append([phase] + [str(c[k]) for k in COLS[1:-2]] + [after, "%.1fs" % maxdelay])
    summary.extend("  %s: %d x %s (answered in %.1f-%.1fs)" % (phase, n, r, min(took[r]), max(took[r]))
                   for r, n in replies.most_common())
rows.append(["total"] + [str(tot[k]) for k in COLS[1:-2]] + ["", ""])

w = [max(len(r[i]) for r in rows + [COLS]) for i in range(len(COLS))]
print("| " + " | ".join(COLS[i].ljust(w[i]) for i in range(len(COLS))) + " |")
print("|" + "|".join("-" * (w[i] + 2) for i in range(len(COLS))) + "|")
for r in rows:
    print("| " + " | ".join(r[i].ljust(w[i]) if i == 0 else r[i].rjust(w[i])
                            for i in range(len(COLS))) + " |")
print("other deliveries (no tag): %d; files left in the archive's tmp/: %d" % (other, tmpleft))
if summary:
    print("first answers other than 250, by fault:")
    print("\n".join(summary))
for p in notes:
    print("note: " + p)
for p in problems[:40]:
    print("PROBLEM: " + p, file=sys.stderr)
if len(problems) > 40:
    print("PROBLEM: ... and %d more" % (len(problems) - 40), file=sys.stderr)
bad = sum(tot[k] for k in ("lost", "dup", "arch-dup", "arch-miss", "unchecked", "5xx", "still-4xx"))
sys.exit(1 if bad or other else 0)
