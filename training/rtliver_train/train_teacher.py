"""Stage 1: train the teacher on labels.

    python -m rtliver_train.train_teacher [--config=run.json] [--key=value ...]
    torchrun --nproc_per_node=N -m rtliver_train.train_teacher ...     # several processes / GPUs

Writes <out_dir>/ckpt.pt (resumable: run the same command again), log.jsonl and config.json.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from .config import RunConfig, parse_config
from .engine import train
from .errors import TrainingError


def main(argv: Optional[Sequence[str]] = None) -> None:
    try:
        config = parse_config(sys.argv[1:] if argv is None else argv,
                              **{"preset": "teacher", "method": "none", "out_dir": "training/runs/teacher"})
        train(config)
    except TrainingError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
