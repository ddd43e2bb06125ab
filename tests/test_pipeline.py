"""`scivit run`: pipeline recipes, stage overrides, references between stages, and the
pretrain -> LoRA fine-tune -> evaluate chain end to end on simulated frames."""

from __future__ import annotations

import json

import pytest
import torch

from scivit.cli import main
from scivit.errors import ConfigError
from scivit.pipeline import load_pipeline, resolve_references, run_pipeline
from scivit.recipe import load_recipe
from scivit.simulate import simulate_scattering


def test_packaged_chain_routes_stage_overrides():
    pipeline = load_pipeline(
        "scatter-pretrain-lora", ["pretrain.data.source=/raw", "finetune.train.lr=1e-4"]
    )
    stages = {stage.name: stage for stage in pipeline.stages}
    assert [stage.run for stage in pipeline.stages] == ["pretrain", "train", "evaluate"]
    assert stages["pretrain"].overrides == ["data.source=/raw"]
    assert stages["finetune"].overrides == [
        "model.pretrained=${pretrain.backbone}",
        "train.lr=1e-4",
    ]


def test_references_name_the_missing_stage_or_output():
    done = {"pretrain": {"backbone": "/runs/p/teacher.safetensors"}}
    assert resolve_references("model.pretrained=${pretrain.backbone}", done, "s") == (
        "model.pretrained=/runs/p/teacher.safetensors"
    )
    with pytest.raises(ConfigError, match="did you mean 'pretrain'"):
        resolve_references("${pretrian.backbone}", done, "stage 'finetune'")
    with pytest.raises(ConfigError, match="did you mean 'backbone'"):
        resolve_references("${pretrain.backbon}", done, "stage 'finetune'")


def test_malformed_pipelines_are_one_line_errors(tmp_path):
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text(
        "stages:\n  - {name: a, run: train, recipe: x}\n  - {name: a, run: train, recipe: y}\n"
    )
    with pytest.raises(ConfigError, match="'a' is used more than once"):
        load_pipeline(duplicate)
    missing = tmp_path / "missing.yaml"
    missing.write_text("stages:\n  - {name: e, run: evaluate}\n")
    with pytest.raises(ConfigError, match="needs 'checkpoint'"):
        load_pipeline(missing)


def test_a_pipeline_is_not_a_training_recipe():
    with pytest.raises(ConfigError, match="scivit run scatter-pretrain-lora"):
        load_recipe("scatter-pretrain-lora")


def tiny_chain(root, unlabelled, labelled) -> list[str]:
    pretrain = [
        f"data.source={unlabelled}",
        "data.image_size=48",
        "data.batch_size=4",
        "data.num_workers=0",
        f"data.cache_dir={root}/cache",
        "model.backbone=test_vit",
        "model.pretrained=null",
        "model.img_size=null",
        "method.out_dim=64",
        "method.hidden_dim=64",
        "method.bottleneck_dim=32",
        "method.views.global_size=32",
        "method.views.local_size=16",
        "method.views.n_local=2",
        "train.max_epochs=1",
        "train.precision=32-true",
        "train.progress_bar=false",
        f"train.out_dir={root}/runs",
    ]
    finetune = [
        f"data.manifest={labelled}",
        "data.image_size=32",
        "data.batch_size=8",
        "data.num_workers=0",
        f"data.cache_dir={root}/cache",
        "model.backbone=test_vit",
        "model.img_size=32",
        "train.max_epochs=1",
        "train.precision=32-true",
        "train.progress_bar=false",
        f"train.out_dir={root}/runs",
    ]
    return [f"pretrain.{text}" for text in pretrain] + [f"finetune.{text}" for text in finetune]


def test_pretrain_then_lora_then_evaluate(tmp_path, capsys):
    unlabelled = simulate_scattering(tmp_path / "u", n=12, size=48, unlabelled=True, progress=False)
    labelled = simulate_scattering(tmp_path / "l", n=40, size=48, seed=1, progress=False)
    overrides = tiny_chain(tmp_path, unlabelled, labelled)
    results = run_pipeline(load_pipeline("scatter-pretrain-lora", overrides))
    pretrain, finetune, evaluation = (result.outputs for result in results)
    checkpoint = torch.load(finetune["checkpoint"], weights_only=True)
    assert checkpoint["scivit"]["recipe"]["model"]["pretrained"] == pretrain["backbone"]
    assert checkpoint["scivit"]["recipe"]["model"]["adapt"]["mode"] == "lora"
    metrics = json.loads(
        (tmp_path / "runs" / "scatter-dinov2-lora" / "eval-test" / "metrics.json").read_text()
    )
    assert 0.0 <= metrics["f1_macro"] <= 1.0
    assert evaluation["report"].endswith("report.html")

    assert main(["run", "scatter-pretrain-lora", *overrides]) == 0
    assert "stage evaluate (evaluate) done" in capsys.readouterr().out
