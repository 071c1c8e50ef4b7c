"""Example images drawn with Pillow, plus awkward image files the app must cope with.

Each scene is drawn at twice its size and scaled down (LANCZOS) for smooth edges. There is no
randomness, so the same Pillow version gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from .common import ASSETS, write_text

IMAGES = ASSETS / "images"
BAD = IMAGES / "bad"
SS = 2  # supersampling factor


def _canvas(w: int, h: int, color) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (w * SS, h * SS), color)
    return img, ImageDraw.Draw(img)


def _s(*xy):  # scale design coordinates to the supersampled canvas
    return [v * SS for v in xy]


def _done(img: Image.Image) -> Image.Image:
    return img.resize((img.width // SS, img.height // SS), Image.Resampling.LANCZOS)


def _vertical_gradient(draw, w, h, top, bottom, y0=0, y1=None):
    y1 = h if y1 is None else y1
    for y in range(y0 * SS, y1 * SS):
        t = (y - y0 * SS) / max(1, (y1 - y0) * SS - 1)
        draw.line([(0, y), (w * SS, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))


def cat() -> Image.Image:
    img, d = _canvas(384, 384, (200, 225, 240))
    fur, dark, pink = (236, 150, 60), (170, 95, 30), (245, 170, 180)
    d.polygon(_s(85, 150, 110, 40, 175, 105), fill=fur)                 # ears
    d.polygon(_s(299, 150, 274, 40, 209, 105), fill=fur)
    d.polygon(_s(105, 130, 115, 70, 155, 105), fill=pink)
    d.polygon(_s(279, 130, 269, 70, 229, 105), fill=pink)
    d.ellipse(_s(70, 80, 314, 320), fill=fur)                          # head
    for x in (150, 192, 234):                                          # forehead stripes
        d.line(_s(x, 88, x, 130), fill=dark, width=8 * SS)
    for cx in (140, 244):                                              # eyes
        d.ellipse(_s(cx - 26, 170, cx + 26, 214), fill=(120, 190, 90))
        d.ellipse(_s(cx - 7, 172, cx + 7, 212), fill=(20, 20, 20))
        d.ellipse(_s(cx - 14, 180, cx - 6, 188), fill=(255, 255, 255))
    d.ellipse(_s(150, 215, 234, 300), fill=(250, 235, 215))            # muzzle
    d.polygon(_s(178, 232, 206, 232, 192, 248), fill=(230, 110, 130))  # nose
    d.line(_s(192, 248, 192, 262), fill=(90, 50, 40), width=3 * SS)
    d.arc(_s(168, 248, 192, 276), 0, 180, fill=(90, 50, 40), width=3 * SS)
    d.arc(_s(192, 248, 216, 276), 0, 180, fill=(90, 50, 40), width=3 * SS)
    for dy in (-10, 2, 14):                                            # whiskers
        d.line(_s(160, 255, 60, 245 + dy * 2), fill=(60, 60, 60), width=2 * SS)
        d.line(_s(224, 255, 324, 245 + dy * 2), fill=(60, 60, 60), width=2 * SS)
    return _done(img)


def dog_park() -> Image.Image:
    img, d = _canvas(512, 384, (0, 0, 0))
    _vertical_gradient(d, 512, 384, (110, 170, 235), (200, 230, 250), 0, 230)
    d.ellipse(_s(400, 30, 460, 90), fill=(255, 240, 150))               # sun
    for x0, y0 in ((40, 60), (300, 45)):                                # clouds
        for dx, dy, r in ((0, 10, 22), (25, 0, 28), (55, 10, 22)):
            d.ellipse(_s(x0 + dx - r, y0 + dy - r, x0 + dx + r, y0 + dy + r), fill=(250, 250, 255))
    d.rectangle(_s(0, 230, 512, 384), fill=(90, 170, 70))              # grass
    for x in range(0, 512, 9):
        d.line(_s(x, 384, x + 3, 360 - (x * 7) % 15), fill=(70, 145, 55), width=SS)
    for tx in (60, 440):                                                # trees
        d.rectangle(_s(tx - 9, 150, tx + 9, 245), fill=(110, 75, 45))
        d.ellipse(_s(tx - 55, 70, tx + 55, 180), fill=(45, 120, 50))
    coat, dark = (150, 95, 50), (95, 60, 30)
    d.ellipse(_s(180, 235, 330, 300), fill=coat)                        # body
    for lx in (195, 225, 285, 312):                                     # legs
        d.rounded_rectangle(_s(lx - 8, 280, lx + 8, 340), 5 * SS, fill=coat)
    d.line(_s(180, 255, 140, 215), fill=coat, width=12 * SS)           # tail
    d.ellipse(_s(300, 185, 380, 255), fill=coat)                        # head
    d.ellipse(_s(355, 215, 400, 248), fill=coat)                        # snout
    d.ellipse(_s(390, 220, 402, 232), fill=(20, 20, 20))                # nose
    d.ellipse(_s(296, 190, 322, 245), fill=dark)                        # ear
    d.ellipse(_s(340, 205, 350, 215), fill=(20, 20, 20))                # eye
    d.ellipse(_s(410, 310, 438, 338), fill=(230, 60, 50))               # ball
    return _done(img)


def red_car() -> Image.Image:
    img, d = _canvas(512, 320, (0, 0, 0))
    _vertical_gradient(d, 512, 320, (170, 200, 230), (235, 240, 245), 0, 220)
    d.rectangle(_s(0, 220, 512, 320), fill=(70, 70, 75))                # road
    for x in range(20, 512, 90):
        d.rectangle(_s(x, 282, x + 50, 290), fill=(240, 240, 240))
    red = (205, 30, 35)
    d.rounded_rectangle(_s(70, 150, 450, 240), 25 * SS, fill=red)       # body
    d.polygon(_s(150, 152, 205, 95, 340, 95, 395, 152), fill=red)       # cabin
    d.polygon(_s(168, 148, 212, 105, 265, 105, 265, 148), fill=(150, 200, 230))
    d.polygon(_s(277, 148, 277, 105, 333, 105, 377, 148), fill=(150, 200, 230))
    d.rectangle(_s(433, 175, 450, 192), fill=(255, 230, 120))           # headlight
    d.rectangle(_s(70, 175, 82, 192), fill=(160, 0, 0))                 # tail light
    d.line(_s(270, 160, 270, 230), fill=(150, 20, 25), width=2 * SS)   # door line
    for wx in (150, 370):                                               # wheels
        d.ellipse(_s(wx - 38, 200, wx + 38, 276), fill=(25, 25, 25))
        d.ellipse(_s(wx - 17, 221, wx + 17, 255), fill=(180, 180, 185))
    return _done(img)


def fruit() -> Image.Image:
    img, d = _canvas(448, 336, (235, 225, 205))
    d.rectangle(_s(0, 220, 448, 336), fill=(150, 100, 60))              # table
    for y in (250, 285, 320):
        d.line(_s(0, y, 448, y + 4), fill=(130, 85, 50), width=2 * SS)
    d.chord(_s(70, 130, 380, 300), 0, 180, fill=(70, 110, 160))         # bowl
    crescent = Image.new("L", img.size, 0)                              # banana: outer minus inner arc
    cd = ImageDraw.Draw(crescent)
    cd.pieslice(_s(120, 40, 340, 250), 20, 160, fill=255)
    cd.pieslice(_s(128, 28, 332, 226), 15, 165, fill=0)
    img.paste((250, 215, 50), mask=crescent)
    d.polygon(_s(330, 160, 346, 150, 340, 170), fill=(90, 70, 30))      # banana tips
    d.polygon(_s(130, 162, 114, 152, 120, 172), fill=(90, 70, 30))
    d.ellipse(_s(95, 95, 185, 185), fill=(200, 30, 40))                 # apple, in front of the banana
    d.line(_s(140, 98, 146, 80), fill=(90, 60, 30), width=4 * SS)
    d.ellipse(_s(250, 105, 335, 190), fill=(245, 150, 30))              # orange
    d.ellipse(_s(360, 215, 400, 245), fill=(120, 40, 120))              # a plum on the table
    return _done(img)


def house() -> Image.Image:
    img, d = _canvas(400, 400, (0, 0, 0))
    _vertical_gradient(d, 400, 400, (120, 180, 240), (210, 235, 250), 0, 300)
    d.rectangle(_s(0, 300, 400, 400), fill=(100, 175, 80))              # lawn
    d.rectangle(_s(250, 80, 280, 150), fill=(140, 60, 50))              # chimney
    d.rectangle(_s(90, 170, 310, 310), fill=(240, 220, 170))            # walls
    d.polygon(_s(70, 175, 200, 75, 330, 175), fill=(170, 50, 40))       # roof
    d.rectangle(_s(180, 235, 222, 310), fill=(110, 70, 40))             # door
    d.ellipse(_s(212, 270, 218, 276), fill=(230, 200, 80))
    for wx in (112, 248):                                               # windows
        d.rectangle(_s(wx, 200, wx + 44, 244), fill=(150, 200, 235))
        d.line(_s(wx + 22, 200, wx + 22, 244), fill=(255, 255, 255), width=3 * SS)
        d.line(_s(wx, 222, wx + 44, 222), fill=(255, 255, 255), width=3 * SS)
    d.polygon(_s(180, 310, 222, 310, 240, 400, 162, 400), fill=(200, 190, 170))  # path
    return _done(img)


def sunset_sea() -> Image.Image:
    img, d = _canvas(640, 360, (0, 0, 0))
    _vertical_gradient(d, 640, 360, (60, 40, 110), (250, 150, 70), 0, 220)
    d.ellipse(_s(270, 160, 370, 260), fill=(255, 210, 90))              # sun, cut by the horizon
    _vertical_gradient(d, 640, 360, (40, 60, 110), (15, 25, 60), 220, 360)
    for i, y in enumerate(range(228, 350, 12)):                         # reflection
        half = 48 - i * 4
        d.line(_s(320 - half, y, 320 + half, y), fill=(250, 180, 80), width=3 * SS)
    d.polygon(_s(470, 222, 520, 222, 510, 232, 480, 232), fill=(20, 20, 30))  # a small boat
    d.line(_s(495, 222, 495, 190), fill=(20, 20, 30), width=2 * SS)
    d.polygon(_s(497, 192, 497, 218, 515, 218), fill=(20, 20, 30))
    return _done(img)


SCENES = {  # file name -> (drawing, what a viewer should see); the app and tests read this table
    "cat.png": (cat, "a cat's face"),
    "dog_park.jpg": (dog_park, "a dog in a park with grass, trees and sky"),
    "red_car.png": (red_car, "a red car on a road"),
    "fruit.jpg": (fruit, "a banana, an apple and an orange in a bowl"),
    "house.png": (house, "a house with a red roof"),
    "sunset_sea.jpg": (sunset_sea, "a sunset over the sea"),
}


def _save(img: Image.Image, path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jpg":
        kw = {"quality": 88, "optimize": True, **kw}
    elif path.suffix == ".png":
        kw = {"optimize": True, **kw}
    img.save(path, **kw)
    return path


def _upright_arrow() -> Image.Image:
    """A portrait picture with a clear 'up': blue sky on top, green ground, a black arrow."""
    img, d = _canvas(240, 320, (130, 180, 240))
    d.rectangle(_s(0, 200, 240, 320), fill=(90, 170, 70))
    d.polygon(_s(120, 30, 60, 120, 180, 120), fill=(0, 0, 0))
    d.rectangle(_s(100, 120, 140, 250), fill=(0, 0, 0))
    return _done(img)


def build_bad() -> list[Path]:
    made = []
    cat_img = cat()
    rgba = cat_img.resize((256, 256)).convert("RGBA")           # transparent corners around the head
    mask = Image.new("L", (256 * SS, 256 * SS), 0)
    ImageDraw.Draw(mask).ellipse(_s(30, 20, 226, 236), fill=255)
    rgba.putalpha(mask.resize((256, 256), Image.Resampling.LANCZOS))
    made.append(_save(rgba, BAD / "rgba.png"))

    frames = []
    for i in range(3):                                           # a ball moving to the right
        f = Image.new("P", (160, 120), 0)
        f.putpalette([255, 255, 255, 220, 40, 40, 40, 90, 200] + [0] * (256 * 3 - 9))
        fd = ImageDraw.Draw(f)
        fd.rectangle((0, 95, 160, 120), fill=2)
        fd.ellipse((20 + 45 * i, 55, 60 + 45 * i, 95), fill=1)
        frames.append(f)
    path = BAD / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=300, loop=0)
    made.append(path)

    made.append(_save(house().convert("L").resize((300, 300), Image.Resampling.LANCZOS), BAD / "grayscale.png"))
    made.append(_save(red_car().convert("CMYK").resize((320, 200), Image.Resampling.LANCZOS), BAD / "cmyk.jpg"))

    import numpy as np  # a 16-bit gradient (e.g. from a scanner)
    ramp = (np.add.outer(np.arange(128), np.arange(192)) * (65535 // (127 + 191))).astype(np.uint16)
    made.append(_save(Image.fromarray(ramp), BAD / "gray16.png"))

    # Orientation 6 means "rotate 90 degrees clockwise to display": store the upright picture
    # turned 90 degrees counter-clockwise, as a phone held sideways does.
    exif = Image.Exif()
    exif[0x0112] = 6
    made.append(_save(_upright_arrow().transpose(Image.Transpose.ROTATE_90), BAD / "rotated_exif6.jpg",
                      exif=exif.tobytes()))

    whole = (IMAGES / "dog_park.jpg").read_bytes()
    (BAD / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    made.append(BAD / "truncated.jpg")

    write_text(BAD / "not_an_image.png", "This is a plain text file with a .png name, not an image.\n")
    made.append(BAD / "not_an_image.png")

    made.append(_save(cat_img.resize((8, 8), Image.Resampling.LANCZOS), BAD / "tiny_8x8.png"))
    return made


def build() -> list[Path]:
    made = [_save(draw(), IMAGES / name) for name, (draw, _) in SCENES.items()]
    return made + build_bad()


def check() -> None:
    from PIL import UnidentifiedImageError

    for name in SCENES:
        path = IMAGES / name
        with Image.open(path) as img:
            img.load()
            assert img.mode == "RGB" and 224 <= min(img.size) and max(img.size) <= 640, (name, img.size)
        assert path.stat().st_size < 150_000, name

    def opened(name):
        img = Image.open(BAD / name)
        img.load()
        return img

    assert opened("rgba.png").mode == "RGBA" and opened("rgba.png").getpixel((0, 0))[3] == 0
    gif = opened("animated.gif")
    assert gif.mode == "P" and gif.is_animated and gif.n_frames == 3
    assert opened("grayscale.png").mode == "L"
    assert opened("cmyk.jpg").mode == "CMYK"
    assert opened("gray16.png").mode == "I;16"
    raw = opened("rotated_exif6.jpg")
    assert raw.size == (320, 240) and raw.getexif()[0x0112] == 6
    upright = ImageOps.exif_transpose(raw)
    assert upright.size == (240, 320)
    top, bottom = upright.getpixel((10, 10)), upright.getpixel((10, 310))
    assert top[2] > 200 and bottom[1] > bottom[2], (top, bottom)   # sky above, grass below
    assert opened("tiny_8x8.png").size == (8, 8)

    truncated = Image.open(BAD / "truncated.jpg")                  # the header reads fine ...
    assert truncated.size == (512, 384)
    try:
        truncated.load()                                           # ... the pixels do not
        raise AssertionError("truncated.jpg loaded")
    except OSError as err:
        assert "truncated" in str(err), err
    try:
        Image.open(BAD / "not_an_image.png")
        raise AssertionError("not_an_image.png opened")
    except UnidentifiedImageError:
        pass
    print("images: 6 scenes and the bad fixtures open (or fail) as intended")
