"""Verification: extract answers from reasoning traces and judge them by execution.

    from kodeio.synth.verify import VerifyItem, verify
    for verdict in verify(items):          # ordered, one Sandbox for every execution
        verdict.correct, verdict.reason, verdict.produced

See docs/verify.md.
"""

from kodeio.synth.verify.config import VerifyConfig, VerifyRunConfig
from kodeio.synth.verify.engine import Verdict, VerifyItem, verify
from kodeio.synth.verify.extract import Extraction, extract_answer, interpret_answer
from kodeio.synth.verify.judge import POLICIES, judge_values
from kodeio.synth.verify.values import CallAnswer

__all__ = [
    "POLICIES",
    "CallAnswer",
    "Extraction",
    "Verdict",
    "VerifyConfig",
    "VerifyItem",
    "VerifyRunConfig",
    "extract_answer",
    "interpret_answer",
    "judge_values",
    "verify",
]
