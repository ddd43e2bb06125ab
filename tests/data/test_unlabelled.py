"""Unlabelled sources (manifest, folder, list, stack) become a label-free manifest that the
frame cache accepts, and the data module serves batches of views (and of their masks)."""

import warnings

import numpy as np
import pytest
import tifffile
import torch
from tiny_data import write_nexus

from scivit.data.unlabelled import UnlabelledConfig, UnlabelledDataModule, index_frames
from scivit.errors import ConfigError, DataError
from scivit.simulate import simulate_scattering
from scivit.transforms.views import ViewOptions, build_multicrop


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("unlabelled")
    return simulate_scattering(root / "sim", n=12, size=48, unlabelled=True, progress=False)


def counts(n, size=16, seed=0):
    return np.random.default_rng(seed).poisson(20, (n, size, size)).astype(np.int32)


def test_simulated_unlabelled_manifest(simulated):
    manifest = index_frames(simulated)
    assert len(manifest) == 12
    assert manifest.frames == list(range(12))
    assert manifest.targets.shape == (12, 0) and manifest.label_names == []
    assert all(center is not None for center in manifest.beam_centers)
    assert manifest.beam_centers[0] == pytest.approx((41.83, 19.847))
    assert manifest.groups[0] == "sample_000000"


def test_labelled_manifest_labels_are_ignored(tmp_path):
    labelled = simulate_scattering(tmp_path / "l", n=4, size=32, progress=False)
    manifest = index_frames(labelled)
    assert len(manifest) == 4 and manifest.targets.shape == (4, 0)


def test_folder_is_searched_recursively_and_stacks_are_expanded(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    write_nexus(tmp_path / "a" / "stack.nxs", counts(3))
    tifffile.imwrite(tmp_path / "a" / "b" / "one.tif", counts(1)[0])
    (tmp_path / "notes.txt").write_text("not an image")
    manifest = index_frames(tmp_path, beam_center=(8.0, 8.0))
    assert [path.name for path in manifest.paths] == ["one.tif"] + ["stack.nxs"] * 3
    assert manifest.frames == [None, 0, 1, 2]
    assert manifest.beam_centers == [(8.0, 8.0)] * 4
    assert len(manifest.sha256) == 64


def test_unreadable_files_are_skipped_with_a_warning(tmp_path):
    tifffile.imwrite(tmp_path / "good.tif", counts(1)[0])
    (tmp_path / "bad.tif").write_bytes(b"this is no tiff")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable file.*bad\.tif"):
        manifest = index_frames(tmp_path)
    assert [path.name for path in manifest.paths] == ["good.tif"]


def test_list_file_and_single_stack(tmp_path):
    write_nexus(tmp_path / "s.h5", counts(5))
    tifffile.imwrite(tmp_path / "x.tif", counts(1)[0])
    listing = tmp_path / "frames.txt"
    listing.write_text("# frames\nx.tif\n\ns.h5\n")
    assert len(index_frames(listing)) == 6
    assert index_frames(tmp_path / "s.h5").frames == [0, 1, 2, 3, 4]


def test_empty_and_unreadable_sources_say_what_was_searched(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no readable frames; searched recursively.*found 0"):
        index_frames(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.edf").write_bytes(b"garbage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match=r"found 1 candidate file\(s\), none readable"):
            index_frames(tmp_path / "bad")
    with pytest.raises(DataError, match="data source not found"):
        index_frames(tmp_path / "missing")
    listing = tmp_path / "list.txt"
    listing.write_text("nowhere.tif\n")
    with pytest.raises(DataError, match="line 1: file not found"):
        index_frames(listing)


def views(n_local=2):
    options = ViewOptions(global_size=32, local_size=16, n_local=n_local)
    return build_multicrop(options, [{"name": "fix_dead_pixels"}, {"name": "log"}])


def config(source, tmp_path, **changes):
    values = {
        "source": str(source),
        "image_size": 48,
        "preprocess": [{"name": "fix_dead_pixels"}, {"name": "log"}],
        "batch_size": 4,
        "num_workers": 0,
        "cache_dir": str(tmp_path / "cache"),
        **changes,
    }
    return UnlabelledConfig(**values)


def test_data_module_serves_lists_of_view_batches_from_the_cache(simulated, tmp_path):
    module = UnlabelledDataModule(config(simulated, tmp_path), views())
    batch = next(iter(module.train_dataloader()))
    assert [tuple(view.shape) for view in batch] == [(4, 1, 32, 32)] * 2 + [(4, 1, 16, 16)] * 2
    assert all(torch.isfinite(view).all() for view in batch)
    caches = list((tmp_path / "cache").iterdir())
    assert len(caches) == 1 and (caches[0] / "images.f16").is_file()
    assert len(module.train_dataloader()) == 3


def test_data_module_batches_carry_the_view_masks(simulated, tmp_path):
    options = ViewOptions(global_size=32, n_local=0, gamma=None, blur_sigma=None)
    views = build_multicrop(options, [{"name": "mask_beamstop"}, {"name": "log"}], 1, True)
    preprocess = [{"name": "mask_beamstop"}, {"name": "log"}]
    module = UnlabelledDataModule(config(simulated, tmp_path, preprocess=preprocess), views)
    images, masks = next(iter(module.train_dataloader()))
    assert tuple(images.shape) == (4, 1, 32, 32) and tuple(masks.shape) == (4, 32, 32)
    assert masks.dtype == torch.bool and masks.any() and not masks.all()
    assert torch.all(images[masks[:, None]] == 0)


def test_data_module_checks(simulated, tmp_path):
    with pytest.raises(DataError, match="12 frames are fewer than one batch"):
        UnlabelledDataModule(config(simulated, tmp_path, batch_size=16), views()).setup()
    with pytest.raises(ConfigError, match="data.in_chans is 3"):
        UnlabelledDataModule(config(simulated, tmp_path, in_chans=3), views()).setup()
    write_nexus(tmp_path / "s.h5", counts(4, size=48))
    no_centre = config(tmp_path / "s.h5", tmp_path, cache=False)
    with pytest.raises(ConfigError, match="no beam centre.*data.beam_center"):
        UnlabelledDataModule(no_centre, views()).setup()
    centred = config(tmp_path / "s.h5", tmp_path, cache=False, beam_center=(24.0, 24.0))
    module = UnlabelledDataModule(centred, views(n_local=0))
    assert len(next(iter(module.train_dataloader()))) == 2


def test_beam_centre_and_poni_are_exclusive(tmp_path):
    cfg = UnlabelledConfig(source="x", beam_center=(1.0, 2.0), poni="a.poni")
    with pytest.raises(ConfigError, match="beam_center or poni"):
        cfg.default_center()
