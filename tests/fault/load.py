#!/usr/bin/env python3
"""Steady SMTP load for tests/fault/run.sh.

    load.py PORT RATE DIR MAXSECONDS POSTFIX-CONFIG-DIR

Sends one message every 1/RATE seconds to 127.0.0.1:PORT, each in its own
SMTP session, except every fifth one, which is submitted locally with
Postfix's sendmail(1) (filtered by non_smtpd_milters; a refusal by the
milter leaves it in the maildrop queue, and Postfix tries it again).
Each has a unique tag (X-Fault-Tag, Message-ID, Subject,
envelope sender, see sender()).  The tag is labelled with the phase named in DIR/phase
when it is sent; "stop" in DIR/phase ends the run.  A message refused with
4xx (or left without an answer), or that sendmail(1) did not take, is
sent again, once, as an SMTP client would: when DIR/ended/PHASE exists (the fault of its phase is over).

Every attempt is one line of DIR/results.tsv:
    tag  phase  attempt  start  seconds  code  reply
code is the SMTP reply code of the failing stage, or of the end of DATA
(250 when the message was accepted; for sendmail(1): 250 when it exited
0, 451 when it exited 75, 0 otherwise); 0 when the server never answered.
DIR/outstanding holds "PHASE COUNT" lines: messages of each phase whose
last attempt has not finished yet.
"""
import base64
import os
import random
import smtplib
import subprocess
import sys
import threading
import time

port, rate, d, maxsecs = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
pfconf = sys.argv[5]
RCPT = "bob@example.com"
MAXCONC = 48            # SMTP sessions at once
RETRY_WAIT = 300        # longest wait for the end of a phase before a retry

lock = threading.Lock()
sem = threading.BoundedSemaphore(MAXCONC)
outstanding = {}
out = open(os.path.join(d, "results.tsv"), "a", buffering=1)
WORDS = ("meeting agenda project report budget review schedule invoice "
         "quarterly numbers draft minutes lunch friday team update notes").split()


def sender(tag):
    """odd tags: a sender whose MX answers at once; even tags: one whose MX
    takes a second to answer cbv's RCPT (so that transactions are in the
    middle of end of message when a fault strikes)"""
    return "t%d@s%d.%s.example.net" % (tag, tag, "slow" if tag % 2 == 0 else "snd")


def message(tag, phase):
    rnd = random.Random(tag)
    body = "\n".join(" ".join(rnd.choice(WORDS) for _ in range(12)) for _ in range(6))
    hdr = ("From: Tester %d <%s>\r\n"
           "To: Bob <%s>\r\n"
           "Subject: fault test %d (%s)\r\n"
           "Message-ID: <fault-%d@snd.example.net>\r\n"
           "Date: %s\r\n"
           "X-Fault-Tag: %d\r\n"
           "X-Fault-Phase: %s\r\n" % (tag, sender(tag), RCPT, tag, phase, tag,
                                      time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                                      tag, phase))
    if tag % 7 == 0:
        # a banned attachment: the mime plugin replaces it and saves the original
        exe = base64.encodebytes(b"MZ\x90\x00" + bytes(rnd.randrange(256) for _ in range(300))).decode()
        return (hdr + "MIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
                "--b%d\r\nContent-Type: text/plain\r\n\r\n%s\r\n"
                "--b%d\r\nContent-Type: application/octet-stream; name=\"invoice-%d.exe\"\r\n"
                "Content-Disposition: attachment; filename=\"invoice-%d.exe\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b%d--\r\n"
                % (tag, tag, body, tag, tag, tag, exe, tag)).replace("\r\n", "\n").replace("\n", "\r\n")
    return (hdr + "\r\n" + body + "\r\n").replace("\r\n", "\n").replace("\n", "\r\n")


def local(tag):
    return tag % 5 == 3


def attempt_local(tag, phase):
    try:
        p = subprocess.run(["sendmail", "-C", pfconf, "-f", sender(tag), "--", RCPT],
                           input=message(tag, phase).replace("\r\n", "\n").encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90)
    except (OSError, subprocess.SubprocessError) as e:
        return 0, "sendmail: %s" % e
    text = " ".join(p.stdout.decode("utf-8", "replace").split())
    if p.returncode == 0:
        return 250, "queued by sendmail(1) " + text
    return (451 if p.returncode == 75 else 0), "sendmail exit %d %s" % (p.returncode, text)


def attempt(tag, phase):
    if local(tag):
        return attempt_local(tag, phase)
    code, text = 0, ""
    s = None
    try:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="helo.snd.example.net", timeout=90)
        code, text = s.ehlo()
        if code == 250:
            code, text = s.mail(sender(tag))
        if code == 250:
            code, text = s.rcpt(RCPT)
        if code in (250, 251):
            try:
                code, text = s.data(message(tag, phase))
            except smtplib.SMTPDataError as e:
                code, text = e.smtp_code, e.smtp_error
    except smtplib.SMTPConnectError as e:
        code, text = e.smtp_code, e.smtp_error
    except (smtplib.SMTPException, OSError) as e:
        code, text = 0, "%s: %s" % (type(e).__name__, e)
    finally:
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return code, " ".join(str(text).split())


def record(tag, phase, n, t0, code, text):
    with lock:
        out.write("%d\t%s\t%d\t%.3f\t%.3f\t%d\t%s\n" % (tag, phase, n, t0, time.time() - t0, code, text))


def worker(tag, phase):
    try:
        with sem:
            t0 = time.time()
            code, text = attempt(tag, phase)
        record(tag, phase, 1, t0, code, text)
        if code == 0 or 400 <= code < 500:
            deadline = time.time() + RETRY_WAIT
            marker = os.path.join(d, "ended", phase)
            while not os.path.exists(marker) and time.time() < deadline:
                time.sleep(0.2)
            time.sleep(random.uniform(0, 0.5))
            with sem:
                t0 = time.time()
                code, text = attempt(tag, phase)
            record(tag, phase, 2, t0, code, text)
    finally:
        with lock:
            outstanding[phase] -= 1


def write_outstanding():
    with lock:
        lines = "".join("%s %d\n" % kv for kv in outstanding.items())
    tmp = os.path.join(d, "outstanding.tmp")
    with open(tmp, "w") as f:
        f.write(lines)
    os.rename(tmp, os.path.join(d, "outstanding"))


def main():
    start = time.time()
    nxt = start
    tag = 0
    threads = []
    while time.time() - start < maxsecs:
        try:
            with open(os.path.join(d, "phase")) as f:
                phase = f.read().strip() or "idle"
        except OSError:
            phase = "idle"
        if phase == "stop":
            break
        tag += 1
        with lock:
            outstanding[phase] = outstanding.get(phase, 0) + 1
        t = threading.Thread(target=worker, args=(tag, phase), daemon=True)
        t.start()
        threads.append(t)
        write_outstanding()
        nxt += 1.0 / rate
        time.sleep(max(0.0, nxt - time.time()))
    # the last attempts: bounded by the SMTP timeout and RETRY_WAIT
    deadline = time.time() + RETRY_WAIT
    while any(t.is_alive() for t in threads) and time.time() < deadline:
        write_outstanding()
        time.sleep(0.2)
    write_outstanding()
    print("load: %d messages in %.1fs" % (tag, time.time() - start))


main()
