"""The fork server waits for a child on a pidfd, or by polling on kernels without one."""

from __future__ import annotations

import os
import time

import pytest


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polling"])
def test_wait_exit_sees_the_exit_and_the_timeout_without_reaping(worker_module, monkeypatch, pidfd):
    if not pidfd:

        def no_pidfd(pid: int) -> int:
            raise OSError(38, "Function not implemented")  # ENOSYS, as before Linux 5.3

        monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    pid = os.fork()
    if pid == 0:
        time.sleep(0.5)
        os._exit(7)
    try:
        assert worker_module.wait_exit(pid, 0.05) is False
        assert worker_module.wait_exit(pid, 10) is True
    finally:
        _, status = os.waitpid(pid, 0)  # not reaped by wait_exit
    assert os.WEXITSTATUS(status) == 7
