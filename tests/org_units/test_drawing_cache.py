"""Issue 13, finding 4: codes and posters are drawn once per content (unit name, campaign,
size, public URL, template revision), revalidated with ETag and 304, and only a few are drawn
at once: past that a request gets 503 with Retry-After instead of a worker."""

from __future__ import annotations

from contextlib import ExitStack

from app.infra.render_cache import RenderSlots
from app.runtime import RENDER_SLOTS
from tests.helpers import Api

POSTER = "/posters/DX-XF/one-yuan.png"


def _drawn(api: Api) -> int:
    return api.runtime.drawings.drawn


def test_a_poster_is_drawn_once_and_revalidated_without_drawing(api: Api, tree: None) -> None:
    first = api.get(POSTER)
    assert first.status_code == 200 and "max-age" in first.headers["Cache-Control"]
    drawn = _drawn(api)
    again = api.get(POSTER)
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    revalidated = api.client.get(POSTER, headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.data == b""
    assert revalidated.headers["ETag"] == first.headers["ETag"]
    assert _drawn(api) == drawn


def test_each_kind_and_size_is_its_own_drawing(api: Api, tree: None) -> None:
    before = _drawn(api)
    for path in ("/qr/DX-XF/one-yuan.png?size=200", "/qr/DX-XF/one-yuan.png?size=201",
                 "/qr/DX-XF/one-yuan.svg?size=200", "/posters/DX-XF/one-yuan.pdf",
                 "/qr/DX-XF/one-yuan.png?size=200"):
        assert api.get(path).status_code == 200, path
    assert _drawn(api) == before + 4


def test_renaming_the_unit_draws_a_new_poster(api: Api, tree: None,
                                              boss: dict[str, str]) -> None:
    first = api.get(POSTER)
    drawn = _drawn(api)
    renamed = api.client.patch("/admin/api/units/DX-XF", headers=boss, json={"name": "新名字"})
    assert renamed.status_code == 200
    second = api.get(POSTER)
    assert second.headers["ETag"] != first.headers["ETag"] and second.data != first.data
    assert _drawn(api) == drawn + 1


def test_with_every_slot_taken_a_new_drawing_is_refused_a_kept_one_served(
        api: Api, tree: None) -> None:
    kept = api.get("/qr/DX-XF/one-yuan.svg")
    folder = api.runtime.settings.instance_dir / "render-slots"
    with ExitStack() as held:  # as if other workers were drawing on every slot
        for _ in range(RENDER_SLOTS):
            held.enter_context(RenderSlots(folder, RENDER_SLOTS, 0.0).slot())
        busy = api.get("/posters/HC-A/ten-yuan.pdf")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "1"
        assert busy.get_json()["error"]["code"] == "busy"
        again = api.get("/qr/DX-XF/one-yuan.svg")
        assert again.status_code == 200 and again.data == kept.data
    assert api.get("/posters/HC-A/ten-yuan.pdf").status_code == 200


def test_the_public_url_is_part_of_what_is_drawn(api: Api, tree: None) -> None:
    from app.services.codes.qr_codes import qr_etag

    assert qr_etag("https://a.example/d/X/one-yuan", "png", 512) != \
        qr_etag("https://b.example/d/X/one-yuan", "png", 512)
