/*
 * NAME
 *	modmilter/plugin.h - modmilter plugin SDK, version 1
 * SYNOPSIS
 *	#include <modmilter/plugin.h>
 *
 *	MM_PLUGIN(hello, "1.0", "adds a greeting header",
 *		.init = hello_init, .fini = hello_fini,
 *		.envfrom = hello_envfrom, .eom = hello_eom,
 *		.actions = MM_ACT_ADDHDRS);
 * DESCRIPTION
 *	A modmilter plugin is a shared object that exports one descriptor,
 *	struct mm_plugin, under the symbol name "mm_plugin_descriptor"
 *	(the MM_PLUGIN() macro defines it). modmilterd loads the object,
 *	checks the descriptor's SDK version (see VERSIONS), calls init()
 *	once per configured instance with that instance's options, and then
 *	calls the hooks at each SMTP stage of each connection that selects
 *	a chain containing the instance.
 *
 *	The plugin never links against the daemon. Everything it may ask of
 *	the core goes through the struct mm_api table handed to init().
 *
 *	This header reads top to bottom: the basic types, the descriptor
 *	and its hooks, the macro that defines it, then the API table,
 *	grouped by job. The key-value store's types and rules are in
 *	<modmilter/store.h>, which this header includes.
 *
 * VERSIONS
 *	The SDK version is MM_SDK_MAJOR.MM_SDK_MINOR. A minor release only
 *	adds: members at the end of struct mm_api, hooks at the end of
 *	struct mm_plugin; nothing is ever reordered or removed.
 *
 *	The descriptor's sdk_minor is the minor the plugin NEEDS, not the
 *	one of the headers it was built with. Declare it by defining
 *	MM_SDK_NEED before including this header (or with -DMM_SDK_NEED=N):
 *
 *		#define MM_SDK_NEED 0	(works with any 1.x core)
 *		#include <modmilter/plugin.h>
 *
 *	Without it, MM_SDK_NEED is MM_SDK_MINOR, the minor of these
 *	headers: safe (the plugin may use every member they declare) but
 *	it then refuses to load in an older core. A plugin that declares
 *	an older minor must test each newer member before it uses it:
 *	MM_API_HAS(api, member) tells whether the running core's table has
 *	it (api->size is the size of the core's table); hooks the plugin
 *	defines that are newer than the core (msg_end, SDK 1.3) are simply
 *	never called there. Each member below says which minor added it
 *	(none: 1.0).
 *
 *	modmilterd loads a plugin when its major equals the core's and its
 *	needed minor is at most the core's; otherwise it refuses with an
 *	error naming the file, the version needed and the one it speaks.
 *	It reads the descriptor only up to its size member, so a plugin
 *	built with older headers (a shorter struct mm_plugin) has none of
 *	the newer hooks.
 *
 * END OF A MESSAGE (SDK 1.3)
 *	msg_end is called exactly once per message for every instance that
 *	joined the message (it is in the message's chain and the core
 *	still calls it: not failed, not done with the connection), however
 *	the message ended: accepted at end of message, refused or discarded
 *	at any stage, an SMTP abort or RSET, a client gone mid-message, or
 *	a MAIL FROM that followed without an end. It comes after the
 *	verdict is final (after the abort hooks of a message not accepted)
 *	and before the message's data is freed (mm_msg_data destructors).
 *	The outcome says how: see struct mm_outcome. Inside msg_end the
 *	message can no longer be changed: replies and actions are refused
 *	(-1); facts, mail_from, rcpt_*, headers, msg_data, the store,
 *	metrics and logging work. It runs under the instance's timeout like
 *	any hook. An instance abandoned after a timeout on the connection
 *	gets no msg_end (its destructors still run).
 *
 *	An early ACCEPT: when every plugin of the chain accepted before end
 *	of message, the MTA sends nothing more of it; the message ends as
 *	accepted (stage: where all accepted) with the next event of the
 *	connection. An SMTP abort that the MTA reports is an abort.
 *
 * THREADS
 *	modmilterd serves each SMTP connection in its own thread. Hooks of
 *	one connection are never called concurrently, but hooks of different
 *	connections are, so an instance's shared state must be thread-safe.
 *	Per-connection and per-message state belongs in
 *	set_conn_data()/set_msg_data() slots (see the API table).
 *
 * MEMORY
 *	Every argument is borrowed for the duration of the call. Every string
 *	passed to the API is copied by the core. Strings the API returns are
 *	valid until the end of the current message (facts, headers) or
 *	connection (connection facts) unless documented otherwise.
 *
 * VERDICTS
 *	Each hook returns an mm_verdict; the core merges the verdicts of all
 *	plugins of a chain into one reply (most severe wins: DISCARD >
 *	REJECT > TEMPFAIL > CONTINUE). MM_ACCEPT ends this plugin's part in
 *	the message; MM_SKIP (body hook only) asks for no more body;
 *	MM_ERROR reports a failure of the plugin itself, which the core turns
 *	into the instance's on_error policy. A REJECT or TEMPFAIL may carry
 *	a reply set with api->set_reply() during the same hook.
 *
 * TIMEOUTS
 *	With a timeout configured, hooks and conn_open run on a worker
 *	thread. One that runs past it is abandoned: the core answers with
 *	the instance's on_error verdict, calls the instance no more on that
 *	connection (conn_close and the destructors still run, once the hook
 *	has returned), and drops whatever the hook still queues.
 *	api->abandoned() (SDK 1.3) lets the hook find out.
 */
#ifndef MODMILTER_PLUGIN_H
#define MODMILTER_PLUGIN_H

#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>

#include <modmilter/store.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_SDK_MAJOR	1
#define MM_SDK_MINOR	3

/* The minor this plugin needs (see VERSIONS); define it before the
   #include to load in older cores. */
#ifndef MM_SDK_NEED
#define MM_SDK_NEED	MM_SDK_MINOR
#endif
#if MM_SDK_NEED > MM_SDK_MINOR
#error "MM_SDK_NEED is newer than these SDK headers"
#endif

/* The symbol modmilterd looks up in every plugin object. */
#define MM_PLUGIN_SYMBOL	"mm_plugin_descriptor"

/* ------------------------------------------------------------------ */
/* Basic types                                                         */
/* ------------------------------------------------------------------ */

typedef enum mm_verdict {
	MM_CONTINUE = 0,	/* no objection; go on */
	MM_ACCEPT = 1,		/* this plugin needs nothing more for this message */
	MM_REJECT = 2,		/* permanent failure (5xx) */
	MM_TEMPFAIL = 3,	/* temporary failure (4xx) */
	MM_DISCARD = 4,		/* accept, then silently drop the message */
	MM_SKIP = 5,		/* body hook: no more body for this plugin */
	MM_ERROR = 6		/* the plugin failed: apply the on_error policy */
} mm_verdict;

/* SMTP stages, used for macros and logging. */
typedef enum mm_stage {
	MM_STAGE_CONNECT = 0,
	MM_STAGE_HELO,
	MM_STAGE_ENVFROM,
	MM_STAGE_ENVRCPT,
	MM_STAGE_DATA,
	MM_STAGE_HEADER,
	MM_STAGE_EOH,
	MM_STAGE_BODY,
	MM_STAGE_EOM,
	MM_STAGE_ABORT,
	MM_STAGE_CLOSE,
	MM_STAGE_UNKNOWN,
	MM_STAGE_COUNT
} mm_stage;

/* Milter actions a plugin may use; declare them in mm_plugin.actions. */
#define MM_ACT_ADDHDRS		0x0001u	/* add/insert headers */
#define MM_ACT_CHGHDRS		0x0002u	/* change/delete headers */
#define MM_ACT_CHGBODY		0x0004u	/* replace the body */
#define MM_ACT_ADDRCPT		0x0008u	/* add recipients */
#define MM_ACT_DELRCPT		0x0010u	/* delete recipients */
#define MM_ACT_QUARANTINE	0x0020u	/* quarantine the message */
#define MM_ACT_CHGFROM		0x0040u	/* change the envelope sender */
#define MM_ACT_AUTHRES		0x0080u	/* contribute to Authentication-Results */

/* Plugin flags (mm_plugin.flags). */
#define MM_F_MESSAGE	0x0001u	/* the core must buffer headers and body for
				   mm_api.header_*()/body() at EOM */

/* Connection class of the SMTP client (doc/DESIGN.md, "networks"). */
typedef enum mm_client_class {
	MM_CLIENT_EXTERNAL = 0,
	MM_CLIENT_INTERNAL = 1,
	MM_CLIENT_TRUSTED_RELAY = 2
} mm_client_class;

/* Log levels (syslog order). */
typedef enum mm_log_level {
	MM_LOG_ERR = 3,
	MM_LOG_WARNING = 4,
	MM_LOG_NOTICE = 5,
	MM_LOG_INFO = 6,
	MM_LOG_DEBUG = 7
} mm_log_level;

/* Opaque handles owned by the core (the store's: modmilter/store.h). */
typedef struct mm_ctx mm_ctx;		/* instance + connection + message */
typedef struct mm_opt mm_opt;		/* one node of the options YAML */
typedef struct mm_metric mm_metric;	/* a counter or histogram of the plugin's */
struct mm_api;				/* the API table, below */

/* Options node types. */
typedef enum mm_opt_type {
	MM_OPT_NONE = 0,	/* absent */
	MM_OPT_SCALAR,
	MM_OPT_LIST,
	MM_OPT_MAP
} mm_opt_type;

/* A macro a plugin needs, at a stage (connect, helo, envfrom, envrcpt,
   data, eoh, eom); arrays of these end with { 0, NULL }. */
struct mm_macro_req {
	mm_stage stage;
	const char *name;	/* e.g. "{auth_authen}", "j" */
};

/* SDK 1.3: how a message ended, given to msg_end */
struct mm_rcpt_outcome {
	const char *addr;        /* as the MTA gave it, without <> */
	mm_verdict verdict;      /* MM_CONTINUE accepted; MM_REJECT / MM_TEMPFAIL refused at RCPT (by this chain) */
	const char *decided_by;  /* instance that refused it, or NULL */
};
struct mm_outcome {
	size_t size;             /* sizeof(struct mm_outcome) of the core */
	mm_verdict verdict;      /* merged verdict of the message: MM_ACCEPT (delivered, possibly changed), MM_REJECT, MM_TEMPFAIL, MM_DISCARD */
	int aborted;             /* 1: never completed (SMTP abort/RSET, connection dropped mid-message, no EOM); verdict is then MM_TEMPFAIL */
	mm_stage stage;          /* stage at which the verdict was decided */
	const char *decided_by;  /* instance whose verdict won, NULL when none objected / the core decided */
	const struct mm_rcpt_outcome *rcpts; size_t nrcpts;  /* every RCPT TO of the message */
	unsigned changed;        /* MM_ACT_* bits of modifications applied to the message (headers, body, rcpts, from) */
	int quarantined, discarded;
};
/* More on the outcome: stage is MM_STAGE_ABORT for an abort the MTA
   reported (libmilter also reports a connection cut mid-message so),
   MM_STAGE_CLOSE for a connection that ended without one. A verdict
   decided earlier stands when the MTA then ends the message without
   end of message (aborted stays 0). changed: MM_ACT_ADDHDRS for added
   or inserted headers (Authentication-Results and the monitor header
   included), MM_ACT_CHGHDRS, MM_ACT_CHGBODY, MM_ACT_ADDRCPT,
   MM_ACT_DELRCPT, MM_ACT_CHGFROM, MM_ACT_QUARANTINE, and
   MM_ACT_AUTHRES when clauses were added; 0 unless accepted. The
   outcome and its strings are valid during msg_end only. */

/* --- SDK 1.3: message parts (see mm_api.parts) --- */
typedef struct mm_parts mm_parts;	/* one parsed message, owned by the core */

/* What a part is. */
typedef enum mm_part_kind {
	MM_PART_LEAF = 0,	/* content: text, an attachment... */
	MM_PART_MULTIPART,	/* its children follow it */
	MM_PART_MESSAGE		/* message/rfc822 (global, news): the
				   embedded message's root follows it */
} mm_part_kind;

/* Content transfer encodings, declared or detected. */
typedef enum mm_cte {
	MM_CTE_NONE = 0,	/* not declared */
	MM_CTE_7BIT,
	MM_CTE_8BIT,
	MM_CTE_BINARY,
	MM_CTE_BASE64,
	MM_CTE_QP,
	MM_CTE_UUENCODE,
	MM_CTE_OTHER		/* declared, unknown ("x-foo"): read as is */
} mm_cte;

/* One header field of a part: the name as written, the value unfolded
   (line breaks and the blanks after them become one space), its
   encoded words not decoded (mm_api.header_decode does that). */
struct mm_part_field {
	const char *name, *value;
};

/* mm_api.parts_problems() bits */
#define MM_PARTS_MALFORMED	0x0001u	/* the structure is broken: missing
					   boundaries, conflicting fields,
					   invalid header names... */
#define MM_PARTS_TOO_DEEP	0x0002u	/* parts nested deeper than the reader
					   follows; the rest is one leaf */

/*
 * One part, in document order (a container before its children). All
 * strings are valid while the mm_parts is. Members are only ever added
 * at the end.
 */
struct mm_part {
	mm_part_kind kind;
	int parent;		/* index of the enclosing part; -1: the root */
	int depth;		/* embedded messages (MESSAGE parts) above it */
	const char *type;	/* media type, lower case ("text/plain");
				   with several Content-Type fields, the
				   last one's, as GMime reads it */
	const char *const *types;	/* with several Content-Type fields,
					   each one's media type in order
					   (readers differ: some take the
					   first); else none */
	size_t ntypes;
	const char *charset;	/* the charset parameter, or NULL */
	const char *disposition;	/* "attachment", "inline" (lower
					   case), or NULL */
	const char *filename;	/* UTF-8: Content-Disposition's filename,
				   else Content-Type's name; or NULL */
	const char *const *names;	/* every name and filename parameter
					   of every Content-Type and
					   Content-Disposition field, UTF-8 */
	size_t nnames;
	mm_cte encoding;	/* as declared */
	mm_cte detected;	/* leaves declared 7bit, 8bit, binary or not
				   at all: what the content is (7BIT, 8BIT
				   or BINARY: NULs or lines over 998
				   bytes); other leaves: as declared */
	size_t size;		/* bytes of encoded content */
	/* Where the part lies in the body as mm_api.body() gives it, in
	   bytes from its start; -1 when it is not there (the root's own
	   header is the message's; a part of an embedded message given
	   base64-encoded). start is the part's first header field, or its
	   content when it has none. */
	long start, content_start, content_end;
	/* Its header fields; the root of a message (the message itself,
	   or an embedded one) has all of the message's. */
	const struct mm_part_field *fields;
	size_t nfields;
};

/*
 * SDK 1.3: options by table. A plugin describes its options in an array
 * of struct mm_option ending with { NULL }; the core reads them into the
 * plugin's config struct (api->opt_table), checks the table and its
 * defaults when the plugin loads, and prints it (modmilterd --describe).
 * Each type fills a field of a given C type at offset:
 *
 *	MM_OT_STRING	char *		malloc'ed; NULL when absent without default
 *	MM_OT_BOOL	int		true/false, yes/no, on/off, 1/0
 *	MM_OT_INT	long long	within [min, max]
 *	MM_OT_NUMBER	double		within [min, max]
 *	MM_OT_DURATION	double		seconds ("250ms", "30s", "5m", "2h", "1d"),
 *					at least min, at most max (when not 0)
 *	MM_OT_SIZE	size_t		bytes ("512K", "64M", "1G"), within [min, max]
 *	MM_OT_ENUM	int		index of the word in words
 *	MM_OT_LIST	struct mm_strv	strings (one scalar is a list of one)
 *	MM_OT_DOMAINS	struct mm_strv	domains, as api->domain_normalize gives them
 *					(".example.com": its subdomains)
 *	MM_OT_ADDRESSES	struct mm_strv	addresses, as api->addr_normalize gives them
 *	MM_OT_NETWORKS	struct mm_strv	addresses or networks (192.0.2.0/24, 2001:db8::/32)
 *	MM_OT_HAND	(nothing)	read by the plugin with the opt_* calls
 *					(nested maps); listed for the documentation
 *
 * A name "map.key" is the key of a sub-map ("dns.timeout"). A default is
 * written as in the YAML file ("30s", "true", "a b c" for a list); NULL
 * means none: an absent (or null) key then leaves a scalar field as the
 * plugin set it before the call, so that "not given" can mean something
 * of its own (a string is NULL, a list empty). Lists and strings are the plugin's to keep until
 * api->opt_table_free.
 */
typedef enum mm_option_type {
	MM_OT_STRING = 1,
	MM_OT_BOOL,
	MM_OT_INT,
	MM_OT_NUMBER,
	MM_OT_DURATION,
	MM_OT_SIZE,
	MM_OT_ENUM,
	MM_OT_LIST,
	MM_OT_DOMAINS,
	MM_OT_ADDRESSES,
	MM_OT_NETWORKS,
	MM_OT_HAND
} mm_option_type;

struct mm_strv {
	char **v;		/* n strings, then NULL */
	size_t n;
};

struct mm_option {
	const char *name;	/* NULL ends the table */
	mm_option_type type;
	size_t offset;		/* offsetof(struct plugin_conf, field) */
	const char *def;	/* default as written in YAML, or NULL */
	double min, max;	/* INT, NUMBER, DURATION, SIZE */
	const char *const *words;	/* ENUM: NULL-terminated */
	const char *doc;	/* one line */
	const char *error;	/* NULL, or the message for a bad value */
};

/* MM_OPT_WORDS("a", "b"): the words of an MM_OT_ENUM entry */
#define MM_OPT_WORDS(...)	((const char *const []){ __VA_ARGS__, NULL })

/* ------------------------------------------------------------------ */
/* The descriptor                                                      */
/* ------------------------------------------------------------------ */

/*
 * Any hook may be NULL; the core then does not ask the MTA for that
 * stage on this plugin's behalf. Members are only ever added at the end.
 */
struct mm_plugin {
	unsigned sdk_major;		/* MM_SDK_MAJOR */
	unsigned sdk_minor;		/* the minor needed: MM_SDK_NEED */
	size_t size;			/* sizeof(struct mm_plugin) */
	const char *name;
	const char *version;
	const char *description;
	unsigned actions;		/* MM_ACT_* the plugin may use */
	unsigned flags;			/* MM_F_* */
	const struct mm_macro_req *macros;	/* NULL or { 0, NULL }-terminated */

	/* Instance life. init() reads options (which may be NULL when the
	   config gave none), returns 0 with *instance set, or -1 with *err
	   set to a malloc'ed message (or options errors recorded). */
	int (*init)(mm_ctx *ctx, const struct mm_api *api,
	    const mm_opt *options, void **instance, char **err);
	void (*fini)(void *instance);

	/* Per connection: after the chain selects this instance / at close. */
	mm_verdict (*conn_open)(mm_ctx *ctx, void *instance);
	void (*conn_close)(mm_ctx *ctx, void *instance);

	/* SMTP stages. argv arrays end with NULL; argv[0] is the address. */
	mm_verdict (*connect)(mm_ctx *ctx, void *instance, const char *host,
	    const struct sockaddr *addr);
	mm_verdict (*helo)(mm_ctx *ctx, void *instance, const char *helo);
	mm_verdict (*envfrom)(mm_ctx *ctx, void *instance, char *const *argv);
	mm_verdict (*envrcpt)(mm_ctx *ctx, void *instance, char *const *argv);
	mm_verdict (*data)(mm_ctx *ctx, void *instance);
	mm_verdict (*header)(mm_ctx *ctx, void *instance, const char *name,
	    const char *value);
	mm_verdict (*eoh)(mm_ctx *ctx, void *instance);
	mm_verdict (*body)(mm_ctx *ctx, void *instance,
	    const unsigned char *chunk, size_t len);
	mm_verdict (*eom)(mm_ctx *ctx, void *instance);
	void (*abort)(mm_ctx *ctx, void *instance);
	mm_verdict (*unknown)(mm_ctx *ctx, void *instance, const char *cmd);

	/* SDK 1.3: the message has ended and its verdict is final (see
	   "END OF A MESSAGE" above). */
	void (*msg_end)(mm_ctx *ctx, void *instance,
	    const struct mm_outcome *outcome);

	/* SDK 1.3: options by table (see struct mm_option); NULL: none */
	const struct mm_option *options;
};

#define MM_PLUGIN_EXPORT __attribute__((visibility("default")))

/* Define the descriptor: MM_PLUGIN(name, "version", "description", hooks...) */
#define MM_PLUGIN(pname, pversion, pdesc, ...)				\
	MM_PLUGIN_EXPORT const struct mm_plugin mm_plugin_descriptor = {	\
		.sdk_major = MM_SDK_MAJOR, .sdk_minor = MM_SDK_NEED,		\
		.size = sizeof(struct mm_plugin),				\
		.name = #pname, .version = pversion, .description = pdesc,	\
		__VA_ARGS__							\
	}

/* ------------------------------------------------------------------ */
/* The API table                                                       */
/* ------------------------------------------------------------------ */

/*
 * Function pointers only. The members stay in the order they were added
 * (the table is shared binary between plugin and core), so the jobs
 * below come back as later SDK minors extended them:
 *
 *   logging		log, vlog, instance_name
 *   options (init)	opt_*, narrow (1.1)
 *   plugin state	set_conn_data, conn_data, set_msg_data, msg_data
 *   connection facts	client_*, helo, auth_user, macro, queue_id
 *   message facts	mail_from, rcpt_*, fact_*
 *   the message	header_*, body, received_header_* (1.3)
 *   replies, actions	set_reply, add/insert/change_header, *_rcpt,
 *			change_from, replace_body, quarantine,
 *			auth_result, progress
 *   key-value store	store_open/get/put/del, free; batches, scans
 *			and expiry (1.2): see modmilter/store.h
 *   time		now
 *   metrics (1.3)	metric_*
 *   addresses (1.3)	addr_normalize, domain_normalize, domain_match
 *   hook state (1.3)	abandoned, set_result
 *   options by table (1.3)	opt_table, opt_table_free
 *   message parts (1.3)	parts, parts_parse, parts_free, parts_count,
 *			part_at, part_data, part_text, part_raw,
 *			parts_problems, header_decode
 *
 * Unless noted, functions that return int return 0 on success and -1
 * on failure.
 */
struct mm_api {
	size_t size;		/* sizeof(struct mm_api) of the running core */
	unsigned sdk_major, sdk_minor;	/* the version the core speaks */

	/* --- logging, tagged with queue id and instance name --- */
	void (*log)(mm_ctx *ctx, mm_log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	void (*vlog)(mm_ctx *ctx, mm_log_level level, const char *fmt, va_list ap);
	const char *(*instance_name)(mm_ctx *ctx);

	/* --- options (valid during init only) ---
	 * opt_get marks the key as known; keys a plugin never looks at are
	 * reported by the core as "unknown option" with file:line:col. */
	mm_opt_type (*opt_type)(const mm_opt *node);
	const mm_opt *(*opt_get)(const mm_opt *map, const char *key);
	size_t (*opt_len)(const mm_opt *node);	/* list items / map pairs */
	const mm_opt *(*opt_at)(const mm_opt *list, size_t i);
	const char *(*opt_key_at)(const mm_opt *map, size_t i,
	    const mm_opt **value);		/* marks the key known */
	const char *(*opt_scalar)(const mm_opt *node);
	/* Typed getters: absent key -> *out = def, return 0; present but of
	   the wrong type -> an error is recorded at the node, return -1. */
	int (*opt_str)(const mm_opt *map, const char *key, const char *def,
	    const char **out);
	int (*opt_int)(const mm_opt *map, const char *key, long long min,
	    long long max, long long def, long long *out);
	int (*opt_bool)(const mm_opt *map, const char *key, int def, int *out);
	int (*opt_duration)(const mm_opt *map, const char *key, double def,
	    double *seconds);		/* "30s", "5m", "2h", "1d", "250ms", 3 */
	/* Record a configuration error at a node; init should then fail. */
	void (*opt_error)(const mm_opt *node, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

	/* --- per-connection / per-message plugin state --- */
	void (*set_conn_data)(mm_ctx *ctx, void *data, void (*destroy)(void *));
	void *(*conn_data)(mm_ctx *ctx);
	void (*set_msg_data)(mm_ctx *ctx, void *data, void (*destroy)(void *));
	void *(*msg_data)(mm_ctx *ctx);

	/* --- connection facts --- */
	const char *(*client_addr)(mm_ctx *ctx);	/* "192.0.2.1", "2001:db8::1";
							   IPv4-mapped shown as IPv4 */
	const struct sockaddr *(*client_sockaddr)(mm_ctx *ctx);
	const char *(*client_host)(mm_ctx *ctx);	/* "[192.0.2.1]" when unknown */
	mm_client_class (*client_class)(mm_ctx *ctx);
	const char *(*helo)(mm_ctx *ctx);		/* NULL before HELO */
	const char *(*auth_user)(mm_ctx *ctx);		/* NULL: not authenticated */
	const char *(*macro)(mm_ctx *ctx, const char *name);
	const char *(*queue_id)(mm_ctx *ctx);		/* "NOQUEUE" before known */

	/* --- message facts --- */
	const char *(*mail_from)(mm_ctx *ctx);		/* without <>; "" null sender */
	size_t (*rcpt_count)(mm_ctx *ctx);		/* accepted recipients so far */
	const char *(*rcpt_at)(mm_ctx *ctx, size_t i);
	/* Facts plugins publish for each other, e.g. "spf.result". */
	int (*fact_set)(mm_ctx *ctx, const char *key, const char *value);
	const char *(*fact_get)(mm_ctx *ctx, const char *key);

	/* --- the message (plugins with MM_F_MESSAGE; complete at EOM) ---
	 * Headers are the working list: they include edits queued by plugins
	 * earlier in the chain (the list as received: received_header_at,
	 * SDK 1.3, at the end of the table). */
	size_t (*header_count)(mm_ctx *ctx);
	int (*header_at)(mm_ctx *ctx, size_t i, const char **name,
	    const char **value);
	const char *(*header_get)(mm_ctx *ctx, const char *name, size_t nth);
	/* The body as received (CRLF line ends), or as replaced by an earlier
	   plugin; in memory or mapped from the spill file. */
	int (*body)(mm_ctx *ctx, const unsigned char **data, size_t *len);

	/* --- replies and actions (queued, applied once at EOM) --- */
	int (*set_reply)(mm_ctx *ctx, const char *rcode, const char *xcode,
	    const char *text);
	int (*add_header)(mm_ctx *ctx, const char *name, const char *value);
	/* Insert at position idx (0 = top) of the working header list. */
	int (*insert_header)(mm_ctx *ctx, size_t idx, const char *name,
	    const char *value);
	/* Change the nth (1-based) header of that name; value NULL deletes. */
	int (*change_header)(mm_ctx *ctx, const char *name, size_t nth,
	    const char *value);
	int (*add_rcpt)(mm_ctx *ctx, const char *addr);
	int (*del_rcpt)(mm_ctx *ctx, const char *addr);
	int (*change_from)(mm_ctx *ctx, const char *addr, const char *args);
	int (*replace_body)(mm_ctx *ctx, const unsigned char *data, size_t len);
	int (*quarantine)(mm_ctx *ctx, const char *reason);
	/* One "method=result prop=value" clause of Authentication-Results. */
	int (*auth_result)(mm_ctx *ctx, const char *clause);
	/* Ask the MTA for more time during a long EOM. */
	int (*progress)(mm_ctx *ctx);

	/* --- key-value store (modmilter/store.h) --- */
	mm_store *(*store_open)(mm_ctx *ctx, const char *dbname, char **err);
	int (*store_get)(mm_store *st, const void *key, size_t klen,
	    void **val, size_t *vlen);	/* 1 found, 0 absent, -1 error */
	int (*store_put)(mm_store *st, const void *key, size_t klen,
	    const void *val, size_t vlen, double ttl_seconds);	/* ttl<=0: none */
	int (*store_del)(mm_store *st, const void *key, size_t klen);
	void (*free)(void *p);		/* what the store (and addr_*) malloc'ed */

	/* --- time --- */
	double (*now)(mm_ctx *ctx);	/* wall clock seconds */

	/* --- options, SDK 1.1 ---
	 * During init only: narrow what this instance uses to a subset of
	 * the descriptor's actions and flags (e.g. no MM_F_MESSAGE when its
	 * options need no message), so the core asks the MTA for less.
	 * -1 if called outside init or with bits the descriptor lacks. */
	int (*narrow)(mm_ctx *ctx, unsigned actions, unsigned flags);

	/* --- key-value store, SDK 1.2: batches, counters, scans, expiry
	 * (modmilter/store.h) --- */
	mm_store_batch *(*store_batch)(mm_store *st);
	int (*store_batch_get)(mm_store_batch *b, const void *key, size_t klen);
	int (*store_batch_put)(mm_store_batch *b, const void *key, size_t klen,
	    const void *val, size_t vlen, double ttl_seconds);
	int (*store_batch_del)(mm_store_batch *b, const void *key, size_t klen);
	int (*store_batch_add)(mm_store_batch *b, const void *key, size_t klen,
	    const int64_t *delta, size_t n, double ttl_seconds, int64_t ttl_limit);
	int (*store_batch_expect)(mm_store_batch *b, const void *key,
	    size_t klen, const void *val, size_t vlen);
	int (*store_batch_run)(mm_store_batch *b);	/* 1 done, 0 expectation
							   failed, -1 error */
	int (*store_result)(mm_store_batch *b, int op, const void **val,
	    size_t *vlen);
	void (*store_batch_free)(mm_store_batch *b);
	int64_t (*store_counter)(const void *val, size_t vlen, size_t i);
	int (*store_scan)(mm_store *st, const void *prefix, size_t plen,
	    int (*cb)(void *arg, const void *key, size_t klen, const void *val,
	    size_t vlen, double expires), void *arg);
	long (*store_expire)(mm_store *st);

	/* --- metrics, SDK 1.3 (the daemon's Prometheus endpoint) ---
	 * Register at init, with the init context: the series is named
	 * modmilter_<module>_<name>, carries the label instance="<name of
	 * the instance>" and, if label is not NULL, that one more label
	 * (e.g. "result"). name: [a-z0-9_], end counters in _total.
	 * Registering the same name again (the next generation, after a
	 * reload) returns the same metric, so values survive reloads.
	 * A label takes at most 64 distinct values; later ones count
	 * under "other". bounds (histograms): ascending upper bounds,
	 * at most 24. NULL on a bad name or arguments (logged).
	 * metric_add adds v (>= 0) to a counter; metric_observe records
	 * one observation in a histogram. Both are thread-safe and cheap
	 * (no allocation after a label value's first use). */
	mm_metric *(*metric_counter)(mm_ctx *ictx, const char *name,
	    const char *help, const char *label);
	mm_metric *(*metric_histogram)(mm_ctx *ictx, const char *name,
	    const char *help, const char *label, const double *bounds,
	    size_t nbounds);
	void (*metric_add)(mm_metric *m, const char *label_value, double v);
	void (*metric_observe)(mm_metric *m, const char *label_value, double v);

	/* --- envelope addresses and domains, SDK 1.3 ---
	 * Compare addresses and domains in these normal forms, never as
	 * the MTA hands them over: "<@relay:\"Alice\"@Corp.Example.>" and
	 * "Alice@corp.example" name the same mailbox.
	 *
	 * addr_normalize parses a MAIL FROM / RCPT TO address (brackets
	 * optional) and returns it malloc'ed (free with api->free) with the
	 * brackets and any source route dropped, the domain in lower case
	 * without a trailing dot, and a quoted local part unquoted when it
	 * is a dot-atom (else quoted one canonical way). The local part
	 * keeps its case. The null sender gives "", postmaster (any case)
	 * "postmaster"; in every other result the domain follows the last
	 * '@'. Malformed input gives NULL with *why (if why is not NULL)
	 * set to a static reason. Normalising a result again changes
	 * nothing.
	 *
	 * domain_normalize does the same for a domain, for instance one
	 * from the plugin's options; a leading "." (".example.com": its
	 * subdomains) is kept. domain_match says whether a domain is a
	 * pattern ("example.com") or one of its subdomains (".example.com"),
	 * case-insensitively and ignoring one trailing dot. */
	char *(*addr_normalize)(const char *addr, const char **why);
	char *(*domain_normalize)(const char *domain, const char **why);
	int (*domain_match)(const char *domain, const char *pattern);

	/* --- hook state, SDK 1.3 --- */
	/* 1 when the core gave up waiting for this instance's hook on this
	   connection (it ran past the instance's timeout; on_error answered
	   for it), else 0. From then on every action, fact, reply and
	   Authentication-Results clause the hook still tries is dropped:
	   a hook that does lasting work of its own (writes a file, updates
	   a store) should check this before it commits that work, and may
	   also check it from its connection and message data destructors. */
	int (*abandoned)(mm_ctx *ctx);

	/* The plugin's result for this message, as the daemon's one
	 * summary line per message shows it ("spf=pass",
	 * "dspam=Innocent/0.02"): a short word, at most 63 bytes, set from
	 * any hook of the message, msg_end included (the last call wins).
	 * Blanks and quotes become '_'. 0, or -1 outside a message or when
	 * abandoned. */
	int (*set_result)(mm_ctx *ctx, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

	/* --- the message, SDK 1.3: the headers as received ---
	 * The headers as the MTA sent them, before any change by a plugin
	 * (or the core's removal of forged Authentication-Results headers):
	 * in the order received, names and values exactly as given (a
	 * value keeps its folding). header_count/header_at show the working
	 * list instead. For the same plugins (MM_F_MESSAGE); complete from
	 * end of headers on. received_header_at: 0, or -1 past the end. */
	size_t (*received_header_count)(mm_ctx *ctx);
	int (*received_header_at)(mm_ctx *ctx, size_t i, const char **name,
	    const char **value);

	/* --- SDK 1.3: options by table ---
	 * opt_table reads every option of a table (struct mm_option, above)
	 * from an instance's options into the plugin's config struct conf:
	 * absent keys get the table's default; each bad value is recorded
	 * at its node as "FILE:LINE:COL: KEY ..." (all of them, not just
	 * the first) and -1 is returned. Keys it reads count as known.
	 * Entries of type MM_OT_HAND are left to the plugin. opt_table_free
	 * frees what opt_table stored (strings and lists) and zeroes it. */
	int (*opt_table)(const mm_opt *options, const struct mm_option *table,
	    void *conf);
	void (*opt_table_free)(const struct mm_option *table, void *conf);

	/* --- SDK 1.3: message parts ---
	 * The message parsed once, on the first call for it (no parser runs
	 * for plugins that never ask), and shared by every plugin of the
	 * chain: parts(ctx) at EOM (plugins with MM_F_MESSAGE) returns the
	 * message as this plugin sees it: the working header list and the
	 * body, as an earlier plugin may have replaced them (the parse is
	 * then made again). NULL outside a message (an instance without
	 * MM_F_MESSAGE gets what the core buffered for the others).
	 * A message that is neither multipart nor message/... by any of its
	 * Content-Type fields is one leaf, read without running GMime.
	 *
	 * parts_parse() reads a standalone message (header, blank line,
	 * body; a leading mbox "From " line is skipped) the same way, in
	 * any thread, outside a message too; free it with parts_free().
	 * Offsets (mm_part.start...) then count from its body.
	 *
	 * part_data() gives a leaf's content, its transfer encoding undone
	 * (bad base64 characters are skipped; part_raw() gives it as it is); part_text() gives a text/
	 * leaf's (or a leaf without a type) decoded content converted to
	 * UTF-8 from its charset. A missing, unknown or lying charset falls
	 * back to UTF-8 where the bytes are valid UTF-8, else to
	 * Windows-1252; the result is always valid UTF-8. Both are made on
	 * first call and kept with the parse: 0, or -1 for a part that is
	 * not a leaf (or not text). The parse and what these return stay
	 * valid until the end of the message (parts_parse: until
	 * parts_free).
	 *
	 * header_decode() returns a field value with its RFC 2047 encoded
	 * words decoded, as UTF-8, malloc'ed (free with api->free). */
	mm_parts *(*parts)(mm_ctx *ctx);
	mm_parts *(*parts_parse)(const unsigned char *msg, size_t len);
	void (*parts_free)(mm_parts *p);
	size_t (*parts_count)(const mm_parts *p);
	const struct mm_part *(*part_at)(const mm_parts *p, size_t i);
	int (*part_data)(mm_parts *p, size_t i, const unsigned char **data,
	    size_t *len);
	int (*part_text)(mm_parts *p, size_t i, const char **text, size_t *len);
	/* A leaf's content as the message has it, encoded (no copy). */
	int (*part_raw)(mm_parts *p, size_t i, const unsigned char **data,
	    size_t *len);
	/* MM_PARTS_* bits; *why (may be NULL) is the first problem found,
	   e.g. "multipart whose boundary never appears (offset 120)" */
	unsigned (*parts_problems)(const mm_parts *p, const char **why);
	char *(*header_decode)(const char *value);
};

/* Is member m present in the running core's API table? */
#define MM_API_HAS(api, m) \
	((api)->size >= offsetof(struct mm_api, m) + sizeof((api)->m))

#ifdef __cplusplus
}
#endif

#endif /* MODMILTER_PLUGIN_H */
