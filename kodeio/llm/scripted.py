"""A deterministic backend that answers from a script: for pipeline logic tests and dry runs.

It is *not* a model. It exists so the pipeline's bookkeeping (revision turns, statuses,
resume, export) can be tested with known answers, next to the tests on real engines.

Script file (JSON)::

    {"delay": 0.0,
     "rules": [{"match": "substring of the last user message", "turn": 1,
                "completion": "reasoning...</think>\\n\\n```json\\n{\\"output\\": 6}\\n```"}],
     "default": "I am not sure.</think>\\n\\nno answer"}

The first rule whose `match` occurs in the last user message (and whose optional `turn`
equals the number of user messages so far) wins. Sample i of a request gets
`completions[i % len]` when a rule gives a list.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kodeio.errors import ConfigError
from kodeio.llm.base import Backend, Completion, GenRequest, GenResult

Responder = Callable[[GenRequest, int], str]


class ScriptedBackend(Backend):
    name = "scripted"

    def __init__(self, respond: Responder, delay: float = 0.0) -> None:
        super().__init__()
        self.respond = respond
        self.delay = delay
        self.requests_seen: list[GenRequest] = []

    def generate(self, requests: Sequence[GenRequest]) -> Iterator[GenResult]:
        for request in requests:
            with self.meter:
                if self.delay:
                    time.sleep(self.delay)
                self.requests_seen.append(request)
                completions = []
                for i in range(request.n):
                    text = self.respond(request, i)
                    words = len(text.split())
                    finish = "stop"
                    if words > request.max_tokens:  # imitate the engine's budget cut
                        text = " ".join(text.split()[: request.max_tokens])
                        words, finish = request.max_tokens, "length"
                    completions.append(Completion(text, finish, words))
            prompt_tokens = sum(len(m["content"].split()) for m in request.messages)
            yield GenResult(request, completions, prompt_tokens)

    @classmethod
    def from_file(cls, path: Path) -> ScriptedBackend:
        try:
            script = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: script file not found (key 'script')") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc.msg})") from None
        if not isinstance(script, dict) or not isinstance(script.get("rules", []), list):
            raise ConfigError(f"{path}: expected an object with a 'rules' list")
        rules: list[dict[str, Any]] = script.get("rules", [])
        default = str(script.get("default", "</think>\n\nI cannot tell."))
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict) or "match" not in rule or "completion" not in rule:
                raise ConfigError(f"{path}: rules[{i}] needs 'match' and 'completion'")

        def respond(request: GenRequest, sample: int) -> str:
            last = request.messages[-1]["content"]
            turn = sum(1 for m in request.messages if m["role"] == "user")
            for rule in rules:
                if rule["match"] in last and rule.get("turn", turn) == turn:
                    out = rule["completion"]
                    return out[sample % len(out)] if isinstance(out, list) else str(out)
            return default

        return cls(respond, delay=float(script.get("delay", 0.0)))
