"""Tests run on 2 shared cores: keep torch at 2 threads and OpenBLAS at 1 (FINDINGS.md)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

torch.set_num_threads(2)
