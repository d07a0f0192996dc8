/*
 * NAME
 *	mkfixture - write the archives the mime tests attach (libarchive)
 * SYNOPSIS
 *	mkfixture FORMAT OUT NAME=CONTENT...
 * DESCRIPTION
 *	FORMAT: zip, zipcrypt (traditional PKWARE encryption, passphrase
 *	"secret"), 7z, tar, tgz (tar + gzip), iso (ISO 9660), gz (one
 *	gzip-compressed file, NAME ignored). CONTENT: exe (a PE header),
 *	elf, script (#!/bin/sh), text:WORDS, zero:BYTES, file:PATH.
 *	Fixtures are generated at test time; no binary is kept in the
 *	source tree.
 * DIAGNOSTICS
 *	Exit 1 with a message on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

static void
die(const char *what, struct archive *a)
{
	fprintf(stderr, "mkfixture: %s: %s\n", what, a ? archive_error_string(a) : "");
	exit(1);
}

static unsigned char *
content(const char *spec, size_t *len)
{
	unsigned char *p;

	if (strcmp(spec, "exe") == 0) {
		*len = 512;
		p = calloc(1, *len);
		p[0] = 'M';
		p[1] = 'Z';
		p[0x3c] = 0x80;
		memcpy(p + 0x80, "PE\0\0", 4);
		return p;
	}
	if (strcmp(spec, "elf") == 0) {
		*len = 128;
		p = calloc(1, *len);
		memcpy(p, "\x7f" "ELF\x02\x01\x01", 7);
		return p;
	}
	if (strcmp(spec, "script") == 0) {
		p = (unsigned char *)strdup("#!/bin/sh\necho hello\n");
		*len = strlen((char *)p);
		return p;
	}
	if (strncmp(spec, "text:", 5) == 0) {
		p = (unsigned char *)strdup(spec + 5);
		*len = strlen((char *)p);
		return p;
	}
	if (strncmp(spec, "zero:", 5) == 0) {
		*len = strtoul(spec + 5, NULL, 10);
		return calloc(1, *len ? *len : 1);
	}
	if (strncmp(spec, "file:", 5) == 0) {
		FILE *fp = fopen(spec + 5, "rb");
		size_t cap = 65536, n = 0, r;
		if (fp == NULL)
			die(spec, NULL);
		p = malloc(cap);
		while ((r = fread(p + n, 1, cap - n, fp)) > 0) {
			n += r;
			if (n == cap)
				p = realloc(p, cap *= 2);
		}
		fclose(fp);
		*len = n;
		return p;
	}
	fprintf(stderr, "mkfixture: unknown content %s\n", spec);
	exit(1);
}

int
main(int argc, char **argv)
{
	struct archive *a;
	const char *fmt;

	if (argc < 4) {
		fprintf(stderr, "usage: mkfixture FORMAT OUT NAME=CONTENT...\n");
		return 1;
	}
	fmt = argv[1];
	a = archive_write_new();
	if (strcmp(fmt, "zip") == 0 || strcmp(fmt, "zipcrypt") == 0) {
		archive_write_set_format_zip(a);
		if (strcmp(fmt, "zipcrypt") == 0 &&
		    (archive_write_set_options(a, "zip:encryption=zipcrypt") != ARCHIVE_OK ||
		    archive_write_set_passphrase(a, "secret") != ARCHIVE_OK))
			die("encryption", a);
	} else if (strcmp(fmt, "7z") == 0)
		archive_write_set_format_7zip(a);
	else if (strcmp(fmt, "tar") == 0)
		archive_write_set_format_pax_restricted(a);
	else if (strcmp(fmt, "tgz") == 0) {
		archive_write_set_format_pax_restricted(a);
		archive_write_add_filter_gzip(a);
	} else if (strcmp(fmt, "iso") == 0)
		archive_write_set_format_iso9660(a);
	else if (strcmp(fmt, "gz") == 0) {
		archive_write_set_format_raw(a);
		archive_write_add_filter_gzip(a);
	} else {
		fprintf(stderr, "mkfixture: unknown format %s\n", fmt);
		return 1;
	}
	if (archive_write_open_filename(a, argv[2]) != ARCHIVE_OK)
		die(argv[2], a);
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		struct archive_entry *e = archive_entry_new();
		unsigned char *data;
		size_t len;

		if (eq == NULL)
			die("NAME=CONTENT expected", NULL);
		*eq = 0;
		data = content(eq + 1, &len);
		archive_entry_set_pathname_utf8(e, argv[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		archive_entry_set_mtime(e, 1700000000, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			die("header", a);
		if (len && archive_write_data(a, data, len) != (la_ssize_t)len)
			die("data", a);
		archive_entry_free(e);
		free(data);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die("close", a);
	archive_write_free(a);
	return 0;
}
