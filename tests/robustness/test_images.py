"""Images of every kind PIL opens decode to sensible 8-bit RGB (16-bit grayscale scaled, not clipped to
white; palettes, CMYK, LA and 1-bit converted), float images are refused by name, and damaged image
files are MediaErrors naming the file, never another exception."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flamingo_eval.data.media import load_image
from flamingo_eval.errors import MediaError

from ..data.fixtures import write_jpeg
from .cases import file_error

RAMP = (np.arange(64 * 8, dtype=np.int64).reshape(8, 64) * 128).astype(np.uint16)  # 0 .. 65408, left to right


def _expected_8bit(values: np.ndarray) -> np.ndarray:
    return np.round(values.astype(np.float64) / 257).astype(np.uint8)


def _png_16bit_by_hand(path: Path, values: np.ndarray) -> Path:
    """A 16-bit grayscale PNG written without PIL (big-endian samples, filter 0 on every row)."""
    height, width = values.shape
    raw = b"".join(b"\x00" + values[row].astype(">u2").tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)  # bit depth 16, colour type 0 (grey)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def _pgm_16bit(path: Path, values: np.ndarray) -> Path:
    height, width = values.shape
    path.write_bytes(f"P5 {width} {height} 65535\n".encode() + values.astype(">u2").tobytes())
    return path


@pytest.mark.parametrize("writer", ["pil-png", "hand-png", "pgm", "pil-tiff"])
def test_16_bit_grayscale_keeps_its_gradient(tmp_path, writer) -> None:
    path = tmp_path / f"ramp.{ {'pgm': 'pgm', 'pil-tiff': 'tif'}.get(writer, 'png') }"
    if writer == "hand-png":
        _png_16bit_by_hand(path, RAMP)
    elif writer == "pgm":
        _pgm_16bit(path, RAMP)
    else:
        Image.fromarray(RAMP).save(path)
    with Image.open(path) as opened:
        assert opened.mode in ("I;16", "I;16B", "I;16L", "I")  # what this test is about
    rgb = np.asarray(load_image(path))
    assert rgb.dtype == np.uint8 and rgb.shape == (8, 64, 3)
    assert np.array_equal(rgb[..., 0], _expected_8bit(RAMP))  # value / 257, rounded: a gradient, not white
    assert np.array_equal(rgb[..., 0], rgb[..., 2]) and len(np.unique(rgb)) == 256  # every level, 0 to 255


def test_32_bit_integer_image_in_the_16_bit_range_and_out_of_it(tmp_path) -> None:
    Image.fromarray(RAMP.astype(np.int32)).save(tmp_path / "ok.tif")
    assert np.array_equal(np.asarray(load_image(tmp_path / "ok.tif"))[..., 1], _expected_8bit(RAMP))
    Image.fromarray(np.array([[-5, 70000]], dtype=np.int32)).save(tmp_path / "wide.tif")
    assert "outside the 16-bit range" in file_error(lambda: load_image(tmp_path / "wide.tif"), tmp_path / "wide.tif",
                                                    MediaError)


def test_float_image_is_refused_by_name(tmp_path) -> None:
    Image.fromarray(np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)).save(tmp_path / "f.tif")
    assert "float" in file_error(lambda: load_image(tmp_path / "f.tif"), tmp_path / "f.tif", MediaError)


def test_palette_with_transparency(tmp_path) -> None:
    palette = Image.new("P", (4, 2))
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((0, 0), 1)
    for name, transparency in (("index.png", 0), ("bytes.png", bytes([0, 128]))):
        palette.save(tmp_path / name, transparency=transparency)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # PIL warns when such a palette goes straight to RGB
            rgb = np.asarray(load_image(tmp_path / name))
        assert tuple(rgb[0, 0]) == (0, 0, 255) and tuple(rgb[1, 1]) == (255, 0, 0)  # colours kept, alpha dropped


def test_cmyk_jpeg_la_and_1_bit(tmp_path) -> None:
    colour = (200, 100, 50)
    Image.new("RGB", (16, 16), colour).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    assert np.abs(np.asarray(load_image(tmp_path / "cmyk.jpg")).astype(int) - colour).max() <= 3
    Image.new("LA", (4, 4), (100, 0)).save(tmp_path / "la.png")
    assert tuple(np.asarray(load_image(tmp_path / "la.png"))[0, 0]) == (100, 100, 100)
    one = Image.new("1", (4, 4), 0)
    one.putpixel((1, 1), 1)
    one.save(tmp_path / "one.png")
    rgb = np.asarray(load_image(tmp_path / "one.png"))
    assert tuple(rgb[1, 1]) == (255, 255, 255) and tuple(rgb[0, 0]) == (0, 0, 0)


DAMAGE = {"empty": lambda d: b"", "cut-16": lambda d: d[:16], "cut-half": lambda d: d[: len(d) // 2],
          "garbage": lambda d: bytes((i * 73 + 41) % 256 for i in range(len(d))),
          "header-only": lambda d: d[:8] + b"\x00" * 64}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("kind", ["jpg", "png", "png16", "gif", "tif"])
def test_damaged_image_is_named(tmp_path, kind, damage) -> None:
    path = tmp_path / f"image.{kind.rstrip('16')}"
    if kind == "jpg":
        write_jpeg(path)
    elif kind == "png16":
        _png_16bit_by_hand(path, RAMP)
    else:
        Image.fromarray(np.asarray(Image.open(write_jpeg(tmp_path / "src.jpg")))).save(path)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    file_error(lambda: load_image(path), path, MediaError)


def test_missing_and_folder(tmp_path) -> None:
    file_error(lambda: load_image(tmp_path / "none.png"), tmp_path / "none.png", MediaError)
    file_error(lambda: load_image(tmp_path), tmp_path, MediaError)
