/*
 * cli.h - shared pieces of the ecsrev command-line front end.
 *
 * Every command is `int cmd_<name>(int argc, char **argv)` (argv[0] is the
 * command name) returning the exit status: 0 ok / no differences, 1
 * differences or findings, 2 trouble. Commands use the library's public API,
 * parse options with cli_parse() and print through the out_* functions, which
 * check write errors (a failed write to stdout exits 2).
 */
#ifndef ECSREV_CLI_H
#define ECSREV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ecsrev/canon.h>
#include <ecsrev/error.h>
#include <ecsrev/store.h>

#define EXIT_OK 0
#define EXIT_DIFF 1
#define EXIT_TROUBLE 2

/* ---- commands ---- */
int cmd_import(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_canon(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* ---- option parsing (opt.c) ---- */

enum cli_opt_kind {
    CLI_FLAG,   /**< bool *target set true */
    CLI_STRING, /**< const char **target = value (last one wins) */
    CLI_LIST,   /**< struct cli_list *target, repeatable; commas split values */
    CLI_INT,    /**< long *target, must be a decimal integer in [min,max] */
    CLI_COUNT,  /**< int *target incremented (-v -v) */
};

/** A repeatable option's values (borrowed from argv or owned copies). */
struct cli_list {
    char **items;
    size_t n;
};
void cli_list_dispose(struct cli_list *l);
bool cli_list_has(const struct cli_list *l, const char *s);

/** One option of a command. End a table with an entry whose long_name is NULL. */
struct cli_opt {
    const char *long_name; /**< without "--" */
    char short_name;       /**< 0 if none */
    enum cli_opt_kind kind;
    void *target;
    const char *metavar; /**< "FILE"; NULL for flags */
    const char *help;
    long min, max; /**< CLI_INT bounds */
};

/** A command's usage, for --help and errors. */
struct cli_cmd_help {
    const char *name;     /**< "diff" */
    const char *synopsis; /**< "[options] A B" */
    const char *summary;  /**< one line */
    const char *details;  /**< paragraphs printed after the options, or NULL */
};

/**
 * Parse argv (argv[0] = command name) against @p opts. Options and operands
 * may mix; "--" ends options; "--opt=value" and "--opt value" both work; "-"
 * is an operand. "--help"/"-h" prints help to stdout and sets *exit_now = 0.
 * On a usage error prints `ecsrev: ...` and the --help hint and sets
 * *exit_now = 2.
 * @param operands set to the operands (a borrowed array; owned container,
 *        free() it)
 * @return 0 to go on, -1 to exit with *exit_now
 */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, const struct cli_cmd_help *help,
              char ***operands, size_t *n_operands, int *exit_now);

/** Print a usage error for @p cmd and return EXIT_TROUBLE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) ECSREV_PRINTF(2, 3);

/* ---- messages and output (out.c) ---- */

/** "ecsrev: <msg>" on stderr. */
void cli_error(const char *fmt, ...) ECSREV_PRINTF(1, 2);
/** "ecsrev: warning: <msg>" on stderr. */
void cli_warn(const char *fmt, ...) ECSREV_PRINTF(1, 2);
/** Print err->msg as "ecsrev: <msg>" and return EXIT_TROUBLE. */
int cli_fail(const struct ecsrev_error *err);

/** Write to stdout; on a write error prints one line and exits 2. */
void out_write(const void *data, size_t len);
void out_puts(const char *s);
void out_printf(const char *fmt, ...) ECSREV_PRINTF(1, 2);
/** Flush stdout; exits 2 on error. Called by main before exit. */
void out_flush(void);

/** Whether stderr is a terminal (for progress lines). */
bool cli_stderr_is_tty(void);

/**
 * Decide colour for stdout from --color=auto|always|never (NULL = auto):
 * auto means stdout is a tty, NO_COLOR unset or empty, TERM not "dumb".
 * @return 0 with *out set, or EXIT_TROUBLE after a usage error for a bad value
 */
int cli_color(bool *out, const char *cmd, const char *mode);

/** ANSI colour helpers; return "" when colour is off. */
const char *cli_c_red(bool on);
const char *cli_c_green(bool on);
const char *cli_c_yellow(bool on);
const char *cli_c_bold(bool on);
const char *cli_c_dim(bool on);
const char *cli_c_reset(bool on);

/* ---- common helpers (common.c) ---- */

/**
 * The store directory: @p opt (--store), else ECSREV_STORE, else
 * $XDG_DATA_HOME/ecsrev, else ~/.local/share/ecsrev. Owned string.
 * @return NULL after printing an error when HOME is unset too
 */
char *cli_store_dir(const char *opt);

/**
 * Open the store for a command; prints the error.
 * @param readonly open read-only (fails if the store does not exist yet)
 * @return 0 or EXIT_TROUBLE
 */
int cli_open_store(struct ecsrev_store **out, const char *opt, bool readonly);

/**
 * Read a whole file (or stdin for "-") up to @p max bytes.
 * @param out owned buffer
 * @return 0 or a negative ECSREV_E* with err set ("cannot read 'x': ...",
 *         "'x' is larger than N bytes")
 */
int cli_read_file(struct ecsrev_buf *out, const char *path, size_t max, struct ecsrev_error *err);

/** Maximum size of one input file (import, diff files, rules): 256 MiB. */
#define CLI_MAX_INPUT ((size_t)256 * 1024 * 1024)

/**
 * Parse a date for --since/--until: ISO 8601 ("2026-11-01",
 * "2026-11-01T10:00:00Z", with offset), epoch seconds, or relative to @p now_ms
 * ("7d", "12h", "30m", "2w").
 * @return 0 or ECSREV_EINVAL
 */
int cli_parse_date(int64_t *out, const char *text, int64_t now_ms, struct ecsrev_error *err);

/** Wall-clock now in ms since the epoch. */
int64_t cli_now_ms(void);

/** The revision id (last ARN segment) of @p arn. Borrowed pointer into arn. */
const char *cli_rev_id(const char *arn);

/** Short form of an ARN's resource: "cluster/service" of a service ARN. Borrowed. */
const char *cli_arn_resource(const char *arn);

/**
 * Resolve a --service (+ --cluster) option to a stored service ARN; prints
 * the error.
 * @param out owned string
 * @return 0 or EXIT_TROUBLE
 */
int cli_resolve_service(char **out, struct ecsrev_store *store, const char *service,
                        const char *cluster);

/**
 * Load a revision for diff and similar: @p ref is a stored revision (full ARN
 * or unambiguous id) or, if no such revision is stored and a file by that name
 * exists (or ref is "-"), a JSON file holding one revision (normalized without
 * requiring identity). @p store may be NULL (files only).
 * @return 0 or a negative code with err set
 */
int cli_load_revision(struct ecsrev_revision *out, struct ecsrev_store *store, const char *ref,
                      struct ecsrev_error *err);

#endif
