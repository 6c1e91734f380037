"""QR codes and mini-program codes over HTTP: decoded with a real decoder, sized, cached."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
import requests
from PIL import Image

from app.services.catalog.entry import build_scene
from app.services.errors import InvalidRequestError
from tests.helpers import Api, add_units
from tests.org_units.images import decode_png, decoded_texts, svg_to_image


def _link(api: Api, unit: str = "DX-XF", campaign: str = "one-yuan") -> str:
    return f"{api.runtime.deps.public_url}/d/{unit}/{campaign}"


@pytest.mark.parametrize("unit, campaign", [("DX-XF", "one-yuan"), ("HC-A1", "ten-yuan")])
def test_png_encodes_exactly_the_link(api: Api, tree: None, unit: str, campaign: str) -> None:
    reply = api.get(f"/qr/{unit}/{campaign}.png")
    assert reply.status_code == 200
    assert reply.content_type == "image/png"
    assert decode_png(reply.data) == [_link(api, unit, campaign)]


def test_svg_encodes_exactly_the_link(api: Api, tree: None) -> None:
    reply = api.get("/qr/DX-XF/one-yuan.svg?size=300")
    assert reply.status_code == 200
    assert reply.content_type.startswith("image/svg+xml")
    assert b'width="300"' in reply.data
    assert decoded_texts(svg_to_image(reply.data)) == [_link(api)]


@pytest.mark.parametrize("size", [128, 777, 2048])
def test_size_sets_the_pixels(api: Api, tree: None, size: int) -> None:
    reply = api.get(f"/qr/DX-XF/one-yuan.png?size={size}")
    assert reply.status_code == 200
    image = Image.open(io.BytesIO(reply.data))
    assert image.size == (size, size)
    assert decoded_texts(image.convert("L")) == [_link(api)]


@pytest.mark.parametrize("size", ["127", "2049", "0", "-5", "big", "1e3"])
def test_size_outside_the_bounds_is_refused(api: Api, tree: None, size: str) -> None:
    reply = api.get(f"/qr/DX-XF/one-yuan.png?size={size}")
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "invalid_request"


def test_etag_and_cache_headers_allow_revalidation(api: Api, tree: None) -> None:
    first = api.get("/qr/DX-XF/one-yuan.png")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and "max-age" in first.headers["Cache-Control"]
    again = api.client.get("/qr/DX-XF/one-yuan.png", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    other = api.get("/qr/DX-XF/one-yuan.png?size=256").headers["ETag"]
    assert other != etag
    assert api.get("/qr/DX-XF/one-yuan.svg").headers["ETag"] != etag


@pytest.mark.parametrize("path", ["/qr/NOPE/one-yuan.png", "/qr/DX-XF/no-such.svg",
                                  "/qr/NOPE/one-yuan.wxacode.png", "/qr/DX-XF/one-yuan.gif"])
def test_unknown_unit_or_campaign_is_404_in_the_error_shape(api: Api, tree: None,
                                                             path: str) -> None:
    reply = api.get(path)
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "not_found"
    assert reply.get_json()["error"]["message"]


def _sim_state(api: Api) -> dict[str, Any]:
    return dict(requests.get(f"{api.sim_url}/_sim/state", timeout=5).json())


def test_wxacode_comes_from_the_stand_in_once_then_from_the_cache(api: Api, session: Any,
                                                                  tree: None) -> None:
    code = "W" + uuid.uuid4().hex[:12]  # the image cache outlives one test's database
    add_units(session, (code, "DX", "enterprise"))
    before = _sim_state(api)["wxacode_calls"]
    first = api.get(f"/qr/{code}/one-yuan.wxacode.png")
    second = api.get(f"/qr/{code}/one-yuan.wxacode.png")
    assert first.status_code == 200, first.get_json()
    assert first.content_type == "image/png"
    assert first.data == second.data
    assert _sim_state(api)["wxacode_calls"] == before + 1
    assert second.headers["ETag"] == first.headers["ETag"]


def test_wxacode_scene_is_unit_slash_campaign(api: Api, tree: None) -> None:
    reply = api.get("/qr/HC-A1/ten-yuan.wxacode.png")
    assert reply.status_code == 200
    # The stand-in draws the scene it received as an ordinary QR code in its image.
    assert decode_png(reply.data) == ["wxacode:HC-A1/ten-yuan"]


def test_a_scene_over_32_characters_is_explained() -> None:
    assert build_scene("ABCDEFGHIJKLMNOP", "abcdefghijklmno") == \
        "ABCDEFGHIJKLMNOP/abcdefghijklmno"
    with pytest.raises(InvalidRequestError, match="32"):
        build_scene("ABCDEFGHIJKLMNOPQ", "abcdefghijklmno")
