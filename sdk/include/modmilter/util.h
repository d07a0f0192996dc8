/*
 * NAME
 *	modmilter/util.h - the plugin helper library, all of it
 * SYNOPSIS
 *	#include <modmilter/util.h>
 *
 *	cc -fPIC ... $(pkg-config --cflags --libs modmilter-util)
 * DESCRIPTION
 *	libmodmilter-util is a small static library (built as
 *	position-independent code, so it links into a plugin's shared
 *	object) of the helpers plugins, tools and the daemon share. It
 *	depends on nothing but libc and never calls the daemon:
 *
 *	modmilter/alloc.h	allocation that aborts on exhaustion
 *	modmilter/strbuf.h	growable byte strings (struct mm_buf)
 *	modmilter/cidr.h	IPv4/IPv6 addresses and networks
 *	modmilter/addr.h	envelope addresses and domains, normalised
 *	modmilter/durable.h	files written whole or not at all
 *	modmilter/msgwrite.h	a message written back as fields and body
 *	modmilter/clock.h	the monotonic and wall clocks in seconds
 *
 *	Each header stands alone; this one includes them all. Every name
 *	starts with mm_ (MM_ for macros).
 */
#ifndef MODMILTER_UTIL_H
#define MODMILTER_UTIL_H

#include <modmilter/alloc.h>
#include <modmilter/strbuf.h>
#include <modmilter/cidr.h>
#include <modmilter/addr.h>
#include <modmilter/durable.h>
#include <modmilter/msgwrite.h>
#include <modmilter/clock.h>

#endif /* MODMILTER_UTIL_H */
