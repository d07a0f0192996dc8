-- A plugin returning garbage becomes a TEMPFAIL (on_error), a plugin
-- sleeping past its timeout is cut off in time, a client vanishing in
-- the middle of a message does not hurt the daemon.
local sock = os.getenv("MILTER_SOCKET")
local conn = mt.connect(sock)
assert(conn)
assert(mt.conninfo(conn, "client.example.net", "192.0.2.1") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.helo(conn, "x") == nil)
assert(mt.mailfrom(conn, "<a@example.net>") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE, "garbage verdict must tempfail with a reply")
mt.disconnect(conn)

-- timeout: the hook sleeps 3 s, the instance allows 300 ms
conn = mt.connect(sock)
assert(conn)
assert(mt.conninfo(conn, "slow.example.net", "192.0.2.99") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
local t0 = os.time()
assert(mt.helo(conn, "slow.example.net") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE, "timeout must tempfail")
assert(os.time() - t0 <= 2, "timeout not honoured")
mt.disconnect(conn)

-- vanish mid-message, then a normal session still works
conn = mt.connect(sock)
assert(conn)
assert(mt.conninfo(conn, "client.example.net", "192.0.2.2") == nil)
assert(mt.helo(conn, "x") == nil)
assert(mt.mailfrom(conn, "<b@example.net>") == nil)
mt.disconnect(conn)
conn = mt.connect(sock)
assert(conn, "daemon gone after a client vanished")
assert(mt.conninfo(conn, "client.example.net", "192.0.2.3") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)
print("failures ok")
