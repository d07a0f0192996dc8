/*
 * NAME
 *	sniff - what a part's first bytes say it is
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	enum mime_kind k = mime_sniff(head, len);
 * DESCRIPTION
 *	A small table of signatures, not libmagic: the question is only
 *	"is this an executable, a script or an archive", which a dozen
 *	magic numbers answer exactly, without a 7 MB database to load
 *	per thread (a libmagic handle may not be shared between threads)
 *	and without libmagic's text heuristics, which would need the
 *	whole part. Executables: MZ (with a PE header, or a binary DOS
 *	header), ELF, Mach-O (thin and fat; a Java class file, which
 *	shares the fat magic, is told apart by its version field),
 *	"#!" scripts and "@echo off" batch files, Windows shell links,
 *	compiled HTML help. Archives: everything archive.c opens.
 *
 *	mime_kind_name() is the name used in options ("exe", "zip");
 *	mime_ext_is_archive() tells whether a file name extension
 *	promises an archive, so that a part named .zip that is no zip
 *	is examined (and found corrupt) rather than waved through.
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>
#include <strings.h>

#include "mime.h"

struct sig {
	enum mime_kind kind;
	size_t off;
	const char *magic;
	size_t len;
};

static const struct sig sigs[] = {
	{ MIME_KIND_ELF, 0, "\x7f" "ELF", 4 },
	{ MIME_KIND_MACHO, 0, "\xfe\xed\xfa\xce", 4 },
	{ MIME_KIND_MACHO, 0, "\xfe\xed\xfa\xcf", 4 },
	{ MIME_KIND_MACHO, 0, "\xce\xfa\xed\xfe", 4 },
	{ MIME_KIND_MACHO, 0, "\xcf\xfa\xed\xfe", 4 },
	{ MIME_KIND_LNK, 0, "\x4c\x00\x00\x00\x01\x14\x02\x00", 8 },
	{ MIME_KIND_CHM, 0, "ITSF\x03\x00\x00\x00", 8 },
	{ MIME_KIND_ZIP, 0, "PK\x03\x04", 4 },
	{ MIME_KIND_ZIP, 0, "PK\x05\x06", 4 },
	{ MIME_KIND_ZIP, 0, "PK\x07\x08", 4 },
	{ MIME_KIND_7Z, 0, "7z\xbc\xaf\x27\x1c", 6 },
	{ MIME_KIND_RAR, 0, "Rar!\x1a\x07", 6 },
	{ MIME_KIND_GZIP, 0, "\x1f\x8b\x08", 3 },
	{ MIME_KIND_XZ, 0, "\xfd" "7zXZ\x00", 6 },
	{ MIME_KIND_ZSTD, 0, "\x28\xb5\x2f\xfd", 4 },
	{ MIME_KIND_CAB, 0, "MSCF\x00\x00\x00\x00", 8 },
	{ MIME_KIND_TAR, 257, "ustar", 5 },
	{ MIME_KIND_ISO, 0x8001, "CD001", 5 },
	{ MIME_KIND_ISO, 0x8801, "CD001", 5 },
	{ MIME_KIND_ISO, 0x9001, "CD001", 5 },
};

static const struct {
	const char *name, *description;
} kinds[MIME_KIND_COUNT] = {
	[MIME_KIND_NONE] = { "none", "data" },
	[MIME_KIND_EXE] = { "exe", "Windows executable" },
	[MIME_KIND_ELF] = { "elf", "ELF executable" },
	[MIME_KIND_MACHO] = { "macho", "Mach-O executable" },
	[MIME_KIND_SCRIPT] = { "script", "script" },
	[MIME_KIND_LNK] = { "lnk", "Windows shortcut" },
	[MIME_KIND_CHM] = { "chm", "compiled HTML help" },
	[MIME_KIND_ZIP] = { "zip", "zip archive" },
	[MIME_KIND_7Z] = { "7z", "7-Zip archive" },
	[MIME_KIND_RAR] = { "rar", "RAR archive" },
	[MIME_KIND_GZIP] = { "gzip", "gzip data" },
	[MIME_KIND_BZIP2] = { "bzip2", "bzip2 data" },
	[MIME_KIND_XZ] = { "xz", "xz data" },
	[MIME_KIND_ZSTD] = { "zstd", "zstd data" },
	[MIME_KIND_TAR] = { "tar", "tar archive" },
	[MIME_KIND_ISO] = { "iso", "ISO 9660 image" },
	[MIME_KIND_CAB] = { "cab", "cabinet archive" },
};

static const char *const archive_exts[] = {
	"zip", "7z", "rar", "tar", "gz", "tgz", "bz2", "tbz", "tbz2", "xz",
	"txz", "zst", "tzst", "lz", "lzma", "tlz", "z", "iso", "img", "cab",
	"lzh", "lha", "ace", "arj", "cpio", "r00", "r01",
};

static unsigned long
le32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 |
	    (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

static unsigned long
be32(const unsigned char *p)
{
	return (unsigned long)p[3] | (unsigned long)p[2] << 8 |
	    (unsigned long)p[1] << 16 | (unsigned long)p[0] << 24;
}

/* "MZ": a PE image, or a DOS header (binary), not text that starts with MZ */
static int
is_mz(const unsigned char *p, size_t len)
{
	size_t hdr = len < 0x40 ? len : 0x40;

	if (len < 2 || p[0] != 'M' || p[1] != 'Z')
		return 0;
	if (len >= 0x40) {
		unsigned long off = le32(p + 0x3c);
		if (off + 4 <= len && memcmp(p + off, "PE\0\0", 4) == 0)
			return 1;
	}
	for (size_t i = 2; i < hdr; i++)
		if (p[i] < 0x09 || (p[i] > 0x0d && p[i] < 0x20))
			return 1;
	return 0;
}

/* 0xCAFEBABE: a fat Mach-O (a handful of architectures) or Java class
   (major version 45 and up in the same place) */
static int
is_fat_macho(const unsigned char *p, size_t len)
{
	if (len < 8 || (be32(p) != 0xcafebabeUL && be32(p) != 0xcafebabfUL))
		return 0;
	return be32(p + 4) > 0 && be32(p + 4) < 30;
}

static int
is_script(const unsigned char *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;		/* UTF-8 byte order mark */
	if (len - i >= 3 && p[i] == '#' && p[i + 1] == '!') {
		for (i += 2; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		return i < len && p[i] == '/';
	}
	return len - i >= 9 && strncasecmp((const char *)p + i, "@echo off", 9) == 0;
}

enum mime_kind
mime_sniff(const unsigned char *p, size_t len)
{
	if (p == NULL || len == 0)
		return MIME_KIND_NONE;
	if (is_mz(p, len))
		return MIME_KIND_EXE;
	if (is_fat_macho(p, len))
		return MIME_KIND_MACHO;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigs[i].off + sigs[i].len <= len &&
		    memcmp(p + sigs[i].off, sigs[i].magic, sigs[i].len) == 0)
			return sigs[i].kind;
	if (len >= 4 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9')
		return MIME_KIND_BZIP2;
	if (is_script(p, len))
		return MIME_KIND_SCRIPT;
	return MIME_KIND_NONE;
}

const char *
mime_kind_name(enum mime_kind k)
{
	return k < MIME_KIND_COUNT ? kinds[k].name : "none";
}

const char *
mime_kind_description(enum mime_kind k)
{
	return k < MIME_KIND_COUNT ? kinds[k].description : "data";
}

enum mime_kind
mime_kind_by_name(const char *name)
{
	for (int k = 1; k < MIME_KIND_COUNT; k++)
		if (strcasecmp(name, kinds[k].name) == 0)
			return (enum mime_kind)k;
	return MIME_KIND_NONE;
}

int
mime_kind_is_archive(enum mime_kind k)
{
	return k >= MIME_KIND_ZIP && k < MIME_KIND_COUNT;
}

int
mime_ext_is_archive(const char *ext)
{
	for (size_t i = 0; i < sizeof(archive_exts) / sizeof(archive_exts[0]); i++)
		if (strcmp(ext, archive_exts[i]) == 0)
			return 1;
	return 0;
}
