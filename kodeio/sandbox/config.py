"""Sandbox settings: limits, isolation and worker pool size."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator

from kodeio.config import StageConfig


class SandboxConfig(StageConfig):
    """Limits apply per execution. CPU time is the real limit; wall time is a backstop."""

    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    timeout: float = Field(5.0, gt=0, description="CPU seconds per execution")
    wall_factor: float = Field(
        3.0, ge=1.0, description="wall backstop = timeout * wall_factor + 1 s"
    )
    memory_mb: int = Field(
        1024, ge=32, description="address space added on top of the worker's own"
    )
    max_output_bytes: int = Field(
        1_000_000, ge=1024, description="cap on the returned value's JSON message"
    )
    max_stdout_bytes: int = Field(8192, ge=0, description="stdout/stderr kept per execution")
    max_file_bytes: int = Field(
        16 * 1024 * 1024, ge=0, description="RLIMIT_FSIZE: biggest file or stdout flood"
    )
    tmp_mb: int = Field(256, ge=1, description="size of the private /tmp (bwrap isolation)")
    shm_mb: int = Field(64, ge=1, description="size of the private /dev/shm (bwrap isolation)")
    host_uid: int = Field(
        2_000_000_000,
        ge=1000,
        le=2**31 - 258,
        description=(
            "started as root: fork servers run as this host uid (and gid), the jobs of worker i"
            " as host_uid + 1 + i; pick ids no account or file on the host uses"
        ),
    )
    cgroup: Literal["auto", "required", "off"] = Field(
        "auto",
        description=(
            "one memory and task ceiling per worker and all its jobs (cgroup v2, or v1's memory"
            " and pids hierarchies): auto uses it where this process may create groups,"
            " required fails where it cannot"
        ),
    )
    cgroup_memory_mb: int | None = Field(
        None,
        ge=64,
        description="per-worker cgroup memory; default memory_mb + tmp_mb + shm_mb + 256",
    )
    max_tasks: int = Field(
        128, ge=8, description="cgroup pids.max per worker: processes and threads, worker included"
    )
    max_open_files: int = Field(64, ge=16)
    recursion_limit: int = Field(3000, ge=100)
    isolation: Literal["bwrap", "process"] = "bwrap"
    hash_seed: int = Field(0, ge=0, le=4294967295, description="PYTHONHASHSEED of the workers")
    preload_numpy: bool = True
    jobs_per_worker: int = Field(2000, ge=1, description="restart a worker after this many jobs")
    window: int = Field(0, ge=0, description="jobs in flight; 0 = 4 x workers")

    def cgroup_memory_bytes(self) -> int:
        # The worker (interpreter, numpy) plus one job's address space plus both tmpfs.
        mb = self.cgroup_memory_mb or self.memory_mb + self.tmp_mb + self.shm_mb + 256
        return mb * 1024 * 1024

    @model_validator(mode="after")
    def _result_fits_in_a_file(self) -> SandboxConfig:
        # A child hands its result over through a file, so RLIMIT_FSIZE must let a result
        # one byte over the cap through for it to be reported as output_too_large.
        if self.max_file_bytes <= self.max_output_bytes:
            raise ValueError(
                f"max_file_bytes ({self.max_file_bytes}) must be larger than max_output_bytes "
                f"({self.max_output_bytes}): results travel through a file"
            )
        return self
