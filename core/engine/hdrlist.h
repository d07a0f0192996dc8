/*
 * NAME
 *	hdrlist - the working header list and its minimal diff
 * SYNOPSIS
 *	#include "hdrlist.h"
 *
 *	hdrlist_received(&h, name, value);	(as headers arrive)
 *	hdrlist_add / hdrlist_insert / hdrlist_change(...)	(plugin edits)
 *	n = hdrlist_diff(&h, &ops);		(at end of message)
 * DESCRIPTION
 *	Plugins edit one list, so a later plugin sees what an earlier one
 *	did. At end of message the list is compared with the headers as
 *	received and turned into the fewest milter operations: a change or
 *	delete per altered original (in descending index order per name,
 *	so that no operation moves the index of a later one), an insert per
 *	new header that is not at the end, an add per trailing new header.
 *	Strings a change or delete replaces stay allocated until
 *	hdrlist_reset(), so a pointer a plugin obtained stays valid for the
 *	whole message.
 */
#ifndef MM_HDRLIST_H
#define MM_HDRLIST_H

#include <stddef.h>

struct hdr {
	char *name;
	char *value;
	int orig;		/* index in the received list, -1 if new */
	int appended;		/* added with hdrlist_add */
	size_t at;		/* blind list: the position asked for */
};

struct hdrlist {
	struct hdr *h;		/* working list */
	size_t n, cap;
	struct hdr *orig;	/* as received */
	size_t norig, capo;
	int blind;		/* the received headers are not kept: inserts
				   keep the position they asked for */
	char **dead;		/* replaced strings: valid until reset */
	size_t ndead;
};

enum hdrop_kind { HDROP_CHANGE, HDROP_DELETE, HDROP_INSERT, HDROP_ADD };

struct hdrop {
	enum hdrop_kind kind;
	const char *name;
	const char *value;	/* NULL for delete */
	size_t index;		/* change/delete: 1-based among same-name headers;
				   insert: 0-based position */
};

void hdrlist_received(struct hdrlist *l, const char *name, const char *value);
void hdrlist_add(struct hdrlist *l, const char *name, const char *value);
void hdrlist_insert(struct hdrlist *l, size_t idx, const char *name,
    const char *value);
/* nth is 1-based among headers named name; value NULL deletes. -1 if absent. */
int hdrlist_change(struct hdrlist *l, const char *name, size_t nth,
    const char *value);
const char *hdrlist_get(const struct hdrlist *l, const char *name, size_t nth);
size_t hdrlist_diff(const struct hdrlist *l, struct hdrop **ops);
void hdrlist_reset(struct hdrlist *l);

#endif
