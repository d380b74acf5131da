"""One server process: daphne, with one change to how it treats oversized WebSocket frames.

``python -m webapp.server`` takes daphne's own arguments.  Daphne caps a
WebSocket message at 1 MB, and autobahn, below it, drops the TCP connection on
a bigger one without a closing handshake: the client sees the connection vanish
with no close code.  Here the connection is closed properly, with 1009 (message
too big), as RFC 6455 asks.  Smaller frames that are still too big for a
consumer are closed with 1009 by the consumer itself (webapp/websockets.py).
"""

from __future__ import annotations

import sys

from daphne import server as daphne_server
from daphne.cli import CommandLineInterface
from daphne.ws_protocol import WebSocketFactory


class ClosingWebSocketFactory(WebSocketFactory):
    def setProtocolOptions(self, *args, **options):  # noqa: N802 (autobahn's name)
        options.setdefault("failByDrop", False)  # fail with a close frame, not a dropped connection
        super().setProtocolOptions(*args, **options)


def main(argv: list[str] | None = None) -> None:
    daphne_server.WebSocketFactory = ClosingWebSocketFactory  # the name Server.run() builds its factory from
    CommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
