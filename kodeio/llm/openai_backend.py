"""Any OpenAI-compatible server: `vllm serve`, llama.cpp's server, SGLang.

- async httpx with at most `concurrency` requests in flight;
- a list of base URLs served round-robin, so data-parallel replicas scale out;
- retries with exponential backoff and jitter on 429, 5xx, timeouts and dropped
  connections (a retry goes to the next URL); `Retry-After` is honoured;
- the API key is read from the environment variable named in the config and only ever
  put into the Authorization header: it is never logged, printed or written.

With `openai.tokenizer` set, prompts are rendered with that tokenizer's chat template and
sent to `/v1/completions`, so the prompt ends exactly in `<think>\\n`. Without it the server
applies its own template through `/v1/chat/completions`.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from kodeio.llm.base import (
    THINK_OPEN,
    Backend,
    BackendError,
    Completion,
    GenRequest,
    GenResult,
    render_with_template,
)
from kodeio.llm.config import OpenAIConfig

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
FATAL_STATUS = {401, 403, 404}  # wrong key, wrong model or wrong URL: retrying is pointless


def completion_from_chat_message(message: dict[str, Any]) -> str:
    """Normalise a chat reply to "reasoning </think> answer" (what follows `<think>\\n`).

    Servers with a reasoning parser return the chain of thought in `reasoning_content`
    (vLLM, SGLang) or `reasoning`; others leave `<think>` in the content.
    """
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning:
        return reasoning.strip("\n") + "\n</think>\n\n" + content.lstrip("\n")
    stripped = content.lstrip()
    if stripped.startswith(THINK_OPEN):
        return stripped[len(THINK_OPEN) :].lstrip("\n")
    return content


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(
        self,
        model: str,
        config: OpenAIConfig,
        concurrency: int = 16,
        think_prefix: bool = True,
    ) -> None:
        super().__init__()
        self.model = model
        self.config = config
        self.concurrency = concurrency
        self.think_prefix = think_prefix
        self.retries = 0  # how many requests were retried (faults survived)
        self._url_index = 0
        self._in_flight: dict[str, int] = {}
        self._tokenizer: Any = None
        if config.tokenizer:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(config.tokenizer)
        # One event loop in a daemon thread for the backend's lifetime: connection reuse.
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._client: httpx.AsyncClient | None = None

    # -- request building -------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.config.api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _prompt_text(self, request: GenRequest) -> str:
        text = render_with_template(self._tokenizer, request.messages, self.think_prefix)
        bos = getattr(self._tokenizer, "bos_token", None)
        if bos and text.startswith(bos):  # servers add BOS themselves when tokenizing
            text = text[len(bos) :]
        return text

    def _payload(self, request: GenRequest, sample: int) -> tuple[str, dict[str, Any]]:
        common = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "seed": request.seed + sample,
            "n": 1,
        }
        if self._tokenizer is not None:
            return "/completions", {**common, "prompt": self._prompt_text(request)}
        messages = [dict(m) for m in request.messages]
        return "/chat/completions", {**common, "messages": messages}

    def _next_url(self) -> str:
        """The replica for the next request. round_robin: in turn. least_loaded: the one
        with fewest requests in flight (in turn among ties), so a slow or busy replica
        gets less, which matters when replicas differ (GPU kinds, TP sizes, other users)."""
        urls = self.config.base_urls
        start = self._url_index % len(urls)
        self._url_index += 1
        if self.config.balance == "least_loaded":
            turn = urls[start:] + urls[:start]
            return min(turn, key=lambda u: self._in_flight.get(u, 0))
        return urls[start]

    # -- one HTTP call with retries -----------------------------------------------------
    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self._client is not None
        attempt = 0
        while True:
            base = self._next_url()
            retry_after: float | None = None
            self._in_flight[base] = self._in_flight.get(base, 0) + 1
            try:
                response = await self._client.post(
                    base + path, json=payload, headers=self._headers()
                )
            except httpx.TransportError as exc:  # refused, reset, timed out, torn body
                problem = f"{type(exc).__name__} from {base}"
            else:
                code = response.status_code
                if code == 200:
                    try:
                        body = response.json()
                        body["choices"][0]  # noqa: B018 - shape check
                        return body
                    except (ValueError, KeyError, IndexError, TypeError):
                        problem = f"malformed JSON reply from {base}"
                elif code in RETRY_STATUS or code >= 500:
                    problem = f"HTTP {code} from {base}"
                    retry_after = _retry_after(response)
                elif code in FATAL_STATUS:
                    raise BackendError(
                        f"openai backend: HTTP {code} from {base}{path} for model "
                        f"{self.model!r}: {_short(response.text)} (check base URL, model "
                        f"name and ${self.config.api_key_env})"
                    )
                else:  # 400/413/422: this request is bad (e.g. too long); not retried
                    return {"_error": f"HTTP {code}: {_short(response.text)}"}
            finally:
                self._in_flight[base] -= 1
            attempt += 1
            if attempt > self.config.max_retries:
                raise BackendError(
                    f"openai backend: gave up after {attempt} attempts ({problem}); "
                    "finished work is saved, rerun the same command to resume"
                )
            self.retries += 1
            delay = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
            delay *= 0.5 + random.random() / 2  # jitter, so replicas are not hit in lockstep
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.config.backoff_max))
            await asyncio.sleep(delay)

    async def _one(self, request: GenRequest, sample: int) -> tuple[Completion, int]:
        path, payload = self._payload(request, sample)
        body = await self._post(path, payload)
        if "_error" in body:
            return Completion("", f"error: {body['_error']}", 0), 0
        choice = body["choices"][0]
        if path == "/completions":
            text = choice.get("text") or ""
        else:
            text = completion_from_chat_message(choice.get("message") or {})
        usage = body.get("usage") or {}
        finish = choice.get("finish_reason") or "stop"
        tokens = int(usage.get("completion_tokens") or len(text.split()))
        return Completion(text, str(finish), tokens), int(usage.get("prompt_tokens") or 0)

    async def _request(self, request: GenRequest, gate: asyncio.Semaphore) -> GenResult:
        async def sample(i: int) -> tuple[Completion, int]:
            async with gate:
                return await self._one(request, i)

        # Servers differ on `n`; n separate seeded calls work everywhere.
        outs = await asyncio.gather(*(sample(i) for i in range(request.n)))
        return GenResult(request, [c for c, _ in outs], max(p for _, p in outs))

    async def _batch(self, requests: Sequence[GenRequest], out: queue.Queue[Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout),
                limits=httpx.Limits(
                    max_connections=self.concurrency, max_keepalive_connections=self.concurrency
                ),
            )
        gate = asyncio.Semaphore(self.concurrency)
        tasks = [asyncio.ensure_future(self._request(r, gate)) for r in requests]
        try:
            for next_done in asyncio.as_completed(tasks):
                out.put(await next_done)
        except BaseException as exc:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            out.put(exc)
        finally:
            out.put(None)

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        if not requests:
            return
        out: queue.Queue[Any] = queue.Queue()
        with self.meter:
            future = asyncio.run_coroutine_threadsafe(self._batch(requests, out), self._loop)
            try:
                while True:
                    item = out.get()
                    if item is None:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    yield item
            finally:
                if not future.done():
                    future.cancel()

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            fut = asyncio.run_coroutine_threadsafe(client.aclose(), self._loop)
            try:
                fut.result(timeout=10)
            except Exception:  # closing a client whose server died must not mask the real error
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
