"""Tiny in-memory cases and configs for the engine tests (seconds per run on 2 cores)."""

from __future__ import annotations

import numpy as np

from layouts import phantom
from rtliver_train.config import RunConfig
from rtliver_train.datasets import PreparedCase
from rtliver_train.preprocess import apply_hu_window

SHAPE = (16, 24, 24)  # [D, H, W]


def tiny_case(seed: int = 0, shape=SHAPE) -> PreparedCase:
    hu, labels = phantom(seed, shape_ijk=shape[::-1])
    return PreparedCase(f"tiny-{seed}", apply_hu_window(hu.transpose(2, 1, 0).astype(np.float32)),
                        (labels > 0).transpose(2, 1, 0).astype(np.uint8))


def tiny_config(out_dir, **overrides) -> RunConfig:
    values = dict(out_dir=str(out_dir), channels=(4, 4, 8, 8), method="none", steps=4, batch_size=2, patch=(16, 16, 16),
                  lr=1e-2, warmup_steps=2, eval_every=0, log_every=1, checkpoint_every=1000, resume=False,
                  cache_dir=None, threads=2)
    values.update(overrides)
    return RunConfig(**values)
