#!/usr/bin/env python3
"""tests/support/fake_ecs.py with TCP_NODELAY on its connections (fetch benchmark only).

fake_ecs.py's handler writes the response headers and the body in two send()
calls; with Nagle's algorithm on, the body waits for the ACK of the headers,
which the client delays by up to 40 ms on a kept-alive connection. That adds
~40 ms to every request after the first on each connection, for ecsrev and
boto3 alike, and would make the fetch benchmark measure the server's TCP
settings. bench.py starts this wrapper instead only when fake_ecs.py's handler
does not already disable Nagle; it changes nothing else.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "support"))
import fake_ecs  # noqa: E402

fake_ecs.Handler.disable_nagle_algorithm = True

if __name__ == "__main__":
    sys.exit(fake_ecs.main())
