/*
 * opt.c - the option parser every command uses: one table per command that
 * both parses argv and prints --help, so the two never disagree.
 *
 * Options and operands may mix (like git); "--" ends options; long options
 * take their value as "--opt=v" or "--opt v"; short options as "-o v".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_list_dispose(struct cli_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

bool cli_list_has(const struct cli_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return true;
        }
    }
    return false;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)fprintf(stderr, "ecsrev: %s\necsrev: try 'ecsrev %s --help'\n", msg, cmd);
    return EXIT_TROUBLE;
}

static void print_help(const struct cli_opt *opts, const struct cli_cmd_help *h)
{
    out_printf("usage: ecsrev %s %s\n\n%s\n", h->name, h->synopsis, h->summary);
    if (opts[0].long_name != NULL) {
        out_puts("\noptions:\n");
    }
    for (const struct cli_opt *o = opts; o->long_name != NULL; o++) {
        char left[64];
        if (o->short_name != 0) {
            (void)snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
                           o->metavar != NULL ? " " : "", o->metavar != NULL ? o->metavar : "");
        } else {
            (void)snprintf(left, sizeof(left), "    --%s%s%s", o->long_name,
                           o->metavar != NULL ? " " : "", o->metavar != NULL ? o->metavar : "");
        }
        out_printf("  %-28s %s\n", left, o->help);
    }
    out_printf("  %-28s %s\n", "-h, --help", "show this help and exit");
    if (h->details != NULL) {
        out_printf("\n%s\n", h->details);
    }
}

/* Append the non-empty comma-separated items of value (split in place) to l. */
static void append_list(struct cli_list *l, char *value)
{
    char *s = value;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        if (*s != '\0') {
            l->items = ecsrev_xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
            l->items[l->n++] = s;
        }
        if (comma == NULL) {
            return;
        }
        s = comma + 1;
    }
}

static int set_value(const struct cli_opt *o, const char *cmd, char *value)
{
    switch (o->kind) {
    case CLI_STRING:
        *(const char **)o->target = value;
        return 0;
    case CLI_LIST:
        append_list(o->target, value);
        return 0;
    case CLI_INT: {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max) {
            return cli_usage_error(cmd, "--%s: '%s' is not a number from %ld to %ld", o->long_name,
                                   value, o->min, o->max);
        }
        *(long *)o->target = v;
        return 0;
    }
    case CLI_FLAG:
    case CLI_COUNT:
    default:
        return cli_usage_error(cmd, "--%s takes no value", o->long_name);
    }
}

static void set_flag(const struct cli_opt *o)
{
    if (o->kind == CLI_COUNT) {
        (*(int *)o->target)++;
    } else {
        *(bool *)o->target = true;
    }
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t n)
{
    for (const struct cli_opt *o = opts; o->long_name != NULL; o++) {
        if (strlen(o->long_name) == n && strncmp(o->long_name, name, n) == 0) {
            return o;
        }
    }
    return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
    for (const struct cli_opt *o = opts; o->long_name != NULL; o++) {
        if (o->short_name == c) {
            return o;
        }
    }
    return NULL;
}

static bool takes_value(const struct cli_opt *o)
{
    return o->kind == CLI_STRING || o->kind == CLI_LIST || o->kind == CLI_INT;
}

/* One option at argv[*i]; advances *i past a separate value. */
static int parse_one(int argc, char **argv, int *i, const struct cli_opt *opts, const char *cmd)
{
    char *arg = argv[*i];
    const struct cli_opt *o;
    char *value = NULL;
    if (arg[1] == '-') {
        char *name = arg + 2;
        char *eq = strchr(name, '=');
        size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name);
        o = find_long(opts, name, n);
        if (o == NULL) {
            return cli_usage_error(cmd, "unknown option '--%.*s'", (int)n, name);
        }
        value = eq != NULL ? eq + 1 : NULL;
    } else {
        o = find_short(opts, arg[1]);
        if (o == NULL || arg[2] != '\0') {
            return cli_usage_error(cmd, "unknown option '%s'", arg);
        }
    }
    if (!takes_value(o)) {
        if (value != NULL) {
            return cli_usage_error(cmd, "--%s takes no value", o->long_name);
        }
        set_flag(o);
        return 0;
    }
    if (value == NULL) {
        if (*i + 1 >= argc) {
            return cli_usage_error(cmd, "--%s needs a value (%s)", o->long_name,
                                   o->metavar != NULL ? o->metavar : "VALUE");
        }
        value = argv[++*i];
    }
    return set_value(o, cmd, value);
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, const struct cli_cmd_help *help,
              char ***operands, size_t *n_operands, int *exit_now)
{
    char **ops = ecsrev_xcalloc((size_t)argc + 1, sizeof(*ops));
    size_t n = 0;
    bool only_operands = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_operands || arg[0] != '-' || arg[1] == '\0') {
            ops[n++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_operands = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(opts, help);
            free(ops);
            *exit_now = EXIT_OK;
            return -1;
        }
        if (parse_one(argc, argv, &i, opts, help->name) != 0) {
            free(ops);
            *exit_now = EXIT_TROUBLE;
            return -1;
        }
    }
    *operands = ops;
    *n_operands = n;
    return 0;
}
