"""Echocardiography videos: AVI through OpenCV, resizing and EchoNet-style clip sampling.

Layout of a video tensor everywhere here: ``(C, F, H, W)`` (channels, frames, height, width),
the layout of ``echonet.utils.loadvideo`` (datasets.md §3: OpenCV frames, BGR -> RGB, uint8).

Clip sampling follows EchoNet-Dynamic as used by the AdaCon paper's §IV-B (32 frames, 1 in every 2):
a video shorter than ``length * period`` frames is first extended with zero frames (which are
the mean after normalisation), a clip starts at one of ``F - (length - 1) * period`` positions,
and takes frames ``start + period * arange(length)``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def read_avi(path: str | Path) -> np.ndarray:
    """Decode every frame of an AVI as uint8 ``(3, F, H, W)`` RGB.

    Raises ``ValueError`` naming the file when OpenCV cannot open it or decodes no frame.
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"OpenCV cannot open video {path}")
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise ValueError(f"OpenCV decoded no frame from video {path}")
    return np.stack(frames).transpose(3, 0, 1, 2)


def to_gray(video: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(3, F, H, W)`` to uint8 luma ``(1, F, H, W)`` (OpenCV's ITU-R 601 weights,
    the values ``cv2.COLOR_BGR2GRAY`` gives on the decoded frames)."""
    frames = np.ascontiguousarray(video.transpose(1, 2, 3, 0))
    return np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames])[None]


def write_avi(path: str | Path, frames: np.ndarray, fps: float, codec: str = "MJPG") -> Path:
    """Write uint8 frames ``(F, H, W)`` (grey) or ``(F, H, W, 3)`` (RGB) as an AVI.

    MJPG is the codec of the EchoNet-Dynamic conversion notebook (datasets.md §3).
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4):
        raise ValueError(f"expected uint8 frames (F, H, W[, 3]), got {frames.dtype} {frames.shape}")
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=3)
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, (width, height))
    if not writer.isOpened():
        raise ValueError(f"OpenCV cannot write {codec} video {path}")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return Path(path)


def resize_video(video: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize every frame of a ``(C, F, H, W)`` float tensor to ``size = (H', W')``.

    Area averaging when both sides shrink (the anti-aliased choice), bilinear otherwise.
    """
    if tuple(video.shape[-2:]) == tuple(size):
        return video
    frames = video.permute(1, 0, 2, 3)
    if size[0] <= video.shape[-2] and size[1] <= video.shape[-1]:
        out = F.adaptive_avg_pool2d(frames, size)
    else:
        out = F.interpolate(frames, size=size, mode="bilinear", align_corners=False)
    return out.permute(1, 0, 2, 3).contiguous()


def clip_start_count(n_frames: int, length: int, period: int) -> int:
    """How many clip starts a video of ``n_frames`` offers (after zero-padding short videos)."""
    return max(n_frames, length * period) - (length - 1) * period


def take_clip(video: torch.Tensor, start: int, length: int, period: int) -> torch.Tensor:
    """Frames ``start + period * arange(length)`` of ``video``; frames past the end are zeros."""
    channels, n_frames, height, width = video.shape
    clip = video.new_zeros((channels, length, height, width))
    index = start + period * torch.arange(length)
    inside = index < n_frames
    clip[:, inside] = video[:, index[inside]]
    return clip


def clip_starts(
    n_frames: int, length: int, period: int, clips: int | str, *, random: bool
) -> list[int]:
    """Start frames of the clips to take.

    ``clips="all"``: every start (EchoNet test-time averaging). Otherwise ``clips`` starts,
    drawn uniformly (with replacement, as EchoNet does) from torch's global RNG when
    ``random`` -- so ``torch.manual_seed`` and the DataLoader's per-worker seeding make them
    reproducible -- or, when not ``random``, the first frame for one clip and evenly spaced
    starts for several.
    """
    count = clip_start_count(n_frames, length, period)
    if clips == "all":
        return list(range(count))
    if not isinstance(clips, int) or clips < 1:
        raise ValueError(f"clips must be a positive int or 'all', got {clips!r}")
    if random:
        return torch.randint(count, (clips,)).tolist()
    if clips == 1:
        return [0]
    return np.linspace(0, count - 1, clips).round().astype(int).tolist()


def sample_clips(
    video: torch.Tensor, *, length: int, period: int, clips: int | str, random: bool
) -> torch.Tensor:
    """One clip ``(C, length, H, W)`` when ``clips == 1``, else a stack ``(K, C, length, H, W)``."""
    starts = clip_starts(video.shape[1], length, period, clips, random=random)
    taken = [take_clip(video, s, length, period) for s in starts]
    return taken[0] if clips == 1 else torch.stack(taken)


def random_pad_crop(video: torch.Tensor, pad: int) -> torch.Tensor:
    """Zero-pad ``pad`` pixels on every side, then crop the original size at a random offset.

    EchoNet-Dynamic's training augmentation with ``pad=12`` (datasets.md §3 step 7). Works on
    ``(..., H, W)``; offsets come from torch's global RNG.
    """
    if pad <= 0:
        return video
    height, width = video.shape[-2:]
    padded = F.pad(video, (pad, pad, pad, pad))
    i, j = torch.randint(2 * pad + 1, (2,)).tolist()
    return padded[..., i : i + height, j : j + width].contiguous()
