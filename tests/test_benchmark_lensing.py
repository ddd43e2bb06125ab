"""`benchmarks/lensing_zoo.py` at a tiny size: every chosen member trains, is evaluated and
lands in the results page with finite numbers, its weights averaged when asked."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
import yaml

from scivit.recipe import load_recipe

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_tiny_zoo_table(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delitem(sys.modules, "lensing_zoo", raising=False)
    import lensing_zoo

    out = tmp_path / "lensing.md"
    args = lensing_zoo.parse_args(
        [
            "--per-class=10",
            "--epochs=1",
            "--batch-size=8",
            "--members=lens_cct",
            "--workers=1",
            "--ema-decay=0.99",
            "--override=data.augment=[{name: rand_flip, diagonal: true}]",
            "--views=d4",
            f"--work={tmp_path / 'work'}",
            f"--out={out}",
        ]
    )
    rows = lensing_zoo.run(args)
    assert [row.name for row in rows] == ["lens_cct"]
    for row in rows:
        assert 0.0 <= row.accuracy <= 100.0 and 0.0 <= row.accuracy_mirrors <= 100.0
        assert math.isfinite(row.auc_macro) and row.train_ips > 0 and row.infer_ips > 0
        assert 1.0 <= row.params_m <= 6.0
    text = out.read_text()
    assert "| lens_cct |" in text
    run = tmp_path / "work" / "runs" / "lens_cct"
    single = json.loads((run / "eval-test" / "metrics.json").read_text())
    mirrors = json.loads((run / "eval-test-mirrors" / "metrics.json").read_text())
    assert (single["test_time_flips"], mirrors["test_time_flips"]) == ("none", "d4")
    recipe = yaml.safe_load((run / "config.yaml").read_text())
    assert recipe["data"]["augment"] == [{"name": "rand_flip", "diagonal": True}]
    assert "| 8 symmetries % |" in text and "rotations by 90 degrees" in text
    assert math.isclose(100 * mirrors["accuracy"], rows[0].accuracy_mirrors)
    assert "Model II: 10 images per class (64 px)" in text
    assert "evaluated with a moving average of the weights (0.99)" in text
    checkpoint = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    assert "current_model_state" in checkpoint
    assert "Not yet trained" not in text
    assert len(rows[0].val_accuracy) == 1
    assert f"- lens_cct: {rows[0].val_accuracy[0]:.2f}\n" in text
    partial = lensing_zoo.markdown(rows, args, ["lens_swin", "lens_pit"])
    assert "Not yet trained: lens_swin, lens_pit" in partial and "| lens_cct |" in partial


def test_model_options_reach_every_member_and_name_its_row(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delitem(sys.modules, "lensing_zoo", raising=False)
    import lensing_zoo

    args = lensing_zoo.parse_args(["--members=lens_resnet18", "--model-option=stem_stride=2"])
    assert lensing_zoo.model_overrides(args.model_option) == ["model.options.stem_stride=2"]
    assert lensing_zoo.member_label("lens_resnet18", args.model_option) == (
        "lens_resnet18 stem_stride=2"
    )
    built = []
    build = lensing_zoo.build_classifier

    def recording_build(config, num_classes):
        built.append(config.options)
        return build(config, num_classes)

    monkeypatch.setattr(lensing_zoo, "build_classifier", recording_build)
    numerics = []

    class RecordingNumerics(lensing_zoo.TrainedNumerics):
        def forward(self, images):
            numerics.append((self.precision, images.shape[0]))
            return super().forward(images)

    monkeypatch.setattr(lensing_zoo, "TrainedNumerics", RecordingNumerics)
    overrides = ["model.backbone=lens_resnet18", "data.batch_size=4", "train.precision=32-true"]
    recipe = load_recipe("lensing-base", overrides + lensing_zoo.model_overrides(args.model_option))
    assert min(lensing_zoo.throughput(recipe, steps=1)) > 0
    assert built == [{"stem_stride": 2}]
    assert set(numerics) == {("32-true", 4)}
    for flag in ("--model-option=stem_stride", "--override=data.augment"):
        with pytest.raises(SystemExit):
            lensing_zoo.parse_args([flag])


def test_noiseless_flag_simulates_without_noise_and_says_so(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delitem(sys.modules, "lensing_zoo", raising=False)
    import lensing_zoo

    calls = []

    class Simulated(Exception):
        pass

    def record(out_dir, **options):
        calls.append((Path(out_dir).name, options["noise"]))
        raise Simulated

    monkeypatch.setattr(lensing_zoo, "simulate_lensing", record)
    for flags, expected in (
        ([], ("model-II-10", True)),
        (["--noiseless"], ("model-II-10-noiseless", False)),
    ):
        args = lensing_zoo.parse_args(["--per-class=10", f"--work={tmp_path}", *flags])
        with pytest.raises(Simulated):
            lensing_zoo.run(args)
        assert calls.pop() == expected
    row = lensing_zoo.Row("lens_cct", 90.0, 91.0, {}, 0.9, 1.9, 10.0, 20.0, 1.0, 30)
    assert "Model II without noise (as the published Model II set" in lensing_zoo.markdown(
        [row], args
    )
    plain = lensing_zoo.parse_args(["--per-class=10"])
    page = lensing_zoo.markdown([row], plain)
    assert "Model II: 10 images per class" in page and "| 4 mirrors % |" in page
    assert lensing_zoo._threads(1) == "1 thread" and lensing_zoo._threads(2) == "2 threads"


def test_validation_curve_reads_every_attempt_of_a_resumed_run(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delitem(sys.modules, "lensing_zoo", raising=False)
    import lensing_zoo

    attempts = {
        "version_0": "epoch,step,train/loss,val/accuracy\n0,9,0.9,\n0,9,,0.5\n1,19,,0.25\n",
        "version_10": "epoch,step,val/accuracy\n1,19,0.75\n2,29,0.8\n",
        "version_2": "epoch,step,val/accuracy\n1,19,0.6\n",
    }
    for name, text in attempts.items():
        (tmp_path / "logs" / name).mkdir(parents=True)
        (tmp_path / "logs" / name / "metrics.csv").write_text(text)
    assert lensing_zoo.validation_curve(tmp_path) == (0.5, 0.75, 0.8)
    assert lensing_zoo.validation_curve(tmp_path / "missing") == ()
    row = lensing_zoo.Row("lens_cct", 90.0, 91.0, {}, 0.9, 1.9, 10.0, 20.0, 1.0, 30, (0.5, 0.75))
    page = lensing_zoo.markdown([row], lensing_zoo.parse_args([]))
    assert "- lens_cct: 0.50 0.75\n" in page
    assert "recomputed over 50 training batches for validation" in page
    running = lensing_zoo.parse_args(["--override=train.precise_bn_batches=null"])
    assert "statistics as running averages" in lensing_zoo.markdown([row], running)
