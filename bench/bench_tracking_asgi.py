"""The ASGI side of decision 0019's measurement: the same bare route as an ASGI application on Granian.

Used by `python bench/bench_tracking.py --interface asgi` (only /t/bare is served: the question is what
the interface itself costs a tiny request, against WSGI's bare route).
"""


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 202,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"8")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b'{"ok":1}'})
