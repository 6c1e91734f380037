from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from qr.codes import (
    DEFAULT_SIZE,
    MAX_SIZE,
    MIN_SIZE,
    QUIET_ZONE,
    etag_for,
    qr_matrix,
    qr_png,
    qr_svg,
)
from tests.qr.helpers import LINK, SVG_RUN, decoded_texts, svg_to_image

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("size", [MIN_SIZE, DEFAULT_SIZE, MAX_SIZE])
def test_png_decodes_to_the_link_at_exactly_the_requested_size(size: int) -> None:
    image = Image.open(io.BytesIO(qr_png(LINK, size)))

    assert image.format == "PNG"
    assert image.size == (size, size)
    assert decoded_texts(image) == [LINK]


def test_png_keeps_a_quiet_zone_of_four_modules() -> None:
    matrix = qr_matrix(LINK)
    image = Image.open(io.BytesIO(qr_png(LINK, DEFAULT_SIZE))).convert("L")
    module = DEFAULT_SIZE // matrix.width_with_quiet_zone

    left, top, right, bottom = image.point(lambda value: 255 - value).getbbox() or (0, 0, 0, 0)

    assert min(left, top) >= QUIET_ZONE * module
    assert DEFAULT_SIZE - max(right, bottom) >= QUIET_ZONE * module


@pytest.mark.parametrize("size", [MIN_SIZE - 1, MAX_SIZE + 1, 0, -512])
def test_sizes_outside_the_bounds_are_refused(size: int) -> None:
    with pytest.raises(ValueError):
        qr_png(LINK, size)
    with pytest.raises(ValueError):
        qr_svg(LINK, size)


@pytest.mark.parametrize(
    ("link", "level"),
    [
        (LINK, "Q"),
        # 51 bytes: Q would need version 5, while M fits version 4.
        ("https://warmfund.dxzgh.org.cn/d/DX-XF-0012/ten-yuan", "M"),
    ],
)
def test_level_q_is_used_when_it_costs_no_larger_symbol(link: str, level: str) -> None:
    image = Image.open(io.BytesIO(qr_png(link, DEFAULT_SIZE)))

    [barcode] = zxingcpp.read_barcodes(image)

    assert (barcode.text, barcode.ec_level) == (link, level)
    assert qr_matrix(link).width == 33


def test_empty_and_oversized_data_are_refused() -> None:
    with pytest.raises(ValueError):
        qr_png("")
    with pytest.raises(ValueError):
        qr_png("x" * 2400)
    with pytest.raises(ValueError):
        qr_png("x" * 2300, MIN_SIZE)


def test_svg_declares_its_size_and_a_module_viewbox() -> None:
    root = ET.fromstring(qr_svg(LINK, 300))
    extent = qr_matrix(LINK).width_with_quiet_zone

    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("300", "300")
    assert root.get("viewBox") == f"0 0 {extent} {extent}"
    assert len(root.findall(f"{SVG}path")) == 1


def test_svg_path_redrawn_decodes_to_the_link() -> None:
    root = ET.fromstring(qr_svg(LINK))
    path = root.findall(f"{SVG}path")[0].get("d", "")

    assert SVG_RUN.sub("", path) == ""
    assert decoded_texts(svg_to_image(qr_svg(LINK), scale=8)) == [LINK]


def test_etag_is_stable_and_names_the_content() -> None:
    tag = etag_for("png", LINK, "512", "v1")

    assert tag == etag_for("png", LINK, "512", "v1")
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
    assert tag != etag_for("png", LINK, "1024", "v1")
    assert tag != etag_for("png", LINK + "x", "512", "v1")
    assert tag != etag_for("svg", LINK, "512", "v1")
    assert etag_for("a", "bc") != etag_for("ab", "c")

