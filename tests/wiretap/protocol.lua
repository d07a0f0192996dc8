-- wiretap through a real milter client: what it negotiates, ACCEPT at
-- DATA for a message nothing matches, a copy and a gag at end of message.
-- (End of headers is negotiated away: calling mt.eoh would end the script.)
local sock = os.getenv("MILTER_SOCKET")

local function open(ip)
	local conn = mt.connect(sock)
	assert(conn, "connect failed")
	assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
	assert(mt.conninfo(conn, "client.example", ip) == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "connect reply")
	assert(mt.helo(conn, "client.example") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "helo reply")
	return conn
end

local function envelope(conn, from, rcpt)
	mt.macro(conn, SMFIC_MAIL, "i", "PROTO1")
	assert(mt.mailfrom(conn, from) == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail reply")
	assert(mt.rcptto(conn, rcpt) == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt reply")
end

local function content(conn)
	assert(mt.header(conn, "Subject", "protocol") == nil)
	assert(mt.header(conn, "From", "someone") == nil)
	assert(mt.bodystring(conn, "body line\r\n") == nil)
	assert(mt.eom(conn) == nil)
end

-- negotiation: DATA with a reply, headers without, the body, the actions
local conn = open("192.0.2.1")
assert(not mt.test_option(conn, SMFIP_NODATA), "DATA must be on")
assert(not mt.test_option(conn, SMFIP_NOHDRS), "headers must be on")
assert(mt.test_option(conn, SMFIP_NR_HDR), "headers need no reply")
assert(not mt.test_option(conn, SMFIP_NOBODY), "body must be on")
assert(mt.test_action(conn, SMFIF_ADDRCPT), "ADDRCPT requested")
assert(mt.test_action(conn, SMFIF_DELRCPT), "DELRCPT requested")
assert(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS requested")
assert(mt.test_action(conn, SMFIF_CHGHDRS), "CHGHDRS requested")
assert(not mt.test_action(conn, SMFIF_CHGBODY), "CHGBODY not requested")

-- nothing matches: ACCEPT at DATA, the MTA need not send the rest
envelope(conn, "<nobody@example.net>", "<x@example.org>")
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_ACCEPT, "unmatched message: ACCEPT at DATA")
mt.disconnect(conn)

-- a watched sender on an internal client
conn = open("10.1.2.3")
envelope(conn, "<alice@corp.example>", "<bob@example.net>")
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "matched message: DATA continues")
content(conn)
assert(mt.eom_check(conn, MT_RCPTADD, "<monitor@corp.example>"), "monitor not added")
assert(not mt.eom_check(conn, MT_RCPTDELETE, "<bob@example.net>"), "bob must stay")
assert(mt.getreply(conn) == SMFIR_CONTINUE, "eom reply")
mt.disconnect(conn)

-- a gagged sender
conn = open("10.1.2.3")
envelope(conn, "<bigmouth@corp.example>", "<carol@example.net>")
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "matched message: DATA continues")
content(conn)
assert(mt.eom_check(conn, MT_RCPTDELETE, "<carol@example.net>"), "recipient not removed")
assert(mt.eom_check(conn, MT_RCPTADD, "<spy@corp.example>"), "spy not added")
assert(mt.getreply(conn) == SMFIR_CONTINUE, "eom reply")
mt.disconnect(conn)
print("wiretap protocol ok")
