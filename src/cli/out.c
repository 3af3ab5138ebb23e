/*
 * out.c - all printing of the CLI: results to stdout (write errors checked:
 * a full disk or closed pipe exits 2 instead of losing output silently),
 * messages to stderr as "ecsrev: ...", and colour decisions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void write_failed(void)
{
    int e = errno;
    (void)fprintf(stderr, "ecsrev: cannot write output: %s\n", strerror(e));
    exit(EXIT_TROUBLE);
}

void out_write(const void *data, size_t len)
{
    if (len > 0 && fwrite(data, 1, len, stdout) != len) {
        write_failed();
    }
}

void out_puts(const char *s)
{
    out_write(s, strlen(s));
}

void out_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    if (n < 0) {
        write_failed();
    }
}

void out_flush(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        write_failed();
    }
}

static void vmsg(const char *prefix, const char *fmt, va_list ap) ECSREV_PRINTF(2, 0);

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
    char msg[1024];
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    /* One line: never let a message (which may quote input) break the format. */
    for (char *p = msg; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    (void)fprintf(stderr, "ecsrev: %s%s\n", prefix, msg);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

int cli_fail(const struct ecsrev_error *err)
{
    cli_error("%s", err->msg[0] != '\0' ? err->msg : "unknown error");
    return EXIT_TROUBLE;
}

bool cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) == 1;
}

int cli_color(bool *out, const char *cmd, const char *mode)
{
    if (mode == NULL || strcmp(mode, "auto") == 0) {
        const char *no_color = getenv("NO_COLOR");
        const char *term = getenv("TERM");
        *out = isatty(STDOUT_FILENO) == 1 && (no_color == NULL || no_color[0] == '\0') &&
               (term == NULL || strcmp(term, "dumb") != 0);
        return 0;
    }
    if (strcmp(mode, "always") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(mode, "never") == 0) {
        *out = false;
        return 0;
    }
    return cli_usage_error(cmd, "--color: '%s' is not auto, always or never", mode);
}

const char *cli_c_red(bool on)
{
    return on ? "\033[31m" : "";
}

const char *cli_c_green(bool on)
{
    return on ? "\033[32m" : "";
}

const char *cli_c_yellow(bool on)
{
    return on ? "\033[33m" : "";
}

const char *cli_c_bold(bool on)
{
    return on ? "\033[1m" : "";
}

const char *cli_c_dim(bool on)
{
    return on ? "\033[2m" : "";
}

const char *cli_c_reset(bool on)
{
    return on ? "\033[0m" : "";
}
