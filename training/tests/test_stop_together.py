"""--max_minutes under DDP: every process stops at the same step, decided together (engine.time_is_up)."""

import os
import socket
import sys
from pathlib import Path

import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, results) -> None:
    import time

    import torch
    import torch.distributed as dist

    from rtliver_train.config import RunConfig
    from rtliver_train.engine import Runtime, time_is_up

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    torch.set_num_threads(1)
    config = RunConfig(max_minutes=1.0)
    runtime = Runtime(torch.device("cpu"), rank, 2)
    # rank 0's clock says 2 minutes have passed, rank 1's says none: both must stop.
    started = time.time() - (120.0 if rank == 0 else 0.0)
    results[rank] = time_is_up(config, started, runtime)
    # and when neither is over time, neither stops
    results[2 + rank] = time_is_up(config, time.time(), runtime)
    dist.destroy_process_group()


def test_max_minutes_stops_every_process_together():
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_worker, args=(_free_port(), results), nprocs=2, join=True)
    assert [results[0], results[1]] == [True, True]
    assert [results[2], results[3]] == [False, False]
