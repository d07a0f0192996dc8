#!/usr/bin/python3
# The interoperability table of the srs plugin: modmilter-srs against the
# reference implementations Debian ships, pysrs (python3-srs, the SRS
# module of pysrs-bin) and Mail::SRS (libmail-srs-perl), with the same
# secret, both ways.
#
#   interop.py MODMILTER-SRS
#
# For several hash lengths and separators and several senders:
# - forward: each implementation signs the sender (SRS0) and then that
#   SRS0 address again at a second forwarder (SRS1); all three must make
#   the same bytes, so each one's addresses are the others' too;
# - reverse: each implementation's address is reversed by each one (SRS0
#   to the sender, SRS1 to the first forwarder's SRS0);
# - the cases of the table below (tampered, expired, from the future,
#   case-folded, another separator) give the same answer, ok with the
#   same address or refused, in all three - and the answer the table
#   expects.
# Prints one line per case; exit 1 when one fails, 77 (skip) without the
# reference implementations.
import os
import subprocess
import sys
import time

try:
    import SRS
except ImportError:
    print("SKIP: python3-srs (pysrs) not installed")
    sys.exit(77)

TOOL = sys.argv[1]
SECRET = "interop secret, not a good one"
DAY = 86400
T0 = 1764806400 + 13 * 3600     # 2025-12-04 13:00 UTC
MAXAGE = 8

PERL = r'''
my $now = 0;
BEGIN { *CORE::GLOBAL::time = sub () { $now }; }
use strict;
use warnings;
use Mail::SRS;
$| = 1;
$SIG{__WARN__} = sub { };
while (my $line = <STDIN>) {
    chomp $line;
    my ($t, $op, $addr, $hl, $sep, $maxage, $fw) = split /\t/, $line, -1;
    $now = $t;
    my $srs = Mail::SRS->new(Secret => $ENV{SRS_SECRET}, MaxAge => $maxage,
        HashLength => $hl, Separator => $sep);
    my $r = eval { $op eq 'forward' ? $srs->forward($addr, $fw) : $srs->reverse($addr) };
    print defined($r) ? "ok\t$r\n" : "fail\t\n";
}
'''


class Perl:
    name = "Mail::SRS"

    def __init__(self):
        env = dict(os.environ, SRS_SECRET=SECRET)
        self.p = subprocess.Popen(["perl", "-e", PERL], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env)

    def run(self, op, addr, hl, sep, now, fw=""):
        self.p.stdin.write("\t".join([str(now), op, addr, str(hl), sep,
                                      str(MAXAGE), fw]) + "\n")
        self.p.stdin.flush()
        status, result = self.p.stdout.readline().rstrip("\n").split("\t", 1)
        return status, result


class Py:
    name = "pysrs"

    def run(self, op, addr, hl, sep, now, fw=""):
        saved = time.time
        time.time = lambda: now
        try:
            srs = SRS.new(secret=SECRET, maxage=MAXAGE, hashlength=hl,
                          separator=sep)
            srs.warn = lambda *a: None
            r = srs.forward(addr, fw) if op == "forward" else srs.reverse(addr)
            return "ok", r
        except Exception:
            return "fail", ""
        finally:
            time.time = saved


class Ours:
    name = "modmilter-srs"

    def run(self, op, addr, hl, sep, now, fw=""):
        cmd = [TOOL, "-s", SECRET, "-l", str(hl), "-m", str(MAXAGE), "-p", sep,
               "-t", str(now)]
        if op == "forward":
            cmd += ["-d", fw]
        p = subprocess.run(cmd + [op, addr], capture_output=True, text=True)
        if p.returncode == 0:
            return "ok", p.stdout.strip()
        if p.returncode == 1:
            return "fail", ""
        raise SystemExit("modmilter-srs: exit %d: %s" % (p.returncode, p.stderr))


IMPLS = [Ours(), Py(), Perl()]
fails = 0
cases = 0


def report(ok, text):
    global fails, cases
    cases += 1
    if not ok:
        fails += 1
    print("%s %s" % ("ok  " if ok else "FAIL", text))


def local_fields(addr):
    return addr.rsplit("@", 1)[0].split("=")


def tamper_user(addr):
    local, domain = addr.rsplit("@", 1)
    last = local[-1]
    return local[:-1] + ("x" if last != "x" else "y") + "@" + domain


def tamper_hash(addr):
    # the first character of the hash follows "SRSn" and the separator
    c = addr[5]
    return addr[:5] + ("B" if c != "B" else "C") + addr[6:]


def other_sep(addr, sep):
    new = {"=": "+", "+": "-", "-": "="}[sep]
    return addr[:4] + new + addr[5:]


# (hash length, separator)
PARAMS = [(4, "="), (8, "+"), (6, "-"), (12, "=")]
SENDERS = ["alice@example.org", "Bob.Smith+tag@Sub.Example.NET",
           "x=y@example.com"]

for hl, sep in PARAMS:
    for sender in SENDERS:
        tag = "l=%d sep=%s %s" % (hl, sep, sender)
        # forward: identical bytes from all three
        srs0 = {i.name: i.run("forward", sender, hl, sep, T0, "fwd.example")
                for i in IMPLS}
        first = srs0["modmilter-srs"]
        report(first[0] == "ok" and first[1].startswith("SRS0" + sep) and
               all(v == first for v in srs0.values()),
               "forward SRS0 %s: %s" % (tag, srs0))
        a0 = first[1]
        srs1 = {i.name: i.run("forward", a0, hl, sep, T0, "second.example")
                for i in IMPLS}
        first = srs1["modmilter-srs"]
        report(first[0] == "ok" and first[1].startswith("SRS1" + sep) and
               all(v == first for v in srs1.values()),
               "forward SRS1 %s: %s" % (tag, srs1))
        a1 = first[1]
        # each signer's address reversed by each implementation
        for signer in IMPLS:
            for form, addr, want in (("SRS0", srs0[signer.name][1], sender),
                                     ("SRS1", srs1[signer.name][1], a0)):
                for verifier in IMPLS:
                    got = verifier.run("reverse", addr, hl, sep, T0 + DAY)
                    report(got == ("ok", want), "%s by %s reversed by %s %s: %s"
                           % (form, signer.name, verifier.name, tag, got))
        # the table: (case, address, when, expected status)
        table = [
            ("SRS0 as signed", a0, T0, "ok"),
            ("SRS0 last valid day", a0, T0 + MAXAGE * DAY, "ok"),
            ("SRS0 expired", a0, T0 + (MAXAGE + 1) * DAY, "fail"),
            ("SRS0 from the future", a0, T0 - DAY, "fail"),
            ("SRS0 tampered user", tamper_user(a0), T0, "fail"),
            ("SRS0 tampered hash", tamper_hash(a0), T0, "fail"),
            ("SRS0 lower-cased", a0.lower(), T0, "ok"),
            ("SRS0 upper-cased", a0.upper(), T0, "ok"),
            ("SRS0 other separator", other_sep(a0, sep), T0, "ok"),
            ("SRS1 as signed", a1, T0, "ok"),
            ("SRS1 long after (no stamp of its own)", a1, T0 + 100 * DAY, "ok"),
            ("SRS1 tampered", tamper_user(a1), T0, "fail"),
            ("SRS1 tampered hash", tamper_hash(a1), T0, "fail"),
            ("SRS1 lower-cased", a1.lower(), T0, "ok"),
            ("SRS1 other separator", other_sep(a1, sep), T0, "ok"),
        ]
        for name, addr, when, want in table:
            got = {i.name: i.run("reverse", addr, hl, sep, when) for i in IMPLS}
            ours = got["modmilter-srs"]
            report(ours[0] == want and all(v == ours for v in got.values()),
                   "%s %s: %s -> %s" % (name, tag, addr, got))

print("%d cases, %d failed" % (cases, fails))
sys.exit(1 if fails else 0)
