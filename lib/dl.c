/* The tables of the libraries loaded on first use (dynlib.h): the soname
 * given to dlopen(), the Debian package that ships it (tests/deps.sh
 * RUN_PKGS) and what needs it, for the error when it cannot be loaded. */
#define DYNLIB_IMPL

#include <errno.h>

#include "dl_archive.h"
#include "dl_crypto.h"
#include "dl_nftables.h"
#include "dl_systemd.h"

DYNLIB_DEFINE(archive, "libarchive.so.13", "libarchive13", "reading and writing images and backups",
              DL_ARCHIVE_SYMS)
DYNLIB_DEFINE(crypto, "libcrypto.so.3", "libssl3", "SHA-256 digests", DL_CRYPTO_SYMS)
DYNLIB_DEFINE(nftables, "libnftables.so.1", "libnftables1", "NAT and published ports", DL_NFTABLES_SYMS)
DYNLIB_DEFINE(systemd, "libsystemd.so.0", "libsystemd0", "systemd scopes and reading the journal",
              DL_SYSTEMD_SYMS)
