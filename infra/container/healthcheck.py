#!/usr/bin/env python3
"""The image's HEALTHCHECK: GET /healthz from the server this container runs (PID 1), on the
address and port its `serve --host H --port P` listens on (8000 when not given)."""

import itertools
import sys
import urllib.request


def listening() -> tuple[str, str]:
    with open("/proc/1/cmdline", "rb") as handle:
        args = handle.read().decode(errors="replace").split("\0")
    options = dict(itertools.pairwise(args))
    host = options.get("--host", "127.0.0.1")
    host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    return (f"[{host}]" if ":" in host else host), options.get("--port", "8000")


def main() -> int:
    host, port = listening()
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
