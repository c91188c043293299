"""Headers every answer carries, whichever path made it (a route, a problem, a fast lane): the browser is
told not to sniff content types, frame the API or leak the URL in a Referer."""

from __future__ import annotations

from typing import Any

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def with_security(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    return [*headers, *(h for h in SECURITY_HEADERS if h[0] not in present)]


def security_headers_middleware(app: Any) -> Any:
    """A Litestar middleware adding SECURITY_HEADERS to every HTTP answer of the framework."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_security(list(message.get("headers") or []))}
            await send(message)

        await app(scope, receive, sending)

    return middleware
