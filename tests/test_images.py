"""pipelines.readers.images: every awkward picture opens as a sane RGB image; broken files give a sentence."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from pipelines.core.errors import UserInputError
from pipelines.readers.images import MAX_PIXELS, WORK_SIDE, open_image, to_rgb
from tests.conftest import ASSETS

IMAGES = ASSETS / "images"
BAD = IMAGES / "bad"
READABLE = ["animated.gif", "cmyk.jpg", "gray16.png", "grayscale.png", "rgba.png", "rotated_exif6.jpg",
            "tiny_8x8.png"]


@pytest.mark.parametrize("name", READABLE + [p.name for p in sorted(IMAGES.glob("*.*"))])
def test_every_readable_fixture_opens_as_rgb_of_sane_size(name):
    path = BAD / name if (BAD / name).exists() else IMAGES / name
    img = open_image(str(path))
    assert img.mode == "RGB"
    assert 1 <= min(img.size) and max(img.size) <= WORK_SIDE
    with Image.open(path) as raw:  # nothing is enlarged and small pictures keep their size
        assert sorted(img.size) == sorted(raw.size)


def test_transparency_is_composited_on_white():
    img = open_image(BAD / "rgba.png")
    assert img.getpixel((0, 0)) == (255, 255, 255)  # a transparent corner
    assert img.getpixel((128, 128)) != (255, 255, 255)  # the opaque cat


def test_palette_with_transparency_becomes_white_not_black():
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    pal.info["transparency"] = 0
    pal.putpixel((1, 1), 1)
    img = to_rgb(pal)
    assert img.getpixel((0, 0)) == (255, 255, 255) and img.getpixel((1, 1)) == (200, 30, 30)


def test_animated_gif_gives_its_first_frame():
    img = open_image(BAD / "animated.gif")
    assert img.getpixel((40, 75)) == (220, 40, 40)  # frame 0: the ball is at x 20-60
    assert img.getpixel((130, 75)) == (255, 255, 255)  # it reaches x 110-150 only in frame 2


def test_16_bit_gray_is_scaled_not_clipped():
    img = open_image(BAD / "gray16.png")
    with Image.open(BAD / "gray16.png") as raw:
        top = int(np.asarray(raw).max())
    assert img.getpixel((0, 0)) == (0, 0, 0)
    corner = img.getpixel((img.width - 1, img.height - 1))[0]
    assert corner == round(top / 257) and 250 <= corner <= 255
    middle = img.getpixel((img.width // 2, img.height // 2))[0]
    assert 90 < middle < 170  # PIL's convert("L") clips this ramp to white almost everywhere


def test_float_and_32_bit_images_are_scaled():
    floats = to_rgb(Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)))
    assert floats.mode == "RGB" and floats.getpixel((0, 0)) == (0, 0, 0) and floats.getpixel((7, 7))[0] == 255
    sixteen_in_32 = to_rgb(Image.fromarray((np.arange(64, dtype=np.int32) * 1000).reshape(8, 8)))  # mode I
    assert sixteen_in_32.getpixel((7, 7))[0] == round(63_000 / 257)  # a 16-bit range: 65535 is white
    wide = to_rgb(Image.fromarray(((np.arange(64, dtype=np.int32) - 32) * 100_000).reshape(8, 8)))
    assert wide.getpixel((0, 0))[0] == 0 and wide.getpixel((7, 7))[0] == 255  # any other range: stretched


def test_cmyk_and_grayscale_become_rgb():
    car = open_image(BAD / "cmyk.jpg")
    red = car.getpixel((260, 130))  # the car's body
    assert red[0] > 150 and red[1] < 90 and red[2] < 90
    gray = open_image(BAD / "grayscale.png")
    assert len(set(gray.getpixel((150, 150)))) == 1


def test_exif_rotation_is_applied():
    img = open_image(BAD / "rotated_exif6.jpg")
    assert img.size == (240, 320)
    top, bottom = img.getpixel((10, 10)), img.getpixel((10, 310))
    assert top[2] > 200 and bottom[1] > bottom[2]  # sky above, grass below


def test_large_rotated_jpeg_is_reduced_then_turned(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (3000, 1500), (10, 200, 10)).save(tmp_path / "wide.jpg", exif=exif.tobytes())
    assert open_image(tmp_path / "wide.jpg").size == (WORK_SIDE // 2, WORK_SIDE)


def test_very_large_jpeg_is_downscaled(tmp_path):
    Image.new("L", (12000, 9000), 128).save(tmp_path / "huge.jpg", quality=50)
    img = open_image(tmp_path / "huge.jpg")
    assert img.size == (WORK_SIDE, WORK_SIDE * 3 // 4) and img.mode == "RGB"


def test_long_png_keeps_its_aspect(tmp_path):
    Image.new("RGBA", (5000, 50), (0, 0, 255, 255)).save(tmp_path / "strip.png")
    img = open_image(tmp_path / "strip.png")
    assert img.size == (WORK_SIDE, 10) and img.getpixel((5, 5)) == (0, 0, 255)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size (IHDR) but carries almost no pixel data: a decompression bomb's
    header costs nothing to make."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # PIL warns; we refuse
@pytest.mark.parametrize("side", [13_000, 40_000])  # over our limit; over PIL's own refusal
def test_decompression_bombs_are_refused_before_decoding(tmp_path, side):
    assert side * side > MAX_PIXELS
    (tmp_path / "bomb.png").write_bytes(_png_header(side, side))
    with pytest.raises(UserInputError, match="too large|megapixels"):
        open_image(tmp_path / "bomb.png")


def test_declared_size_within_limit_but_missing_pixels_is_damaged(tmp_path):
    (tmp_path / "hollow.png").write_bytes(_png_header(2000, 2000))
    with pytest.raises(UserInputError, match="damaged or incomplete"):
        open_image(tmp_path / "hollow.png")


@pytest.mark.parametrize("name, words", [
    ("truncated.jpg", "“truncated.jpg” is damaged or incomplete"),
    ("not_an_image.png", "“not_an_image.png” is not an image"),
])
def test_broken_fixtures_give_a_sentence(name, words):
    with pytest.raises(UserInputError, match=words):
        open_image(str(BAD / name))


def test_missing_empty_and_absent_inputs(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    cases = [(None, "No image was given"), ("", "No image was given"),
             (str(tmp_path / "gone.png"), "was not found"), (tmp_path / "empty.png", "empty"),
             (b"", "empty"), (b"GIF89a-but-not-really", "not an image")]
    for source, words in cases:
        with pytest.raises(UserInputError, match=words):
            open_image(source)


def test_data_url_and_bytes_are_decoded():
    raw = (IMAGES / "cat.png").read_bytes()
    from_url = open_image("data:image/png;base64," + base64.b64encode(raw).decode())
    assert from_url.size == (384, 384) and from_url.tobytes() == open_image(raw).tobytes()
    with pytest.raises(UserInputError, match="not base64"):
        open_image("data:image/png,abc")


def test_a_pil_image_given_is_not_changed():
    big = Image.new("RGBA", (2048, 100), (0, 0, 0, 0))
    out = open_image(big)
    assert big.size == (2048, 100) and big.mode == "RGBA"
    assert out.size == (WORK_SIDE, 50) and out.getpixel((0, 0)) == (255, 255, 255)
    buffer = io.BytesIO()
    out.save(buffer, "PNG")  # a normal, saveable picture
