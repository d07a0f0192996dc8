-- Helper for daemon.sh (not run by run.sh: needs GREETING): one message,
-- expects X-Hello: $GREETING.
local conn = mt.connect(os.getenv("MILTER_SOCKET"))
assert(conn, "connect")
assert(mt.conninfo(conn, "client.example.net", "192.0.2.1") == nil)
assert(mt.helo(conn, "client.example.net") == nil)
assert(mt.mailfrom(conn, "<a@example.net>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<b@example.com>") == nil)
assert(mt.eom(conn) == nil)
assert(mt.eom_check(conn, MT_HDRADD, "X-Hello", os.getenv("GREETING")),
	"X-Hello is not " .. os.getenv("GREETING"))
mt.disconnect(conn)
