"""Serves the app: `python -m lettings` (port from PORT, default 8000)."""

import os
from wsgiref.simple_server import make_server

from lettings.app import application


def main():
    port = int(os.environ.get("PORT", "8000"))
    with make_server("0.0.0.0", port, application) as server:
        print(f"Lettings on port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
