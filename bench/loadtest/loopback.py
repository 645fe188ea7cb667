"""The server runs with production settings, so its cookies are marked Secure; the load test
talks plain http on the loopback (no TLS proxy in front), where a client would not send them
back. ``trust_loopback`` clears that flag on the cookies a locust client holds, so they go
back to 127.0.0.1 as a browser behind the proxy would send them; call it before each request
that needs them."""


def trust_loopback(client) -> None:
    for cookie in client.cookies:
        cookie.secure = False
