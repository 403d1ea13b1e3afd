"""Servers on loopback for the openai-backend tests (the llama.cpp server on the real
SmolLM2 GGUF is the `llama_server` fixture in tests/conftest.py).

- `FaultProxy`: a small HTTP proxy in front of it that injects faults by request number:
  HTTP 500s, slow replies, stalled requests (no reply before the client's timeout) and
  dropped connections (the socket is closed without a reply).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FaultProxy:
    """Forwards POSTs to `upstream`; request number k (1-based) gets the fault `plan[k]`.

    Faults: "500" (an HTTP 500 reply), "429" (rate limited, Retry-After: 0), "drop" (the socket is closed without a reply),
    "slow" (the real reply, `slow_seconds` late), "stall" (no reply at all until the proxy
    shuts down, so the client's timeout must fire; upstream never sees it). A fixed plan
    keeps the test deterministic: the retries of one request cannot keep hitting faults.
    """

    def __init__(
        self,
        upstream: str,
        plan: dict[int, str],
        slow_seconds: float = 1.5,
        stall_seconds: float = 600.0,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.plan = plan
        self.slow_seconds = slow_seconds
        self.stall_seconds = stall_seconds
        self.count = 0
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()
        self.released = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                fault = proxy._next_fault()
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "429":
                    self.send_response(429)
                    self.send_header("retry-after", "0")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if fault == "500":
                    payload = b'{"error": "injected"}'
                    self.send_response(500)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if fault == "stall":  # no reply until the proxy closes; upstream never sees it
                    proxy.released.wait(proxy.stall_seconds)
                    self.close_connection = True
                    return
                if fault == "slow":  # answers, late but within the client's timeout
                    time.sleep(proxy.slow_seconds)
                status, data = proxy._forward(self.path, body)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout) while we were slow
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _next_fault(self) -> str | None:
        with self._lock:
            self.count += 1
            fault = self.plan.get(self.count)
            if fault is not None:
                self.injected[fault] = self.injected.get(fault, 0) + 1
            return fault

    def _forward(self, path: str, body: bytes) -> tuple[int, bytes]:
        prefix = self.upstream.path.rstrip("/")
        upstream_path = path if path.startswith(prefix) else prefix + path
        try:
            conn = http.client.HTTPConnection(
                self.upstream.hostname, self.upstream.port, timeout=120
            )
            conn.request(
                "POST", upstream_path, body=body, headers={"content-type": "application/json"}
            )
            response = conn.getresponse()
            return response.status, response.read()
        except OSError:
            return 502, b'{"error": "upstream unreachable"}'

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class ChatServer:
    """A minimal OpenAI-compatible chat server on loopback: `reply(request, handler)` gives
    the assistant's text for each POSTed body (the handler is there for tests that need the
    client's address). Replies are instant, and `usage` counts words, so they are
    deterministic."""

    def __init__(self) -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                server.hits += 1
                content = server.reply(request, self)
                prompt = " ".join(m["content"] for m in request.get("messages", []))
                body = {
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": len(prompt.split()) or 10,
                        "completion_tokens": len(content.split()),
                    },
                }
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, request: dict, handler: BaseHTTPRequestHandler) -> str:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class CannedServer(ChatServer):
    """Answers every request instantly with the same text.

    Used behind `FaultProxy` where a test needs the client's own timeout to fire without
    depending on how fast a real model happens to be on a loaded machine.
    """

    def __init__(self, content: str) -> None:
        super().__init__()
        self.content = content

    def reply(self, request: dict, handler: BaseHTTPRequestHandler) -> str:
        return self.content
