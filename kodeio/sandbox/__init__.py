"""Run untrusted Python fast and safely: a fork server inside bubblewrap, seccomp, rlimits."""

from kodeio.sandbox.config import SandboxConfig
from kodeio.sandbox.pool import Sandbox, SandboxUnavailable
from kodeio.sandbox.types import STATUSES, Job, Result

__all__ = ["STATUSES", "Job", "Result", "Sandbox", "SandboxConfig", "SandboxUnavailable"]
