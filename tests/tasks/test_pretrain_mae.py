"""MAE as a pretraining method: the packaged recipe and its one-line errors, the single masked
view, invalid pixels kept out of the loss, the ViT-only check, and `pretrain` end to end with
export and resume."""

import csv
import math

import lightning as L
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from scivit.errors import ConfigError, ModelError
from scivit.models.backbones import create_backbone
from scivit.models.mae_method import MAEMethod, MAEOptions
from scivit.pretrain import load_pretrain_recipe, pretrain, pretrain_recipe_from_dict
from scivit.simulate import simulate_scattering
from scivit.tasks.pretrain import PRETRAIN_METHODS, PretrainModelConfig
from scivit.transforms import LogIntensity, make_sample

ENCODER = "method.autoencoder.encoder."
TINY = {"decoder_dim": 32, "decoder_depth": 1, "decoder_heads": 4}


def test_packaged_recipe_has_the_paper_settings():
    recipe = load_pretrain_recipe("scatter-mae-pretrain")
    method, train = recipe.method, recipe.train
    assert isinstance(method, MAEOptions)
    assert method.mask_ratio == 0.75 and method.norm_pix_loss
    assert (method.decoder_dim, method.decoder_depth, method.decoder_heads) == (512, 8, 16)
    assert train.lr == pytest.approx(1.5e-4 * recipe.data.batch_size / 256)
    assert train.betas == (0.9, 0.95) and train.weight_decay == 0.05
    assert (train.warmup_epochs, train.max_epochs) == (40, 400)
    assert recipe.model.backbone == "vit_small_patch14_dinov2"
    assert method.views.size == recipe.model.img_size == 224 and 224 % 14 == 0


def test_unknown_and_invalid_options_name_the_key():
    with pytest.raises(
        ConfigError, match=r"unknown key 'method.mask_ratioo'; did you mean 'method.mask_ratio'"
    ):
        load_pretrain_recipe("scatter-mae-pretrain", ["method.mask_ratioo=0.5"])
    with pytest.raises(ConfigError, match=r"did you mean 'method.decoder_depth'"):
        load_pretrain_recipe("scatter-mae-pretrain", ["method.decoder_deph=4"])
    with pytest.raises(ConfigError, match=r"invalid value for 'method.mask_ratio'"):
        load_pretrain_recipe("scatter-mae-pretrain", ["method.mask_ratio=1.0"])
    with pytest.raises(ConfigError, match=r"'train.betas'.*\[0, 1\)"):
        load_pretrain_recipe("scatter-mae-pretrain", ["train.betas=[0.9, 1.5]"])
    with pytest.raises(ConfigError, match=r"views of 96 px do not fit.*largest allowed view is 64"):
        pretrain_recipe_from_dict(
            {
                "data": {"source": "x", "image_size": 64},
                "method": {"name": "mae", "views": {"size": 96}},
            }
        )


def test_saved_recipe_round_trips():
    recipe = load_pretrain_recipe("scatter-mae-pretrain", ["method.mask_ratio=0.6"])
    again = pretrain_recipe_from_dict(recipe.model_dump(mode="json"), "config.yaml")
    assert again == recipe and again.method.mask_ratio == 0.6


def build(backbone="test_vit", size=32, **model):
    config = PretrainModelConfig(backbone=backbone, drop_path_rate=0.0, **model)
    return PRETRAIN_METHODS.get("mae").build(MAEOptions(**TINY), config, size)


def test_non_vit_backbone_and_untiled_views_are_model_errors():
    with pytest.raises(ModelError, match=r"MAE needs a patch-token ViT backbone.*'test_resnet'"):
        build("test_resnet")
    with pytest.raises(ModelError, match=r"'test_vit' cannot take 40-px views.*divisible by patch"):
        build(size=40, img_size=32)


def frame_with_band(size=48):
    counts = np.random.default_rng(0).poisson(50, (size, size)).astype(np.float32)
    mask = np.zeros((size, size), dtype=bool)
    mask[20:28, :] = True
    return LogIntensity()(make_sample(counts, mask=mask, beam_center=(24.0, 24.0)))


def test_one_view_with_its_mask_and_no_gamma_or_blur():
    options = MAEOptions(views={"size": 32})
    views = PRETRAIN_METHODS.get("mae").views(options, [{"name": "log"}])
    names = [type(step).__name__ for step in views.global_views[0]]
    assert names == [
        "RandResizedCrop",
        "Unlog",
        "RandIntensityScale",
        "RandPoisson",
        "LogIntensity",
        "Standardize",
        "ToTensor",
    ]
    assert views.n_local == 0 and views.needs_beam_center
    image, mask = views.set_random_state(0)(frame_with_band())
    assert tuple(image.shape) == (1, 32, 32) and mask.dtype == torch.bool
    assert tuple(mask.shape) == (32, 32) and mask.any() and not mask.all()
    assert torch.all(image[0][mask] == 0)
    valid = image[0][~mask]
    assert float(valid.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(valid.std(unbiased=False)) == pytest.approx(1.0, abs=1e-3)


def loss_of(method, images, invalid, seed=0):
    torch.manual_seed(seed)
    return method.training_loss([images, invalid], epoch=0.0)["loss"].detach()


def test_invalid_pixels_are_zeroed_and_left_out_of_the_loss():
    method = build()
    images = torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    invalid = torch.zeros(2, 32, 32, dtype=torch.bool)
    invalid[:, 4:20, 8:14] = True
    invalid[1, 24:, :] = True
    changed = images.clone()
    changed[invalid[:, None]] = 1e3
    loss = loss_of(method, images, invalid)
    assert math.isfinite(float(loss)) and float(loss) > 0
    assert torch.equal(loss, loss_of(method, changed, invalid))

    zeroed = images.masked_fill(invalid[:, None], 0.0)
    torch.manual_seed(0)
    with_mask = method.autoencoder(zeroed, pixel_mask=invalid).loss
    torch.manual_seed(0)
    without_mask = method.autoencoder(zeroed).loss
    assert torch.equal(loss, with_mask)
    assert not torch.isclose(loss, without_mask)
    nothing = torch.zeros_like(invalid)
    torch.manual_seed(0)
    assert torch.equal(loss_of(method, images, nothing), method.autoencoder(images).loss)


def test_features_and_export_are_the_encoders():
    method = build()
    encoder = method.export_backbone()
    assert isinstance(method, MAEMethod) and method.backbone_file == "encoder_backbone.safetensors"
    assert encoder is method.autoencoder.encoder
    images = torch.randn(2, 1, 32, 32)
    method.eval()
    expected = encoder.forward_head(encoder.forward_features(images), pre_logits=True)
    torch.testing.assert_close(method.features(images), expected)
    assert method.after_optimizer_step(0, 10) == {}


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    root = tmp_path_factory.mktemp("mae")
    return root, simulate_scattering(root / "u", n=12, size=48, unlabelled=True, progress=False)


def recipe(frames, epochs):
    root, unlabelled = frames
    return load_pretrain_recipe(
        "scatter-mae-pretrain",
        [
            f"data.source={unlabelled}",
            "data.image_size=48",
            "data.batch_size=4",
            "data.num_workers=0",
            f"data.cache_dir={root}/cache",
            "model.backbone=test_vit",
            "model.pretrained=null",
            "model.img_size=null",
            "method.decoder_dim=32",
            "method.decoder_depth=1",
            "method.decoder_heads=4",
            "method.views.size=32",
            "train.lr=1e-3",
            "train.warmup_epochs=0",
            f"train.max_epochs={epochs}",
            "train.precision=32-true",
            "train.accelerator=cpu",
            "train.progress_bar=false",
            "train.log_every_n_steps=1",
            "train.checkpoint_every_n_epochs=1",
            f"train.out_dir={root}/runs",
            "train.run_name=mae",
        ],
    )


class AtStart(L.Callback):
    """Records the step, epoch and encoder when training (re)starts, and the first batch."""

    def on_train_start(self, trainer, pl_module):
        encoder = pl_module.method.autoencoder.encoder
        self.encoder = {k: v.clone() for k, v in encoder.state_dict().items()}
        self.step, self.epoch = trainer.global_step, trainer.current_epoch
        self.batch = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.batch is None:
            self.batch = [part.clone() for part in batch]


def encoder_of(checkpoint):
    state = checkpoint["state_dict"]
    return {k[len(ENCODER) :]: v for k, v in state.items() if k.startswith(ENCODER)}


def test_pretrain_exports_the_encoder_and_resumes(frames):
    first_recipe = recipe(frames, epochs=1)
    start = AtStart()
    first = pretrain(first_recipe, callbacks=[start])
    run = first.run_dir
    assert first.backbone == run / "encoder_backbone.safetensors"
    assert (run / "checkpoints" / "epoch000.ckpt").is_file()
    images, invalid = start.batch
    assert tuple(images.shape) == (4, 1, 32, 32) and tuple(invalid.shape) == (4, 32, 32)
    assert invalid.dtype == torch.bool and invalid.any()
    assert torch.all(images[invalid[:, None]] == 0)

    saved = torch.load(first.checkpoint, map_location="cpu", weights_only=True)
    assert saved["global_step"] == 3 and saved["scivit"]["task"] == "pretrain"
    assert saved["scivit"]["recipe"]["method"]["name"] == "mae"
    trained = encoder_of(saved)
    assert any(not torch.equal(trained[k], start.encoder[k]) for k in trained)
    exported = load_file(first.backbone)
    assert exported.keys() == trained.keys()
    assert all(torch.equal(exported[k], trained[k]) for k in trained)
    with safe_open(first.backbone, "pt") as handle:
        meta = handle.metadata()
    assert (meta["backbone"], meta["method"], meta["img_size"]) == ("test_vit", "mae", "32")
    loaded = create_backbone("test_vit", pretrained=str(first.backbone), img_size=32).state_dict()
    assert all(torch.equal(loaded[k], trained[k]) for k in trained)

    with open(run / "logs" / "version_0" / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    losses = [float(r["train/loss_epoch"]) for r in rows if r.get("train/loss_epoch")]
    assert len(losses) == 1 and 0 < losses[0] < 10
    valid = [float(r["train/valid_pixels_step"]) for r in rows if r.get("train/valid_pixels_step")]
    assert valid and all(0 < value < 1 for value in valid)

    resume = AtStart()
    second = pretrain(recipe(frames, epochs=2), callbacks=[resume])
    assert (resume.step, resume.epoch) == (3, 1)
    assert all(torch.equal(resume.encoder[k], trained[k]) for k in trained)
    resumed = torch.load(second.checkpoint, map_location="cpu", weights_only=True)
    assert resumed["global_step"] == 6 and (run / "checkpoints" / "epoch001.ckpt").is_file()
    final = load_file(second.backbone)
    assert all(torch.equal(final[k], v) for k, v in encoder_of(resumed).items())
