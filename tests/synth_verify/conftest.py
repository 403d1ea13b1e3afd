from __future__ import annotations

import pytest

from kodeio.sandbox import Sandbox, SandboxConfig


@pytest.fixture(scope="session")
def sandbox():
    """One real sandbox (bubblewrap + seccomp) for the whole verify test session."""
    with Sandbox(SandboxConfig(workers=2, timeout=1.0, memory_mb=512, wall_factor=2.0)) as sb:
        yield sb


class CountingSandbox:
    """Delegates to a real sandbox and records every job it is asked to run."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.jobs: list = []

    def run(self, jobs):
        def record():
            for job in jobs:
                self.jobs.append(job)
                yield job

        return self.inner.run(record())


@pytest.fixture
def counting(sandbox):
    return CountingSandbox(sandbox)
