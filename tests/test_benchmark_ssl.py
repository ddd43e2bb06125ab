"""`benchmarks/ssl_pretraining.py` at a tiny size: the table's numbers, the overhead ratio and
the files it writes."""

import json
import math
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmark(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.delitem(sys.modules, "ssl_pretraining", raising=False)
    import ssl_pretraining

    threads = torch.get_num_threads()
    yield ssl_pretraining
    torch.set_num_threads(threads)


def test_tiny_run_reports_finite_scores_and_writes_files(benchmark, tmp_path, capsys):
    report = benchmark.main(
        [
            "--methods=dino,mae",
            "--frames=48",
            "--label-fraction=0.3",
            "--size=32",
            "--backbone=test_vit",
            "--patch-size=0",
            "--epochs=1",
            "--finetune-epochs=1",
            "--batch-size=4",
            "--local-views=2",
            "--workers=0",
            "--threads=1",
            "--overhead-steps=3",
            "--overhead-warmup=1",
            "--override=dino:method.out_dim=64",
            f"--out={tmp_path}",
        ]
    )
    printed = capsys.readouterr().out
    counts = report["frames"]
    assert counts["train"] + counts["val"] + counts["test"] < 48
    assert 0 < counts["train"] < counts["pool"]
    for start in ("random init", "dino", "mae"):
        for adaptation in ("probe", "lora"):
            scores = report["scores"][start][adaptation]
            assert all(0.0 <= scores[key] <= 1.0 for key in ("f1_macro", "mAP"))
            run = tmp_path / "finetune" / f"{start.replace(' ', '-')}-{adaptation}"
            saved = json.loads((run / "eval-test" / "metrics.json").read_text())
            assert saved["n_frames"] == counts["test"]
            assert saved["f1_macro"] == pytest.approx(scores["f1_macro"])
    gain = report["gains"]["dino"]["lora"]["mAP"]
    dino, random = (
        report["scores"]["dino"]["lora"]["mAP"],
        report["scores"]["random init"]["lora"]["mAP"],
    )
    assert gain == pytest.approx(dino - random)
    assert (tmp_path / "pretrain" / "dino" / "teacher_backbone.safetensors").is_file()
    assert (tmp_path / "pretrain" / "mae" / "encoder_backbone.safetensors").is_file()
    overhead = report["overhead"]
    for key in ("bare_img_s", "scivit_img_s", "ratio"):
        assert math.isfinite(overhead[key]) and overhead[key] > 0
    assert overhead["ratio"] == pytest.approx(overhead["scivit_img_s"] / overhead["bare_img_s"])
    assert json.loads((tmp_path / "ssl_pretraining.json").read_text())["scores"] == report["scores"]
    assert "ratio scivit/bare" in printed and f"{dino:.3f}" in printed
    collapse = report["pretraining"]["dino"]["last_epoch"]
    assert 0.0 < collapse["teacher_entropy"] <= math.log(64) + 1e-4
    assert collapse["teacher_student_kl"] >= -1e-4
    assert collapse["loss"] == pytest.approx(
        collapse["teacher_entropy"] + collapse["teacher_student_kl"], rel=1e-3
    )
    assert "dino pretraining, last epoch:" in printed
    for method in ("dino", "mae"):
        features = report["pretraining"][method]["features"]
        assert set(features["start"]) == set(features["end"]) == set(benchmark.FEATURE_SCORES)
        assert all(0.0 <= value <= 1.0 for stage in features.values() for value in stage.values())
    assert "dino frozen features, fitted on the" in printed
