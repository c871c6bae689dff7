"""The synthetic-data pipeline's contracts: the grid-npz layout, split disjointness, ONNX weight import
(fine-tuning from, and distilling from, a shipped model)."""

import numpy as np
import pytest
import torch

from rtliver_train.datasets import discover, prepare_cases
from rtliver_train.errors import DataError, TrainingError
from rtliver_train.export import export_onnx
from rtliver_train.models import UNet3d, UNetConfig
from rtliver_train.onnx_weights import load_onnx_into
from rtliver_train.synth import check_disjoint, write_case


def test_grid_npz_cases_are_windowed_on_read_and_resampled_to_another_grid(tmp_path):
    hu = np.full((8, 16, 16), 50.0, np.float16)
    mask = np.zeros((8, 16, 16), np.uint8)
    mask[2:5, 4:9, 4:9] = 1
    write_case(tmp_path / "cases", "synth-ircadb-2-v000", hu, mask)
    cases = discover("grid-npz", tmp_path)
    assert [c.id for c in cases] == ["synth-ircadb-2-v000"]
    prepared = prepare_cases(cases, (8, 16, 16), (-200.0, 300.0))[0]
    assert np.allclose(prepared.image, (50 - 50) / 250) and prepared.mask.sum() == mask.sum()
    coarse = prepare_cases(cases, (4, 8, 8), (-200.0, 300.0))[0]  # a coarser grid: the contract's resampling
    assert coarse.image.shape == coarse.mask.shape == (4, 8, 8)
    assert 0.5 * mask.sum() <= 8 * coarse.mask.sum() <= 2 * mask.sum() and np.allclose(coarse.image, 0.0)
    write_case(tmp_path / "cases", "synth-ircadb-3-v000", hu, mask[:4])
    with pytest.raises(DataError, match="mask of"):
        prepare_cases(discover("grid-npz", tmp_path), (8, 16, 16), (-200.0, 300.0))


def test_split_sharing_a_patient_between_train_and_validation_is_refused():
    check_disjoint({"train": ["synth-ircadb-2-v000", "totalseg-a-v001"], "val": ["ircadb-17"], "test": ["ircadb-17"]})
    with pytest.raises(DataError, match="shares patients"):
        check_disjoint({"train": ["synth-ircadb-17-v000"], "val": ["ircadb-17"], "test": ["ircadb-17"]})


def perturbed_network(seed: int) -> UNet3d:
    """A small network with non-trivial norms and biases, so a weight that loads wrongly changes its output."""
    torch.manual_seed(seed)
    network = UNet3d(UNetConfig(channels=(4, 8, 10, 12))).eval()
    for parameter in network.parameters():
        parameter.data.add_(0.1 * torch.randn_like(parameter))
    return network


def test_onnx_weights_load_back_into_the_same_function(tmp_path):
    source = perturbed_network(0)
    path = tmp_path / "m.onnx"
    export_onnx(source, path)
    target = UNet3d(UNetConfig(channels=(4, 8, 10, 12))).eval()
    load_onnx_into(target, path)
    x = torch.randn(1, 1, 16, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(TrainingError, match="channels"):
        load_onnx_into(UNet3d(UNetConfig(channels=(4, 8, 16, 40))), path)


def test_an_exported_model_teaches_as_a_frozen_teacher(tmp_path):
    """KD from a shipped model: --teacher_checkpoint=models/X.onnx rebuilds the same function, frozen."""
    from rtliver_train.engine import load_frozen

    source = perturbed_network(1)
    path = tmp_path / "teacher.onnx"
    export_onnx(source, path)
    teacher = load_frozen(str(path), "teacher", torch.device("cpu"))
    assert teacher.config.channels == (4, 8, 10, 12)
    assert not any(p.requires_grad for p in teacher.parameters()) and not teacher.training
    x = torch.randn(1, 1, 16, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(teacher(x), source(x), rtol=1e-5, atol=1e-5)


def test_a_grid_npz_case_evaluates_on_its_own_grid(tmp_path):
    from rtliver_train.datasets import load_case

    hu = np.full((8, 16, 16), 50.0, np.float16)
    mask = np.zeros((8, 16, 16), np.uint8)
    mask[2:5, 4:9, 4:9] = 1
    write_case(tmp_path / "cases", "synth-ircadb-2-v000", hu, mask)
    image, truth = load_case(discover("grid-npz", tmp_path)[0])
    assert image.voxels.shape == truth.shape == (8, 16, 16) and image.spacing == (1.0, 1.0, 1.0)
    assert truth.sum() == mask.sum()


def _small_anatomy():
    from rtliver_train.synth_anatomy import AIR, BODY, BONE, LIVER, Anatomy
    labels = np.full((48, 64, 64), AIR, np.int16)
    labels[:, 8:56, 6:58] = BODY
    labels[8:40, 14:46, 10:40] = LIVER
    labels[:, 44:50, 28:36] = BONE
    return Anatomy("ircadb-2", labels, (3.0, 3.0, 2.5))  # a 192 mm field


def _liver_width(mask: np.ndarray) -> int:
    columns = np.nonzero(mask.any(axis=(0, 1)))[0]
    return int(columns[-1] - columns[0] + 1)


def test_a_narrow_field_shows_the_liver_larger_and_cuts_the_body_sides():
    """`--narrow_fields`: a 120 mm field of a 192 mm anatomy zooms in (the liver wider on the grid than at any
    drawn scale, at most 1 / 0.85) and the body reaches both sides of the image, as a small-field
    reconstruction shows it."""
    from rtliver_train.synth import synth_case
    anatomy = _small_anatomy()
    plain_hu, plain_mask = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0)
    hu, mask = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0, field_mm=120.0)
    assert _liver_width(mask) >= 1.3 * _liver_width(plain_mask)
    middle = hu[hu.shape[0] // 2].astype(np.float32)
    assert middle[:, 0].max() > -500 and middle[:, -1].max() > -500  # body, not air, at both sides


def test_a_fatty_liver_is_darker_and_the_rest_of_the_case_unchanged():
    """`--fatty_liver`: the same draws with the liver's parenchyma 60 HU darker: the liver's median drops by
    about that much (blur and noise are the same draws), the mask and the image away from the liver do not
    change."""
    from scipy import ndimage
    from rtliver_train.synth import synth_case
    anatomy = _small_anatomy()
    plain_hu, plain_mask = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0)
    hu, mask = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0, liver_darker_hu=60.0)
    np.testing.assert_array_equal(mask, plain_mask)
    core = ndimage.binary_erosion(mask > 0, iterations=2)
    drop = float(np.median(plain_hu[core].astype(np.float32)) - np.median(hu[core].astype(np.float32)))
    assert 50.0 < drop < 65.0, drop
    far = ~ndimage.binary_dilation(mask > 0, iterations=6)
    np.testing.assert_allclose(hu[far].astype(np.float32), plain_hu[far].astype(np.float32), atol=1.0)


def test_a_slab_holds_only_the_upper_or_the_lower_part_of_the_liver():
    """`--slab_fields`: every draw keeps the liver's top or its bottom, never both, and 30-70 % of its height
    (plus at most 40 mm of margin beyond the kept end); both kinds come up, and only one with `ends`."""
    from rtliver_train.synth import slab_z_range
    liver = np.zeros((200, 4, 4), bool)
    liver[50:150] = True  # rows 50..149, 100 rows at 1 mm
    kinds = set()
    for seed in range(40):
        low, high = slab_z_range(liver, np.random.default_rng(seed), 1.0)
        upper, lower = high >= 150, low <= 50
        assert upper != lower, (low, high)
        kinds.add("upper" if upper else "lower")
        kept = min(high, 150) - max(low, 50)
        assert 29 <= kept <= 71, (low, high)
        assert (high - 150 if upper else 50 - low) <= 40
    assert kinds == {"upper", "lower"}
    for ends in ("upper", "lower"):
        for seed in range(10):
            low, high = slab_z_range(liver, np.random.default_rng(seed), 1.0, ends)
            assert (high >= 150) == (ends == "upper") and (low <= 50) == (ends == "lower"), (ends, low, high)


def test_a_short_slab_is_padded_as_the_core_pads_it():
    """Like paddedBox in field-of-view.ts: up to 140 mm by repeating the end slices, evenly (the extra one at
    the head), at most twice the series' own slices added; a series of 140 mm or more is left alone."""
    from rtliver_train.synth import pad_like_the_core
    hu = np.arange(30, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)
    liver = np.zeros((30, 2, 2), bool)
    liver[-1] = True
    padded_hu, padded_liver = pad_like_the_core(hu, liver, 2.0)  # 60 mm -> 70 slices of 2 mm
    assert padded_hu.shape[0] == 70
    assert (padded_hu[:20] == 0).all() and (padded_hu[50:] == 29).all()
    np.testing.assert_array_equal(padded_hu[20:50], hu)
    assert padded_liver[50:].all() and not padded_liver[:49].any()
    assert pad_like_the_core(hu, liver, 1.0)[0].shape[0] == 90  # 30 mm: capped at 3 x 30 slices
    assert pad_like_the_core(hu, liver, 5.0)[0] is hu  # 150 mm


def test_a_slab_case_cuts_the_liver_at_one_end_of_the_grid_and_keeps_every_other_draw():
    """synth_case with a slab generator: the liver reaches the grid's first or last slice (the cut), and the
    same case without it (same main generator) is unchanged by the option's existence."""
    from rtliver_train.synth import synth_case
    anatomy = _small_anatomy()
    plain = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0)
    again = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0, slab=None)
    np.testing.assert_array_equal(plain[0], again[0])
    for seed in range(3):
        _, mask = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0, slab=(np.random.default_rng(seed), "both"))
        rows = np.nonzero(mask.any(axis=(1, 2)))[0]
        assert rows[0] == 0 or rows[-1] == mask.shape[0] - 1, rows


def _abdomen_with_bowel():
    from rtliver_train.synth_anatomy import AIR, BOWEL, FAT, LIVER
    labels = np.full((40, 64, 64), AIR, np.int16)
    labels[:, 4:60, 4:60] = FAT
    labels[4:36, 8:30, 8:30] = LIVER
    labels[4:36, 34:58, 30:58] = BOWEL  # 32 x 24 x 28 voxels of 2.5 x 3 x 3 mm: about 20 loops of 30 mm
    return labels, (3.0, 3.0, 2.5)


def test_bowel_loops_are_walled_cells_whose_contents_are_not_the_livers_intensity():
    """`--bowel_loops`: the bowel class split into several loops, a wall between them (not only at the class's
    border), and what fills them below any liver's mean (45 HU at the least) or oral contrast (150 HU on);
    nothing drawn outside the class."""
    from rtliver_train.synth import BOWEL_WALL_HU, bowel_loops
    from rtliver_train.synth_anatomy import BOWEL
    labels, spacing = _abdomen_with_bowel()
    bowel = labels == BOWEL
    for seed in range(5):
        image = bowel_loops(labels, np.random.default_rng(seed), spacing)
        assert np.isnan(image[~bowel]).all() and np.isfinite(image[bowel]).all()
        in_wall_range = image[bowel & (image >= BOWEL_WALL_HU[0]) & (image <= BOWEL_WALL_HU[1])]
        values, counts = np.unique(in_wall_range, return_counts=True)
        wall_value = values[counts.argmax()]  # one value for the whole wall; faeces' values vary voxel to voxel
        core = bowel.copy()
        core[[4, 35]], core[:, [34, 57]], core[:, :, [30, 57]] = False, False, False  # inside the class's border
        inner_walls = core & (image == wall_value)
        assert inner_walls.sum() > 200, inner_walls.sum()  # walls between loops, inside the block
        contents = image[core & ~inner_walls]
        assert ((contents < 45) | (contents >= 150)).mean() > 0.95


def test_bowel_loops_change_the_image_near_the_bowel_only():
    """The option's draws come from their own generator: with it, the same case differs only in and next to
    the bowel (blur), and the liver and everything away from the bowel are the same to the noise's last draw."""
    from scipy import ndimage
    from rtliver_train.synth import render
    from rtliver_train.synth_anatomy import BOWEL
    labels, spacing = _abdomen_with_bowel()
    plain = render(labels, np.random.default_rng(7), spacing)
    loops = render(labels, np.random.default_rng(7), spacing, bowel=np.random.default_rng(1))
    near = ndimage.binary_dilation(labels == BOWEL, iterations=4)
    np.testing.assert_allclose(loops[~near], plain[~near], atol=1.0)
    assert np.abs(loops[labels == BOWEL] - plain[labels == BOWEL]).mean() > 30
