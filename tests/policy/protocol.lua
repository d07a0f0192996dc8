-- The policy plugin through a real milter client: every refusal (bad
-- PTR, numeric and self HELO, zombie, forgery, three strikes,
-- Subject word) and the passes (internal, external, trusted relay,
-- authenticated); the three strikes flag, Sender: supplied, the dspam
-- marks, and the auto-whitelist round trip (learnt from an internal
-- sender, trusted only with SPF pass, rescinded by a banned attachment).
local sock = os.getenv("MILTER_SOCKET")
local hdr_reply

local function connect(host, ip)
	local conn = mt.connect(sock)
	assert(conn, "connect failed")
	assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
	hdr_reply = not mt.test_option(conn, SMFIP_NR_HDR)
	assert(mt.conninfo(conn, host, ip) == nil)
	return conn, mt.getreply(conn)
end

local function open(host, ip, helo)
	local conn, r = connect(host, ip)
	assert(r == SMFIR_CONTINUE, "connect " .. host .. " [" .. ip .. "]")
	assert(mt.helo(conn, helo) == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "helo " .. helo)
	return conn
end

local function mail(conn, from)
	assert(mt.mailfrom(conn, from) == nil)
	return mt.getreply(conn)
end

local function rcpt(conn, to)
	assert(mt.rcptto(conn, to) == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt " .. to)
end

-- headers, end of headers; returns the reply to end of headers
local function headers(conn, list)
	assert(mt.data(conn) == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "data")
	for _, h in ipairs(list) do
		assert(mt.header(conn, h[1], h[2]) == nil)
		if hdr_reply then
			assert(mt.getreply(conn) == SMFIR_CONTINUE, "header " .. h[1])
		end
	end
	assert(mt.eoh(conn) == nil)
	return mt.getreply(conn)
end

local function finish(conn)
	assert(mt.bodystring(conn, "body\r\n") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE, "body")
	assert(mt.eom(conn) == nil)
end

local function refused(r, what)
	assert(r == SMFIR_REPLYCODE, what .. " must be refused")
end

local plain = { { "From", "Bob <bob@partner.example>" }, { "Subject", "hello" } }

-- connection: an impossible PTR
local conn, r = connect("localhost", "192.0.2.50")
refused(r, "PTR localhost from 192.0.2.50")
mt.disconnect(conn)

-- HELO: numeric, ours from outside; ours from a trusted relay and inside pass
conn = connect("mail.partner.example", "203.0.113.5")
assert(mt.helo(conn, "203.0.113.5") == nil)
refused(mt.getreply(conn), "numeric HELO")
mt.disconnect(conn)
conn = connect("mail.partner.example", "203.0.113.5")
assert(mt.helo(conn, "mx.corp.example") == nil)
refused(mt.getreply(conn), "HELO mx.corp.example from outside")
mt.disconnect(conn)
conn = open("relay.isp.example", "172.16.1.1", "mx.corp.example")
mt.disconnect(conn)
conn = open("pc1.corp.example", "10.1.2.3", "mx.corp.example")
mt.disconnect(conn)

-- zombie: an internal client with a foreign MAIL FROM
conn = open("pc1.corp.example", "10.1.2.3", "pc1.corp.example")
refused(mail(conn, "<someone@freemail.example>"), "zombie")
mt.disconnect(conn)

-- forgery: one of our domains from outside; a trusted relay may
conn = open("mail.partner.example", "203.0.113.5", "mail.partner.example")
refused(mail(conn, "<ceo@corp.example>"), "forged corp.example")
mt.disconnect(conn)
conn = open("relay.isp.example", "172.16.1.1", "relay.isp.example")
assert(mail(conn, "<ceo@corp.example>") == SMFIR_CONTINUE, "trusted relay")
rcpt(conn, "<alice@corp.example>")
assert(headers(conn, plain) == SMFIR_CONTINUE)
finish(conn)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "trusted relay eom")
mt.disconnect(conn)

-- authenticated: counts as internal (our domains yes, others are zombies)
conn = open("laptop.hotel.example", "203.0.113.7", "laptop")
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")
assert(mail(conn, "<alice@corp.example>") == SMFIR_CONTINUE, "authenticated")
mt.disconnect(conn)
conn = open("laptop.hotel.example", "203.0.113.7", "laptop")
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")
refused(mail(conn, "<alice@freemail.example>"), "authenticated zombie")
mt.disconnect(conn)

-- three strikes: no PTR, no valid HELO, no SPF: refused
conn = open("[203.0.113.9]", "203.0.113.9", "[203.0.113.9]")
refused(mail(conn, "<x@nospf.example>"), "three strikes")
mt.disconnect(conn)
-- ... or flagged for the cbv plugin (spf.verify)
conn = open("[192.0.2.9]", "192.0.2.9", "[192.0.2.9]")
assert(mail(conn, "<x@nospf.example>") == SMFIR_CONTINUE, "three strikes flag")
rcpt(conn, "<alice@corp.example>")
assert(headers(conn, plain) == SMFIR_CONTINUE)
finish(conn)
assert(mt.eom_check(conn, MT_HDRADD, "X-Fact-spf.verify", "yes"), "not flagged")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)

-- external with a good PTR passes; its Subject may not carry a banned word
conn = open("mail.partner.example", "203.0.113.5", "mail.partner.example")
assert(mail(conn, "<bob@partner.example>") == SMFIR_CONTINUE, "external")
rcpt(conn, "<alice@corp.example>")
refused(headers(conn, { { "From", "bob@partner.example" },
	{ "Subject", "=?UTF-8?B?VsOtYWdyYQ==?= cheap" } }), "Subject word")
mt.disconnect(conn)

-- Sender: supplied; a dspam_exempt recipient
conn = open("mail.partner.example", "203.0.113.5", "mail.partner.example")
assert(mail(conn, "<bounce-7@mailer.example>") == SMFIR_CONTINUE, "external")
rcpt(conn, "<getitall@corp.example>")
assert(headers(conn, plain) == SMFIR_CONTINUE)
finish(conn)
assert(mt.eom_check(conn, MT_HDRADD, "Sender", "<bounce-7@mailer.example>"),
	"Sender: not supplied")
assert(mt.eom_check(conn, MT_HDRADD, "X-Fact-policy.dspam", "exempt"), "not exempt")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)

-- auto-whitelist: alice (internal, a whitelist sender) writes to bob
conn = open("pc1.corp.example", "10.1.2.3", "pc1.corp.example")
assert(mail(conn, "<alice@corp.example>") == SMFIR_CONTINUE, "internal")
rcpt(conn, "<bob@partner.example>")
assert(headers(conn, { { "From", "alice@corp.example" }, { "Subject", "lunch" } }) ==
	SMFIR_CONTINUE)
finish(conn)
assert(not mt.eom_check(conn, MT_HDRADD, "Sender"), "Sender: for internal mail")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)
os.execute("sleep 0.3")

-- bob's reply with SPF pass is whitelisted ...
conn = open("mail.partner.example", "198.51.100.1", "mail.partner.example")
assert(mail(conn, "<bob@partner.example>") == SMFIR_CONTINUE, "bob, SPF pass")
rcpt(conn, "<alice@corp.example>")
assert(headers(conn, plain) == SMFIR_CONTINUE)
finish(conn)
assert(mt.eom_check(conn, MT_HDRADD, "X-Fact-policy.dspam", "whitelisted"),
	"bob with SPF pass not whitelisted")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)
-- ... not without SPF pass ...
conn = open("mail.partner.example", "203.0.113.5", "mail.partner.example")
assert(mail(conn, "<bob@partner.example>") == SMFIR_CONTINUE, "bob, no SPF")
rcpt(conn, "<alice@corp.example>")
assert(headers(conn, plain) == SMFIR_CONTINUE)
finish(conn)
assert(mt.eom_check(conn, MT_HDRADD, "X-Fact-policy.dspam", "(unset)"),
	"bob without SPF pass whitelisted")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)
-- ... and a banned attachment rescinds it
conn = open("mail.partner.example", "198.51.100.2", "mail.partner.example")
assert(mail(conn, "<bob@partner.example>") == SMFIR_CONTINUE, "bob, banned")
rcpt(conn, "<alice@corp.example>")
assert(headers(conn, plain) == SMFIR_CONTINUE)
finish(conn)
assert(mt.eom_check(conn, MT_HDRADD, "X-Fact-policy.dspam", "rescinded"),
	"whitelist not rescinded")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)
-- someone never written to, with SPF pass: nothing
conn = open("mail.partner.example", "198.51.100.1", "mail.partner.example")
assert(mail(conn, "<carol@partner.example>") == SMFIR_CONTINUE, "carol")
rcpt(conn, "<alice@corp.example>")
assert(headers(conn, plain) == SMFIR_CONTINUE)
finish(conn)
assert(mt.eom_check(conn, MT_HDRADD, "X-Fact-policy.dspam", "(unset)"),
	"carol whitelisted")
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.disconnect(conn)
print("policy protocol ok")
