-- Addresses longer than the core's bracketing buffer (512 bytes) reach
-- the MTA whole, in angle brackets: a recipient added, one deleted and a
-- sender change, each of 575 characters.
local sock = os.getenv("MILTER_SOCKET")
local dom = "d00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d01xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d02xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d03xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d04xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d05xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d06xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d07xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.d08xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.example"
local conn = mt.connect(sock)
assert(conn)
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example.net", "192.0.2.1") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.helo(conn, "client.example.net") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.mailfrom(conn, "<a@example.net>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<del-longlocalpart@" .. dom .. ">") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.header(conn, "Subject", "long addresses") == nil)
assert(mt.bodystring(conn, "body\r\n") == nil)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "the message was not accepted")
assert(mt.eom_check(conn, MT_RCPTADD, "<add-longlocalpart@" .. dom .. ">"), "long recipient not added whole")
assert(mt.eom_check(conn, MT_RCPTDELETE, "<del-longlocalpart@" .. dom .. ">"), "long recipient not deleted whole")
mt.disconnect(conn)
