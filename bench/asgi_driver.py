"""A minimal ASGI driver for benchmarks: one request straight into the app, no HTTP client."""

from __future__ import annotations


async def call(app, method: str, path: str, *, host: str = "bench.test", cookie: str | None = None,
               body: bytes = b"", content_type: str | None = None,
               query: str = "") -> tuple[int, dict, bytes]:
    headers = [(b"host", host.encode()), (b"user-agent", b"bench")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
        "server": ("bench.test", 80),
    }
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, response_headers, chunks = 0, {}, []

    async def send(message):
        nonlocal status, response_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message["headers"]:
                response_headers.setdefault(name.decode(), []).append(value.decode())
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, response_headers, b"".join(chunks)
