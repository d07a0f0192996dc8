/*
 * NAME
 *	opttab.h - a plugin's options read through its table
 * SYNOPSIS
 *	#include "opttab.h"
 * DESCRIPTION
 *	See opttab.c (reading) and describe.c (printing).
 */
#ifndef MM_OPTTAB_H
#define MM_OPTTAB_H

#include <stdio.h>
#include <modmilter/plugin.h>

/* The descriptor's table, or NULL (none, or a descriptor before 1.3). */
const struct mm_option *opttab_of(const struct mm_plugin *p);
int opttab_check(const struct mm_option *tab, char *err, size_t errlen);
int opttab_read(const mm_opt *opts, const struct mm_option *tab, void *conf);
void opttab_free(const struct mm_option *tab, void *conf);
void opttab_fmt_duration(double seconds, char *buf, size_t n);
void opttab_fmt_size(double bytes, char *buf, size_t n);

/* modmilterd --describe: the plugin and its table, as text or Markdown */
void opttab_describe(FILE *fp, const struct mm_plugin *p, int markdown);

#endif
