"""Batched augmentations against slow per-sample reference implementations."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from supremix.data.augment import (
    FrameJitter,
    RandomAffine2d,
    RandomAffine3d,
    RandomBrightnessContrast,
    RandomColorJitter,
    RandomFlip,
    RandomGrayscale,
    RandomPadCrop,
    RandomResizedCrop2d,
    RandomScaledPadCrop,
    RandomScaleShift,
    default_augmentation,
)


def bilinear_zeros(image: np.ndarray, row: float, col: float) -> float:
    """Bilinear value of a 2-D array at fractional (row, col), zero outside the pixels."""
    r0, c0 = math.floor(row), math.floor(col)
    total = 0.0
    for r, wr in ((r0, 1 - (row - r0)), (r0 + 1, row - r0)):
        for c, wc in ((c0, 1 - (col - c0)), (c0 + 1, col - c0)):
            if 0 <= r < image.shape[0] and 0 <= c < image.shape[1]:
                total += wr * wc * image[r, c]
    return total


def trilinear_zeros(volume: np.ndarray, z: float, y: float, x: float) -> float:
    z0, y0, x0 = math.floor(z), math.floor(y), math.floor(x)
    total = 0.0
    for k, wk in ((z0, 1 - (z - z0)), (z0 + 1, z - z0)):
        for j, wj in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
            for i, wi in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                if all(0 <= a < n for a, n in zip((k, j, i), volume.shape, strict=True)):
                    total += wk * wj * wi * volume[k, j, i]
    return total


def rotate_2d_reference(image: np.ndarray, angle: float, zoom: float) -> np.ndarray:
    """Output pixel at centred position u takes the input at R(angle) u / zoom."""
    height, width = image.shape
    out = np.zeros_like(image)
    cos, sin = math.cos(angle), math.sin(angle)
    for i in range(height):
        for j in range(width):
            ux, uy = j + 0.5 - width / 2, i + 0.5 - height / 2
            px, py = (cos * ux - sin * uy) / zoom, (sin * ux + cos * uy) / zoom
            out[i, j] = bilinear_zeros(image, py + height / 2 - 0.5, px + width / 2 - 0.5)
    return out


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), height=st.integers(3, 7), width=st.integers(3, 7))
def test_affine_2d_matches_pixel_space_rotation_and_zoom(seed, height, width):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(3, 1, height, width, generator=g, dtype=torch.float64)
    augment = RandomAffine2d(degrees=40.0, zoom=(0.7, 1.3))
    params = augment.sample(3, g, x.device)
    out = augment.apply(x, params)
    for b in range(3):
        expected = rotate_2d_reference(
            x[b, 0].numpy(), float(params["angle"][b]), float(params["zoom"][b])
        )
        np.testing.assert_allclose(out[b, 0].numpy(), expected, atol=1e-6)


def test_affine_2d_by_90_degrees_is_rot90_and_default_range_is_10_degrees():
    x = torch.arange(25.0).reshape(1, 1, 5, 5)
    turned = RandomAffine2d(degrees=(90.0, 90.0))(x)
    torch.testing.assert_close(turned, torch.rot90(x, 1, dims=(-2, -1)), atol=1e-5, rtol=0)
    angles = RandomAffine2d().sample(2000, torch.Generator().manual_seed(0), "cpu")["angle"]
    assert angles.abs().max() <= math.radians(10) and angles.abs().max() > math.radians(9.9)


def rotation_3d_reference(ax: float, ay: float, az: float) -> np.ndarray:
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def test_affine_3d_matches_voxel_space_rotation_and_zoom():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(2, 1, 4, 5, 6, generator=g, dtype=torch.float64)
    augment = RandomAffine3d(degrees=30.0, zoom=(0.8, 1.2))
    params = augment.sample(2, g, x.device)
    out = augment.apply(x, params)
    depth, height, width = x.shape[-3:]
    for b in range(2):
        rotation = rotation_3d_reference(*params["angles"][b].tolist()) / float(params["zoom"][b])
        volume = x[b, 0].numpy()
        for k in range(depth):
            for j in range(height):
                for i in range(width):
                    u = np.array([i + 0.5 - width / 2, j + 0.5 - height / 2, k + 0.5 - depth / 2])
                    px, py, pz = rotation @ u
                    z, y, x_ = pz + depth / 2 - 0.5, py + height / 2 - 0.5, px + width / 2 - 0.5
                    expected = trilinear_zeros(volume, z, y, x_)
                    assert out[b, 0, k, j, i].item() == pytest.approx(expected, abs=1e-6)


def test_resized_crop_matches_box_sampling():
    g = torch.Generator().manual_seed(5)
    x = torch.rand(4, 2, 9, 7, generator=g, dtype=torch.float64)
    augment = RandomResizedCrop2d((5, 6), scale=(0.2, 1.0))
    params = augment.sample(4, g, x.device)
    out = augment.apply(x, params)
    height, width = 9, 7
    for b in range(4):
        area = float(params["area"][b]) * height * width
        ratio = float(params["ratio"][b])
        box_w = min(1.0, math.sqrt(area * ratio) / width)
        box_h = min(1.0, math.sqrt(area / ratio) / height)
        cx = float(params["centre"][b, 0]) * (1 - box_w)
        cy = float(params["centre"][b, 1]) * (1 - box_h)
        for i in range(5):
            for j in range(6):
                px = box_w * ((2 * j + 1) / 6 - 1) + cx
                py = box_h * ((2 * i + 1) / 5 - 1) + cy
                col, row = ((px + 1) * width - 1) / 2, ((py + 1) * height - 1) / 2
                for c in range(2):
                    expected = bilinear_zeros(x[b, c].numpy(), row, col)
                    assert out[b, c, i, j].item() == pytest.approx(expected, abs=1e-6)


def test_resized_crop_of_the_whole_image_at_its_size_is_identity():
    x = torch.rand(3, 1, 6, 6)
    out = RandomResizedCrop2d(6, scale=(1.0, 1.0), ratio=(1.0, 1.0))(x)
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)


def test_flip_follows_each_samples_coin():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(16, 1, 3, 4, 5, generator=g)
    augment = RandomFlip(3, axes=(-3, -1), p=0.5)
    params = augment.sample(16, g, x.device)
    out = augment.apply(x, params)
    for b in range(16):
        expected = x[b]
        if params["flip"][b, 0]:
            expected = expected.flip(-3)
        if params["flip"][b, 1]:
            expected = expected.flip(-1)
        assert torch.equal(out[b], expected)
    assert 0 < params["flip"].sum() < params["flip"].numel()
    assert torch.equal(RandomFlip(2, p=1.0)(x[:, 0]), x[:, 0].flip(-1))
    assert torch.equal(RandomFlip(2, p=0.0)(x[:, 0]), x[:, 0])


def test_pad_crop_matches_slicing_a_padded_array():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(6, 2, 5, 4, generator=g)
    augment = RandomPadCrop(3)
    params = augment.sample(6, g, x.device)
    out = augment.apply(x, params)
    for b in range(6):
        padded = np.pad(x[b].numpy(), ((0, 0), (3, 3), (3, 3)))
        r, c = params["offset"][b].tolist()
        assert 0 <= r <= 6 and 0 <= c <= 6
        np.testing.assert_array_equal(out[b].numpy(), padded[:, r : r + 5, c : c + 4])


@pytest.mark.parametrize(
    ("height", "width", "padding"),
    [(520, 400, 16), (224, 224, 16), (1024, 800, 16), (112, 150, 8), (48, 64, 3), (5, 4, 0)],
)
def test_scaled_pad_crop_pads_16_px_from_224_px_and_proportionally_below(height, width, padding):
    # the documented rule written out: min(16, round(16 * shorter side / 224))
    assert min(16, math.floor(16 * min(height, width) / 224 + 0.5)) == padding
    augment = RandomScaledPadCrop()
    assert augment.padding_for((2, 1, height, width)) == padding
    g = torch.Generator().manual_seed(5)
    x = torch.rand(4, 1, height, width, generator=g)
    params = augment.sample(4, g, x.device)
    out = augment.apply(x, params)
    for b in range(4):
        r, c = (math.floor(u * (2 * padding + 1)) for u in params["position"][b].tolist())
        padded = np.pad(x[b].numpy(), ((0, 0), (padding, padding), (padding, padding)))
        np.testing.assert_array_equal(out[b].numpy(), padded[:, r : r + height, c : c + width])


def test_scaled_pad_crop_shifts_small_images_by_a_few_pixels_only():
    ones = torch.ones(64, 1, 48, 64)
    out = default_augmentation("image2d").augmentations[-1](ones, torch.Generator().manual_seed(1))
    for image in out[:, 0]:
        rows, cols = torch.nonzero(image, as_tuple=True)
        assert len(set(rows.tolist())) >= 45 and len(set(cols.tolist())) >= 61
    blank_rows = (out[:, 0].sum(dim=2) == 0).sum(dim=1)
    assert blank_rows.max() == 3  # some sample takes an extreme offset among 64 draws


def test_video_pad_crop_uses_one_window_for_all_frames():
    x = torch.rand(2, 1, 4, 6, 6)
    out = RandomPadCrop(2, spatial_dims=3, axes=(-2, -1))(x, torch.Generator().manual_seed(0))
    for b in range(2):
        padded = np.pad(x[b].numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)))
        windows = [
            (r, c)
            for r in range(5)
            for c in range(5)
            if np.array_equal(out[b].numpy(), padded[:, :, r : r + 6, c : c + 6])
        ]
        assert windows


def test_frame_jitter_matches_clamped_index_loop():
    g = torch.Generator().manual_seed(4)
    x = torch.rand(8, 2, 6, 3, 3, generator=g)
    augment = FrameJitter(max_shift=3)
    params = augment.sample(8, g, x.device)
    out = augment.apply(x, params)
    for b in range(8):
        shift = int(params["shift"][b])
        assert -3 <= shift <= 3
        for t in range(6):
            assert torch.equal(out[b, :, t], x[b, :, min(max(t + shift, 0), 5)])


def test_brightness_contrast_and_scale_shift_follow_their_formulas():
    g = torch.Generator().manual_seed(6)
    x = torch.rand(5, 1, 4, 4, generator=g, dtype=torch.float64)
    augment = RandomBrightnessContrast(0.3, 0.5)
    params = augment.sample(5, g, x.device)
    out = augment.apply(x, params)
    for b in range(5):
        bright = x[b] * params["brightness"][b].item()
        expected = (bright - bright.mean()) * params["contrast"][b].item() + bright.mean()
        torch.testing.assert_close(out[b], expected)
    assert RandomBrightnessContrast(2.0, 2.0, clip=(0.0, 1.0))(x, g).max() <= 1.0
    volume = torch.rand(3, 1, 2, 3, 4, dtype=torch.float64)
    shift_augment = RandomScaleShift(0.1, 0.2)
    params = shift_augment.sample(3, g, volume.device)
    out = shift_augment.apply(volume, params)
    for b in range(3):
        expected = volume[b] * (1 + params["scale"][b].item()) + params["shift"][b].item()
        torch.testing.assert_close(out[b], expected)


def luma(x: torch.Tensor) -> torch.Tensor:
    return 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]


def test_colour_jitter_keeps_luma_under_hue_rotation_and_full_turn_is_identity():
    x = torch.rand(4, 3, 5, 5, dtype=torch.float64)
    jitter = RandomColorJitter(clip=None)
    ones = torch.ones(4, dtype=torch.float64)
    hue = torch.tensor([0.1, -0.3, 0.25, 0.5], dtype=torch.float64)
    params = {"brightness": ones, "contrast": ones, "saturation": ones, "hue": hue}
    rotated = jitter.apply(x, params)
    torch.testing.assert_close(luma(rotated), luma(x))
    assert not torch.allclose(rotated, x)
    full_turn = jitter.apply(x, dict(params, hue=torch.ones(4, dtype=torch.float64)))
    torch.testing.assert_close(full_turn, x)
    gray = jitter.apply(x, dict(params, saturation=0 * ones, hue=0 * hue))
    for c in range(3):
        torch.testing.assert_close(gray[:, c], luma(x))


def test_colour_jitter_with_p_zero_is_identity_and_grayscale_uses_luma():
    x = torch.rand(6, 3, 4, 4)
    torch.testing.assert_close(RandomColorJitter(p=0.0)(x), x)
    gray = RandomGrayscale(p=1.0)(x)
    for c in range(3):
        torch.testing.assert_close(gray[:, c], luma(x))
    single = torch.rand(2, 1, 4, 4)
    assert torch.equal(RandomGrayscale(p=1.0)(single), single)


@pytest.mark.parametrize(
    ("modality", "shape"),
    [("image2d", (4, 1, 40, 36)), ("volume3d", (2, 1, 6, 7, 8)), ("video", (3, 1, 6, 32, 32))],
)
def test_default_augmentations_are_reproducible_per_sample_and_keep_shape(modality, shape):
    augment = default_augmentation(modality)
    x = torch.rand(1, *shape[1:]).expand(shape).contiguous()
    first = augment(x, torch.Generator().manual_seed(11))
    again = augment(x, torch.Generator().manual_seed(11))
    other = augment(x, torch.Generator().manual_seed(12))
    assert first.shape == x.shape
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.equal(first[0], first[1])  # identical inputs, independent parameters
    single = augment(x[0], torch.Generator().manual_seed(11))
    assert torch.equal(single, augment(x[:1], torch.Generator().manual_seed(11))[0])


def test_default_augmentation_choices_and_errors():
    assert default_augmentation("timeseries") is None
    assert default_augmentation("tabular") is None
    simclr = default_augmentation("image2d", style="simclr", image_size=8)
    assert simclr(torch.rand(2, 3, 12, 10)).shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"style='simclr' needs image_size"):
        default_augmentation("image2d", style="simclr")
    with pytest.raises(ValueError, match=r"unknown modality 'audio'"):
        default_augmentation("audio")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"RandomAffine2d expects \(B, C, 2 spatial axes\)"):
        RandomAffine2d()(torch.rand(4, 4))
    with pytest.raises(TypeError, match=r"expects a float tensor, got torch.uint8"):
        RandomFlip(2)(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"axes must be negative spatial axes"):
        RandomFlip(2, axes=(1,))
