"""Rendered frames and image observations of an episode, held PNG-encoded and decoded on access.

A full Pong episode has thousands of steps; its raw frames (210x160x3) and stacked observations
(4x84x84) would take hundreds of MB. PNG is lossless, so ``frame(t)`` returns exactly the rendered pixels.
Vector observations are small and stay one plain array.
Measured sizes and roll-out times: see ``inspector/episode.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, SupportsFloat

import cv2
import gymnasium as gym
import numpy as np

from gym_wrappers.pygame_frames import PygameFrameGrabber

# zlib level 1 without PNG row filters: the fastest lossless setting measured here (~3.5 ms for a 600x400
# CartPole frame, ~0.45 ms for a 210x160 Atari one; PNG's SUB/PAETH filters were slower and no smaller).
PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
# OpenCV writes BGR: the conversion from each byte order a frame arrives in (RGBX/BGRX: pygame's 4-byte pixels).
_TO_BGR = {"RGB": cv2.COLOR_RGB2BGR, "RGBX": cv2.COLOR_RGBA2BGR, "BGRX": cv2.COLOR_BGRA2BGR}


def encode_png(image: np.ndarray, layout: str = "RGB") -> bytes:
    """PNG bytes (lossless, a valid image file) of an (H, W) grey or (H, W, 3|4) uint8 image in byte order ``layout``."""
    if image.ndim == 3:
        image = cv2.cvtColor(np.ascontiguousarray(image), _TO_BGR[layout])
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image), PNG_OPTIONS)
    if not ok:
        raise ValueError(f"could not PNG-encode an image of shape {image.shape} and dtype {image.dtype}")
    return data.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    """The image ``encode_png`` encoded: (H, W) grey or (H, W, 3) RGB uint8."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError("could not decode PNG bytes")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


def as_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 for display: grey images repeated over three channels."""
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    grey = image.reshape(image.shape[0], image.shape[1])
    return np.repeat(grey[:, :, None], 3, axis=2)


class FrameStore:
    """The frames of one episode, PNG-encoded; ``frame(t)`` decodes one."""

    def __init__(self) -> None:
        self._encoded: list[bytes] = []
        self.raw_nbytes = 0  # what the frames would take decoded

    def append(self, frame: np.ndarray, layout: str = "RGB") -> None:
        """Encode and keep one (H, W, 3) uint8 frame (or (H, W, 4) in byte order ``layout``: RGBX, BGRX)."""
        self._encoded.append(encode_png(frame, layout))
        self.raw_nbytes += frame.shape[0] * frame.shape[1] * 3

    def __len__(self) -> int:
        return len(self._encoded)

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` as (H, W, 3) uint8 RGB."""
        return as_rgb(decode_png(self._encoded[t]))

    def png(self, t: int) -> bytes:
        """Frame ``t`` as PNG file bytes (what is held; nothing is decoded)."""
        return self._encoded[t]

    @property
    def nbytes(self) -> int:
        """Bytes of encoded frames held."""
        return sum(len(data) for data in self._encoded)


class FrameRecorder(gym.Wrapper):
    """Renders after every reset and step into a ``FrameStore`` (the sub-env must render ``rgb_array``).

    Classic-control frames are read from the pygame surface in one copy (``PygameFrameGrabber``), the
    same pixels as the env's own ``render()``.
    """

    def __init__(self, env: gym.Env, store: FrameStore) -> None:
        self.grabber = PygameFrameGrabber(env)
        super().__init__(self.grabber)
        self.store = store

    def _record(self) -> None:
        frame = self.grabber.render()
        if not isinstance(frame, np.ndarray):
            return
        padded = self.grabber.padded(frame)  # the pygame pixels as they lie: converted in one pass, no repacking
        if padded is not None:
            self.store.append(padded, self.grabber.layout)
        else:
            self.store.append(frame[..., :3])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        result = self.env.reset(seed=seed, options=options)
        self._record()
        return result

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        result = self.env.step(action)
        self._record()
        return result


def _is_image(obs: np.ndarray) -> bool:
    return obs.dtype == np.uint8 and obs.ndim >= 2


def tile_stack(obs: np.ndarray) -> np.ndarray:
    """An image observation as one picture: stacked frames side by side, oldest on the left.

    (H, W) and (H, W, 3) stay as they are; a stack (S, H, W) or (S, H, W, 3) puts its S frames side by
    side; other channel counts, (H, W, C) or (S, H, W, C), become one grey tile per channel.
    """
    if obs.ndim == 2 or (obs.ndim == 3 and obs.shape[2] == 3):
        return obs
    if obs.ndim == 3 and obs.shape[2] <= 4:  # (H, W, C): channels as tiles
        height, width, channels = obs.shape
        return obs.transpose(0, 2, 1).reshape(height, channels * width)
    if obs.ndim == 3:  # (S, H, W)
        stack, height, width = obs.shape
        return obs.transpose(1, 0, 2).reshape(height, stack * width)
    stack, height, width, channels = obs.shape
    if channels == 3:
        return obs.transpose(1, 0, 2, 3).reshape(height, stack * width, 3)
    return obs.transpose(1, 0, 3, 2).reshape(height, stack * channels * width)


def untile_stack(image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The observation of ``shape`` that ``tile_stack`` laid out as ``image``."""
    if len(shape) == 2 or (len(shape) == 3 and shape[2] == 3):
        return image.reshape(shape)
    if len(shape) == 3 and shape[2] <= 4:
        height, width, channels = shape
        return image.reshape(height, channels, width).transpose(0, 2, 1)
    if len(shape) == 3:
        stack, height, width = shape
        return image.reshape(height, stack, width).transpose(1, 0, 2)
    stack, height, width, channels = shape
    if channels == 3:
        return image.reshape(height, stack, width, 3).transpose(1, 0, 2, 3)
    return image.reshape(height, stack, channels, width).transpose(1, 0, 3, 2)


class ObservationStore:
    """The observations of one episode: vector ones in one array, uint8 images PNG-encoded (tiled)."""

    def __init__(self) -> None:
        self.shape: tuple[int, ...] | None = None
        self.is_image = False
        self._encoded: list[bytes] = []
        self._rows: list[np.ndarray] = []  # vector observations not yet stacked into ``_array``
        self._array: np.ndarray | None = None
        self.raw_nbytes = 0  # what the observations would take as arrays

    def append(self, obs: np.ndarray) -> None:
        """Keep one observation (a copy, or its encoding)."""
        obs = np.asarray(obs)
        if self.shape is None:
            self.shape, self.is_image = obs.shape, _is_image(obs)
        self.raw_nbytes += obs.nbytes
        if self.is_image:
            self._encoded.append(encode_png(tile_stack(obs)))
        else:
            self._rows.append(obs.copy())

    def __len__(self) -> int:
        return len(self._encoded) if self.is_image else len(self.array())

    def array(self) -> np.ndarray:
        """All vector observations, (T, *shape); for images, use ``batches`` (decoding all at once is large)."""
        if self.is_image:
            return np.stack([self[t] for t in range(len(self))])
        if self._rows:
            rows = np.stack(self._rows)
            self._array = rows if self._array is None else np.concatenate([self._array, rows])
            self._rows = []
        return self._array if self._array is not None else np.zeros((0, *(self.shape or ())), np.float32)

    def __getitem__(self, t: int) -> np.ndarray:
        """Observation ``t`` as the env returned it."""
        if self.is_image:
            assert self.shape is not None  # set by the first append
            return untile_stack(decode_png(self._encoded[t]), self.shape)
        return self.array()[t]

    def image(self, t: int) -> np.ndarray | None:
        """Observation ``t`` as one (H, W, 3) uint8 picture (stacked frames side by side); ``None`` for vectors."""
        if not self.is_image:
            return None
        return as_rgb(decode_png(self._encoded[t]))

    def batches(self, size: int = 256) -> Iterator[np.ndarray]:
        """Consecutive observations, ``size`` at a time, for batched network passes."""
        total = len(self)
        for start in range(0, total, size):
            if self.is_image:
                yield np.stack([self[t] for t in range(start, min(start + size, total))])
            else:
                yield self.array()[start : start + size]

    @property
    def nbytes(self) -> int:
        """Bytes held: encoded images, or the observation array."""
        if self.is_image:
            return sum(len(data) for data in self._encoded)
        return int(self.array().nbytes)
