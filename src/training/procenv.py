"""Process settings for training and benchmarks, applied by re-executing the interpreter before
numpy or torch is imported.

glibc's malloc gives large freed blocks back to the kernel at once (mmap threshold, trim
threshold), so PyTorch's CPU allocator page-faults fresh zeroed memory for every large tensor of
every step; raising the thresholds keeps that memory in the heap. PYTHONHASHSEED is pinned because
TorchScript serializes some constants in set-iteration order, which depends on the string-hash seed. OpenBLAS (Debian's libopenblas0-pthread, behind torch's matrix products) starts
its own threads whatever torch.set_num_threads says; two training processes on two cores would
then run four threads, so it gets one.
"""

import os
import sys

MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024),   # glibc's maximum on 64-bit
    "MALLOC_TRIM_THRESHOLD_": str(4 * 1024 * 1024 * 1024),
    "MALLOC_TOP_PAD_": str(1024 * 1024 * 1024),
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}


def ensure(argv=None) -> None:
    """Re-exec this script with MALLOC_ENV unless it is set already; --no-env leaves out the
    malloc settings (to measure what they are worth)."""
    argv = sys.argv if argv is None else argv
    env = dict(os.environ, **MALLOC_ENV)
    if "--no-env" in argv:
        env = {k: v for k, v in env.items() if not k.startswith("MALLOC_")}
    if env != dict(os.environ):
        os.execve(sys.executable, [sys.executable] + argv, env)
