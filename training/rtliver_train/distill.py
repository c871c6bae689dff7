"""Stage 2: train a student, with or without distillation.

    python -m rtliver_train.distill --method=none|kd|takd|gtan --preset=student-30k \
        --teacher_checkpoint=training/runs/teacher/ckpt.pt --out_dir=training/runs/student-30k-gtan [--key=value ...]

  none  labels only (the no-KD baseline)
  kd    teacher -> student (logit KD; --feature_kd_weight adds attention-transfer feature KD)
  takd  teacher -> fixed-size assistant (--assistant_preset) -> student (Mirzadeh et al., AAAI 2020); the
        assistant is trained first into <out_dir>/assistant unless --assistant_checkpoint is given
  gtan  growing teacher assistant: one slimmable network whose narrowest slice is the student (README.md)

`--method` may also be given as `--method kd` (space-separated) for convenience.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import List, Optional, Sequence

from .config import RunConfig, parse_config
from .engine import train
from .errors import TrainingError


def _normalise(argv: Sequence[str]) -> List[str]:
    """Accept `--method kd` as well as `--method=kd`."""
    out: List[str] = []
    iterator = iter(argv)
    for argument in iterator:
        if argument.startswith("--") and "=" not in argument and not argument.endswith(".json"):
            out.append(f"{argument}={next(iterator, '')}")
        else:
            out.append(argument)
    return out


def run_distillation(config: RunConfig) -> Path:
    if config.method != "takd":
        return train(config)
    # TAKD: teacher -> assistant (KD), then assistant -> student (KD).
    assistant_checkpoint = config.assistant_checkpoint
    if not assistant_checkpoint:
        assistant = replace(config, method="kd", preset=config.assistant_preset, channels=None,
                            out_dir=str(Path(config.out_dir) / "assistant"))
        assistant_checkpoint = str(train(assistant))
    student = replace(config, method="kd", teacher_checkpoint=assistant_checkpoint)
    return train(student, summary={"method": "takd", "assistant": assistant_checkpoint,
                                   "teacher_of_assistant": config.teacher_checkpoint})


def main(argv: Optional[Sequence[str]] = None) -> None:
    try:
        config = parse_config(_normalise(sys.argv[1:] if argv is None else argv),
                              **{"method": "kd", "out_dir": "training/runs/student"})
        run_distillation(config)
    except TrainingError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
