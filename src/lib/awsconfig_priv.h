/*
 * awsconfig_priv.h - the AWS shared config/credentials INI parser, shared by
 * awsconfig.c, creds.c, the unit tests and the profile-parser fuzz target.
 */
#ifndef ECSREV_AWSCONFIG_PRIV_H
#define ECSREV_AWSCONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <ecsrev/buf.h>
#include <ecsrev/creds.h>
#include <ecsrev/error.h>

/**
 * Called once per `key = value` entry, in file order. @p section is the raw
 * section name with surrounding blanks removed ("profile dev", "default"),
 * @p key is lower-cased, @p value is trimmed (continuation lines joined with
 * '\n'; empty for a key that opens a nested sub-section such as `s3 =`, whose
 * indented entries are not reported). All borrowed for the call.
 * @return 0 to go on, a negative code (with @p err set) to stop the parse.
 */
typedef int (*ecsrev_awsconfig__entry_fn)(const char *section, const char *key, const char *value,
                                          size_t line, void *payload, struct ecsrev_error *err);

/**
 * Parse the INI text @p data (not necessarily NUL-terminated) as the AWS CLI
 * does (configparser): `[section]` headers, `key = value` or `key: value`,
 * comment lines starting with '#' or ';', indented continuation lines, CRLF
 * accepted. No inline comments (as in the CLI, `a = b # c` has the value "b # c").
 * @param fname  file name used in error messages ("<fname>:<line>: ...")
 * @return 0, ECSREV_EPARSE for a malformed line, an entry outside any section, a
 *         NUL byte or input over ECSREV_AWS_CONFIG_MAX_FILE; or what @p fn returned.
 */
ECSREV_MUST_CHECK int ecsrev_awsconfig__parse(const char *data, size_t len, const char *fname,
                                              ecsrev_awsconfig__entry_fn fn, void *payload,
                                              struct ecsrev_error *err);

/**
 * Read a whole file into @p out (initialized by the caller, its max is the limit).
 * @return 0; ECSREV_ENOTFOUND if it does not exist; ECSREV_EIO if it cannot be read;
 *         ECSREV_EPARSE if it is larger than out->max (or the limit given).
 */
ECSREV_MUST_CHECK int ecsrev_awsconfig__read_file(struct ecsrev_buf *out, const char *path,
                                                  struct ecsrev_error *err);

/**
 * Copy @p s into @p out (at most @p size - 1 bytes, "..." marks a cut) with every
 * control byte (< 0x20, 0x7f) replaced by '?', so a value read from a file or the
 * environment can be quoted in a one-line error message.
 */
void ecsrev_awsconfig__printable(char *out, size_t size, const char *s);

/** Is the environment variable @p name "true" (any case), as the AWS SDKs read flags? */
bool ecsrev_awsconfig__env_true(ecsrev_getenv_fn getenv_fn, void *env_payload, const char *name);

#endif
