-- msg_end through the milter protocol: endplug records each message's
-- outcome in @TMP@/outcomes (the directory of the socket). An accepted
-- message with a refused recipient and an added header, an SMTP abort,
-- and a client that vanishes mid-message each end exactly once.
local sock = os.getenv("MILTER_SOCKET")
local dir = sock:match("^unix:(.*)/[^/]*$")

local function ends()
	local t = {}
	local f = io.open(dir .. "/outcomes")
	if not f then return t end
	for l in f:lines() do
		if l:sub(1, 4) == "end " then t[#t + 1] = l end
	end
	f:close()
	return t
end

local function wait_ends(n)
	for _ = 1, 50 do
		if #ends() >= n then break end
		os.execute("sleep 0.1")
	end
	return ends()
end

local function expect(line, words)
	for _, w in ipairs(words) do
		assert(line and string.find(line, w, 1, true),
		    "'" .. w .. "' missing in: " .. tostring(line))
	end
end

local conn = mt.connect(sock)
assert(conn)
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example.net", "192.0.2.1") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.helo(conn, "client.example.net") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)

-- 1: accepted, one recipient refused, a header added
mt.macro(conn, SMFIC_MAIL, "i", "END1")
assert(mt.mailfrom(conn, "<a@example.net>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<nobody@example.com>") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE, "nobody must be refused")
assert(mt.rcptto(conn, "<user@example.com>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.header(conn, "Subject", "test") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.eoh(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.bodystring(conn, "body\r\n") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(#ends() == 0, "msg_end before end of message")
assert(mt.eom(conn) == nil)
assert(mt.eom_check(conn, MT_HDRADD, "X-T1", "one"), "X-T1 missing")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
local e = wait_ends(1)
assert(#e == 1, "one msg_end per message")
expect(e[1], { "qid=END1", "verdict=accept", "aborted=0", "stage=eom",
    "rcpts=nobody@example.com/reject/t1,user@example.com/continue/-",
    "changed=0x1 ", "act=refused reply=refused" })

-- 2: the SMTP client aborts (RSET)
mt.macro(conn, SMFIC_MAIL, "i", "END2")
assert(mt.mailfrom(conn, "<b@example.net>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<user@example.com>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.abort(conn) == nil)

-- 3: the client vanishes in the middle of the message
mt.macro(conn, SMFIC_MAIL, "i", "END3")
assert(mt.mailfrom(conn, "<c@example.net>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
e = ends()
assert(#e == 2, "the abort must end message 2")
expect(e[2], { "qid=END2", "verdict=tempfail", "aborted=1", "stage=abort",
    "from=b@example.net" })
assert(mt.rcptto(conn, "<user@example.com>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)
e = wait_ends(3)
assert(#e == 3, "the dropped connection must end message 3")
-- (libmilter says abort before it closes a connection cut mid-message)
expect(e[3], { "qid=END3", "verdict=tempfail", "aborted=1", "from=c@example.net" })
print("msgend ok")
