"""`scivit slurm`: write an sbatch script that runs a recipe on SLURM nodes.

The script starts one task per GPU with `srun`; Lightning's `SLURMEnvironment` reads the
ranks and the world size from SLURM's variables, so the same recipe runs on one GPU or many
nodes. The job asks for `SIGUSR1` shortly before its time limit, which Lightning answers by
checkpointing and requeueing the job; the requeued job resumes from the run's `last.ckpt`.
The recipe (with its overrides) is validated before the script is written.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from scivit.errors import ConfigError
from scivit.fileio import atomic_open

TIME_FORMAT = re.compile(r"^(\d+-)?\d{1,2}:\d{2}(:\d{2})?$")


@dataclass(frozen=True)
class SlurmJob:
    """Resources of one job: nodes, GPUs per node, wall-clock limit and scheduler options."""

    nodes: int = 1
    gpus_per_node: int = 1
    time: str = "04:00:00"
    cpus_per_task: int = 8
    partition: str | None = None
    account: str | None = None
    job_name: str | None = None

    def check(self) -> None:
        """Raise ConfigError for resources SLURM would reject."""
        if self.nodes < 1 or self.gpus_per_node < 1 or self.cpus_per_task < 1:
            raise ConfigError("slurm: --nodes, --gpus and --cpus-per-task must be at least 1")
        if not TIME_FORMAT.match(self.time):
            raise ConfigError(
                f"slurm: --time '{self.time}' is not a SLURM time limit "
                "(HH:MM:SS or D-HH:MM:SS, e.g. 04:00:00)"
            )


def sbatch_script(command: list[str], job: SlurmJob, log_dir: Path) -> str:
    """The text of an sbatch script running `command` once per GPU on every node."""
    job.check()
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={job.job_name or 'scivit'}",
        f"#SBATCH --nodes={job.nodes}",
        f"#SBATCH --ntasks-per-node={job.gpus_per_node}",
        f"#SBATCH --gres=gpu:{job.gpus_per_node}",
        f"#SBATCH --cpus-per-task={job.cpus_per_task}",
        f"#SBATCH --time={job.time}",
        f"#SBATCH --output={log_dir}/%x-%j.out",
        "#SBATCH --signal=SIGUSR1@90",
        "#SBATCH --requeue",
    ]
    if job.partition:
        lines.append(f"#SBATCH --partition={job.partition}")
    if job.account:
        lines.append(f"#SBATCH --account={job.account}")
    lines += [
        "",
        "set -euo pipefail",
        "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK}",
        f"srun {shlex.join(command)}",
        "",
    ]
    return "\n".join(lines)


def training_command(recipe: str, overrides: list[str], job: SlurmJob) -> list[str]:
    """`scivit train` for `recipe` with the device layout of `job` appended to `overrides`."""
    layout = [
        "train.accelerator=gpu",
        f"train.devices={job.gpus_per_node}",
        f"train.num_nodes={job.nodes}",
    ]
    return [sys.executable, "-m", "scivit.cli", "train", recipe, *overrides, *layout]


def write_sbatch(recipe: str, overrides: list[str], job: SlurmJob, out: str | Path) -> Path:
    """Validate `recipe` with `overrides` and write the sbatch script that trains it."""
    from scivit.recipe import load_recipe

    command = training_command(recipe, overrides, job)
    loaded = load_recipe(recipe, [*overrides, *command[-3:]])
    job = replace(job, job_name=job.job_name or loaded.name)
    out = Path(out)
    log_dir = Path(loaded.train.out_dir).resolve() / "slurm-logs"
    text = sbatch_script(command, job, log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out, "w") as handle:
        handle.write(text)
    out.chmod(0o755)
    return out
