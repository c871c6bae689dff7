"""Run by test_engine.py under torch.distributed.run (2 gloo processes) and in one process."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtliver_train.engine import train  # noqa: E402
from tiny import tiny_case, tiny_config  # noqa: E402

if __name__ == "__main__":
    out_dir, method = sys.argv[1], sys.argv[2]
    extra = {"teacher_checkpoint": sys.argv[3]} if len(sys.argv) > 3 else {}
    train(tiny_config(out_dir, steps=3, threads=1, method=method, **extra), [tiny_case(0), tiny_case(1)], [])
