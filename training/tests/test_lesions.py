"""Synthetic liver lesions (lesions.py): inside the liver only, the target unchanged, every other draw of a
synthetic case unchanged, and visible in the image."""

import numpy as np
from scipy import ndimage

from rtliver_train.lesions import add_lesion_labels, implant, implant_lesions, lesion_blobs, lesion_hu
from rtliver_train.synth import synth_case
from rtliver_train.synth_anatomy import AIR, BODY, BONE, LIVER, TUMOUR, Anatomy


def box_liver(shape=(40, 64, 64)) -> np.ndarray:
    liver = np.zeros(shape, bool)
    liver[5:35, 12:50, 10:54] = True
    return liver


def test_lesions_stay_inside_the_liver_and_some_reach_its_surface():
    liver = box_liver()
    surface = liver & ~ndimage.binary_erosion(liver)
    reached = 0
    for seed in range(12):
        blobs = lesion_blobs(liver, np.random.default_rng(seed), (2.0, 3.0, 3.0), 3)
        assert blobs.any() and not (blobs & ~liver).any()
        reached += int((blobs & surface).any())
    assert reached >= 3  # subcapsular lesions: the failure they are there to teach


def test_lesion_labels_turn_parenchyma_into_tumour_and_nothing_else():
    labels = np.full((40, 64, 64), BODY, np.int16)
    labels[:, :4] = AIR
    labels[20:24, 56:60, 30:34] = BONE
    labels[box_liver()] = LIVER
    out = add_lesion_labels(labels, np.random.default_rng(3), (3.0, 3.0, 2.0), LIVER, TUMOUR, probability=1.0)
    changed = out != labels
    assert changed.any() and np.all(labels[changed] == LIVER) and np.all(out[changed] == TUMOUR)
    untouched = add_lesion_labels(labels, np.random.default_rng(3), (3.0, 3.0, 2.0), LIVER, TUMOUR, probability=0.0)
    assert np.array_equal(untouched, labels)


def test_implanted_lesions_change_the_liver_only_and_are_visible():
    liver = box_liver()
    image = np.where(liver, 110.0, -60.0).astype(np.float32)
    out, count = implant_lesions(image, liver, np.random.default_rng(5), (3.0, 3.0, 2.0), probability=1.0)
    assert count >= 1
    assert np.array_equal(out[~liver], image[~liver])
    assert np.abs(out[liver] - 110.0).max() >= 20  # at least 20 HU from the parenchyma: a lesion a reader sees


def test_implant_returns_the_lesions_mask_inside_the_liver_with_the_asked_size_and_darkness():
    liver = box_liver()
    image = np.where(liver, 110.0, -60.0).astype(np.float32)
    out, lesions = implant(image, liver, np.random.default_rng(2), (3.0, 3.0, 2.0), 2,
                           lambda rng, liver_hu: liver_hu - 60.0, radius_mm=(12.0, 14.0))
    assert lesions.any() and not (lesions & ~liver).any()
    assert np.array_equal(out[~liver], image[~liver])
    # two blobs of 12-14 mm radius (axes 0.7-1.3x, edges wobbled, clipped to the liver) are far from 5 mm ones
    assert 1.0 < lesions.sum() * 3.0 * 3.0 * 2.0 / 1000 < 2 * 4 / 3 * np.pi * (1.3 * 1.4 * 14) ** 3 / 1000
    core = ndimage.binary_erosion(lesions, iterations=2)
    assert abs(float(np.median(out[core])) - 50.0) < 20  # 60 HU below the liver, texture apart


def test_lesion_intensities_span_hypodense_cystic_and_hyperdense():
    rng = np.random.default_rng(0)
    values = np.array([lesion_hu(rng, 120.0) for _ in range(400)])
    assert values.min() >= -10 and (values < 100).mean() > 0.6 and (values > 140).mean() > 0.05
    assert ((values >= 0) & (values <= 25)).mean() > 0.08


def tiny_anatomy() -> Anatomy:
    labels = np.full((48, 64, 64), AIR, np.int16)
    labels[:, 8:56, 6:58] = BODY
    labels[8:40, 14:46, 10:40] = LIVER
    labels[:, 44:50, 28:36] = BONE
    return Anatomy("ircadb-2", labels, (3.0, 3.0, 2.5))


def test_a_case_with_lesions_is_the_same_case_lesions_apart():
    """The lesions draw from a generator of their own: the mask, and the image outside the liver, equal the
    case made without lesions, so a with/without comparison changes one thing."""
    anatomy = tiny_anatomy()
    plain_hu, plain_mask = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0, False, None)
    hu, mask = synth_case(anatomy, np.random.default_rng([0, 1, 2]), 0.0, False, (np.random.default_rng(9), 1.0))
    assert np.array_equal(mask, plain_mask)
    outside = ~np.asarray(mask, bool)
    far = outside & ~ndimage.binary_dilation(~outside, iterations=10)  # blur and resampling spread a lesion's edge
    assert np.allclose(hu[far].astype(np.float32), plain_hu[far].astype(np.float32), atol=1e-2)
    assert np.abs(hu.astype(np.float32) - plain_hu.astype(np.float32)).max() > 10
