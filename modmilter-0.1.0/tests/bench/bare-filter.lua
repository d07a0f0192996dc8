-- Check tests/bench/bare-filter with miltertest(8):
--
--	miltertest -s tests/bench/bare-filter.lua
--
-- The filter is started by this script. Environment:
--	BARE_FILTER	path of the binary (default ./bare-filter)
--	BARE_SOCKET	socket to use (default inet:9903@127.0.0.1)
--
-- Expected: only MAIL and end of message are negotiated; the filter adds
-- "X-Hello: world" and accepts.

-- miltertest does not print the message of error(), so say it first.
local function fail(msg)
	mt.echo("*** bare-filter: FAIL: " .. msg)
	error(msg)
end

local filter = os.getenv("BARE_FILTER") or "./bare-filter"
local sock = os.getenv("BARE_SOCKET") or "inet:9903@127.0.0.1"

mt.echo("*** bare-filter: " .. filter .. " on " .. sock)
mt.startfilter(filter, "-p", sock)

local conn = mt.connect(sock, 50, 0.1)
if conn == nil then
	fail("mt.connect() failed")
end

if mt.negotiate(conn, nil, nil, nil) ~= nil then
	fail("mt.negotiate() failed")
end
if not mt.test_action(conn, SMFIF_ADDHDRS) then
	fail("filter did not ask for SMFIF_ADDHDRS")
end
for name, bit in pairs({
	NOCONNECT = SMFIP_NOCONNECT, NOHELO = SMFIP_NOHELO,
	NORCPT = SMFIP_NORCPT, NOHDRS = SMFIP_NOHDRS, NOEOH = SMFIP_NOEOH,
	NOBODY = SMFIP_NOBODY, NOUNKNOWN = SMFIP_NOUNKNOWN,
	NODATA = SMFIP_NODATA }) do
	if not mt.test_option(conn, bit) then
		fail("filter did not negotiate SMFIP_" .. name)
	end
end
if mt.test_option(conn, SMFIP_NOMAIL) then
	fail("filter negotiated SMFIP_NOMAIL, it must keep MAIL")
end

-- miltertest refuses to send events that were negotiated away, so
-- connect, HELO, RCPT, headers, end of headers and body are left out.
mt.macro(conn, SMFIC_MAIL, "i", "BARE00000001")
if mt.mailfrom(conn, "<sender@example.org>") ~= nil then
	fail("mt.mailfrom() failed")
end
if mt.getreply(conn) ~= SMFIR_CONTINUE then
	fail("mt.mailfrom() unexpected reply")
end

if mt.eom(conn) ~= nil then
	fail("mt.eom() failed")
end
if mt.getreply(conn) ~= SMFIR_ACCEPT then
	fail("mt.eom() unexpected reply")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Hello") then
	fail("no X-Hello header added")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Hello", "world") then
	fail("X-Hello header has the wrong value")
end
if mt.eom_check(conn, MT_HDRCHANGE) or mt.eom_check(conn, MT_BODYCHANGE) then
	fail("unexpected modification")
end

mt.disconnect(conn)
mt.echo("*** bare-filter: ok")
