"""`scivit slurm`: the sbatch script, its validation, and Lightning reading the job it starts."""

from __future__ import annotations

import shlex

import pytest
from lightning.fabric.plugins.environments import SLURMEnvironment

from scivit.cli import main
from scivit.errors import ConfigError
from scivit.slurm import SlurmJob, write_sbatch


def _directives(text: str) -> dict[str, str]:
    pairs = (line.removeprefix("#SBATCH --").partition("=") for line in text.splitlines())
    return {key: value for key, _, value in pairs if value and not key.startswith("#")}


def test_script_requests_one_task_per_gpu_on_every_node(tmp_path):
    job = SlurmJob(nodes=2, gpus_per_node=4, time="1-02:00:00", partition="gpu")
    out = write_sbatch(
        "scatter-resnet34", [f"train.out_dir={tmp_path}/runs"], job, tmp_path / "j.sh"
    )
    text = out.read_text()
    directives = _directives(text)
    assert directives["nodes"] == "2"
    assert directives["ntasks-per-node"] == "4"
    assert directives["gres"] == "gpu:4"
    assert directives["time"] == "1-02:00:00"
    assert directives["partition"] == "gpu"
    assert directives["job-name"] == "scatter-resnet34"
    srun = next(line for line in text.splitlines() if line.startswith("srun "))
    args = shlex.split(srun)[1:]
    assert args[1:5] == ["-m", "scivit.cli", "train", "scatter-resnet34"]
    assert {"train.devices=4", "train.num_nodes=2", "train.accelerator=gpu"} <= set(args)
    assert (tmp_path / "runs" / "slurm-logs").is_dir()
    assert out.stat().st_mode & 0o111


def test_bad_time_limit_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="--time '4h'"):
        write_sbatch("scatter-resnet34", [], SlurmJob(time="4h"), tmp_path / "j.sh")
    assert not (tmp_path / "j.sh").exists()


def test_recipe_errors_surface_before_the_script_is_written(tmp_path):
    with pytest.raises(ConfigError, match="lr"):
        write_sbatch("scatter-resnet34", ["train.lrr=1"], SlurmJob(), tmp_path / "j.sh")
    assert not (tmp_path / "j.sh").exists()


def test_lightning_reads_the_layout_of_the_job(monkeypatch):
    env = {
        "SLURM_NTASKS": "8",
        "SLURM_NTASKS_PER_NODE": "4",
        "SLURM_PROCID": "5",
        "SLURM_LOCALID": "1",
        "SLURM_NODEID": "1",
        "SLURM_JOB_NAME": "scatter-resnet34",
        "SLURM_JOB_ID": "42",
        "SLURM_NODELIST": "node[01-02]",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert SLURMEnvironment.detect()
    slurm = SLURMEnvironment()
    assert (slurm.world_size(), slurm.global_rank(), slurm.local_rank(), slurm.node_rank()) == (
        8,
        5,
        1,
        1,
    )


def test_cli_writes_the_script(tmp_path, capsys):
    out = tmp_path / "job.sbatch"
    code = main(
        ["slurm", "scatter-resnet34", f"train.out_dir={tmp_path}", "--nodes", "2", "--gpus", "2"]
        + ["--out", str(out)]
    )
    assert code == 0
    assert "#SBATCH --nodes=2" in out.read_text()
    assert str(out) in capsys.readouterr().out
