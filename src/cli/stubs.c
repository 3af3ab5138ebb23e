/*
 * stubs.c - TEMPORARY weak definitions of commands still being written, so the
 * binary links while they land. Removed once every command exists.
 */
#include "cli.h"

#define STUB(name)                                                                                 \
    __attribute__((weak)) int cmd_##name(int argc, char **argv)                                    \
    {                                                                                              \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        cli_error("'%s' is not available in this build", #name);                                   \
        return EXIT_TROUBLE;                                                                       \
    }

STUB(diff)
STUB(log)
STUB(fetch)
STUB(audit)
STUB(verify)
