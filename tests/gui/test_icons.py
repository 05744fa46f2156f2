"""Tray icons: the colour of each level at every size, the waiting dot, the outline, HiDPI."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from llm_session_manager.ui.icons import (
    LEVEL_COLOURS,
    SIZES,
    WAITING_COLOUR,
    level_icon,
    level_pixmap,
)


def _rgb(image: QImage, x: int, y: int) -> str:
    return QColor(image.pixel(x, y)).name()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("level", list(LEVEL_COLOURS))
def test_centre_has_the_exact_level_colour(qapp, level: str, size: int) -> None:
    image = level_pixmap(level, False, size).toImage()
    assert (image.width(), image.height()) == (size, size)
    assert _rgb(image, size // 2, size // 2) == LEVEL_COLOURS[level]
    # transparent corners: a circle, not a square
    assert image.pixelColor(0, size - 1).alpha() == 0


@pytest.mark.parametrize("size", SIZES)
def test_waiting_adds_a_blue_dot_top_right(qapp, size: int) -> None:
    plain = level_pixmap("healthy", False, size).toImage()
    waiting = level_pixmap("healthy", True, size).toImage()
    dot = round(size * 0.42 / 2)
    x, y = size - dot, dot
    assert _rgb(waiting, x, y) == WAITING_COLOUR
    assert _rgb(plain, x, y) != WAITING_COLOUR
    assert _rgb(waiting, size // 2, size * 3 // 4) == LEVEL_COLOURS["healthy"]


@pytest.mark.parametrize("size", [16, 64])
def test_outline_is_dark_inside_a_light_halo(qapp, size: int) -> None:
    image = level_pixmap("warning", False, size).toImage()
    row = [image.pixelColor(x, size // 2) for x in range(size // 2)]
    lightness = [c.lightness() for c in row if c.alpha() > 100]
    fill = QColor(LEVEL_COLOURS["warning"]).lightness()
    # somewhere between the edge and the centre there is a pixel much darker than the fill
    assert min(lightness) < fill - 60
    assert row[0].alpha() > 0  # the halo reaches the edge


def test_hidpi_pixmaps_have_twice_the_pixels(qapp) -> None:
    pixmap = level_pixmap("critical", True, 22, 2.0)
    assert (pixmap.width(), pixmap.height()) == (44, 44)
    assert pixmap.devicePixelRatio() == 2.0
    assert _rgb(pixmap.toImage(), 22, 30) == LEVEL_COLOURS["critical"]


def test_icon_holds_every_size_and_is_cached(qapp) -> None:
    icon = level_icon("idle", False)
    assert icon is level_icon("idle", False)
    assert level_pixmap("idle", False, 32) is level_pixmap("idle", False, 32)
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(s, s) for s in SIZES} <= sizes
    image = icon.pixmap(22, 22).toImage()
    assert _rgb(image, image.width() // 2, image.height() // 2) == LEVEL_COLOURS["idle"]
