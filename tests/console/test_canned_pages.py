"""The canned responses page and the composer's picker endpoint: who edits which response, what a
wrong value is told (nothing saved), the audit rows, uploads, and the rendered preview."""

import re
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import AuditLog, User
from livechat.models import CannedResponse, Conversation
from tests.factories import open_conversation, png_bytes

pytestmark = pytest.mark.django_db

PAGE = "/console/settings/canned/"


def signed_in(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def form(**fields: Any) -> dict[str, Any]:
    return {
        "title": "Hello",
        "shortcut": "hi",
        "text": "สวัสดีค่ะ คุณ{customer_name}",
        "is_active": "on",
        **fields,
    }


def audit_rows() -> list[AuditLog]:
    return list(AuditLog.objects.filter(kind=AuditLog.Kind.SETTINGS_CHANGED).order_by("pk"))


def test_signed_out_visitors_are_sent_to_the_login_page():
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_supervisor_adds_a_shared_response_and_the_audit_log_says_so(team):
    response = signed_in(team["malee"]).post(PAGE, form(shared="on"), follow=True)

    assert "Saved" in text_of(response)
    saved = CannedResponse.objects.get()
    assert (saved.owner, saved.shortcut, saved.text) == (None, "hi", "สวัสดีค่ะ คุณ{customer_name}")
    (row,) = audit_rows()
    assert row.target == "canned:shared:hi"
    assert row.actor == team["malee"]
    assert row.changes["text"] == [None, "สวัสดีค่ะ คุณ{customer_name}"]


def test_an_unknown_variable_is_refused_at_save_and_nothing_is_saved(team):
    response = signed_in(team["somchai"]).post(PAGE, form(text="สวัสดี {customer}"))

    assert response.status_code == 200
    assert "Unknown placeholder {customer}" in text_of(response)
    assert not CannedResponse.objects.exists()
    assert audit_rows() == []


def test_too_many_quick_replies_or_a_long_label_are_refused_in_thai(team):
    lines = "\n".join(f"ปุ่ม{i}" for i in range(14))
    response = signed_in(team["somchai"], "th").post(PAGE, form(quick_replies_text=lines))
    assert response.status_code == 200
    assert "13" in text_of(response)
    response = signed_in(team["somchai"]).post(PAGE, form(quick_replies_text="ป" * 21 + " | x"))
    assert "longer than LINE" in text_of(response)
    assert not CannedResponse.objects.exists()


def test_an_operators_response_is_their_own_even_if_they_ask_for_shared(team):
    signed_in(team["somchai"]).post(PAGE, form(shared="on", quick_replies_text="ใช่ | ใช่ค่ะ\nไม่ใช่"))

    saved = CannedResponse.objects.get()
    assert saved.owner == team["somchai"]
    assert saved.quick_replies == [{"label": "ใช่", "text": "ใช่ค่ะ"}, {"label": "ไม่ใช่", "text": "ไม่ใช่"}]


def test_shortcuts_are_unique_per_owner(team):
    CannedResponse.objects.create(title="Shared", shortcut="hi", text="x")
    CannedResponse.objects.create(title="Nok's", shortcut="mine", text="x", owner=team["nok"])
    somchai = signed_in(team["somchai"])

    assert somchai.post(PAGE, form(shortcut="hi")).status_code == 302  # own may reuse a shared one
    assert somchai.post(PAGE, form(shortcut="mine")).status_code == 302  # and one of Nok's
    again = somchai.post(PAGE, form(shortcut="hi"))
    assert "You already have a response with this shortcut." in text_of(again)
    shared_again = signed_in(team["malee"]).post(PAGE, form(shortcut="hi", shared="on"))
    assert "A shared response already uses this shortcut." in text_of(shared_again)
    assert CannedResponse.objects.count() == 4


def test_an_operator_cannot_edit_or_delete_a_shared_or_another_operators_response(team):
    shared = CannedResponse.objects.create(title="Shared", shortcut="hi", text="x")
    noks = CannedResponse.objects.create(title="Nok's", shortcut="nok", text="x", owner=team["nok"])
    somchai = signed_in(team["somchai"])

    for response in (shared, noks):
        assert somchai.get(f"{PAGE}{response.pk}/").status_code == 403
        assert somchai.post(f"{PAGE}{response.pk}/", form(text="changed")).status_code == 403
        assert somchai.post(f"{PAGE}{response.pk}/delete/").status_code == 403
    assert {r.text for r in CannedResponse.objects.all()} == {"x"}
    listing = text_of(somchai.get(PAGE))
    assert "/hi" in listing and "/nok" not in listing  # Nok's own are not even listed
    assert audit_rows() == []


def test_a_supervisor_edits_a_shared_response_but_not_an_operators_own(team):
    shared = CannedResponse.objects.create(title="Shared", shortcut="hi", text="x")
    noks = CannedResponse.objects.create(title="Nok's", shortcut="nok", text="x", owner=team["nok"])
    malee = signed_in(team["malee"])

    assert malee.post(f"{PAGE}{shared.pk}/", form(text="ใหม่")).status_code == 302
    assert malee.post(f"{PAGE}{noks.pk}/", form(text="ใหม่")).status_code == 403
    shared.refresh_from_db()
    assert shared.text == "ใหม่"
    (row,) = audit_rows()
    assert row.changes["text"] == ["x", "ใหม่"]


def test_an_operator_edits_and_deletes_their_own(team):
    mine = CannedResponse.objects.create(title="Mine", shortcut="m", text="x", owner=team["somchai"])
    somchai = signed_in(team["somchai"])

    assert somchai.post(f"{PAGE}{mine.pk}/", form(shortcut="m", text="y")).status_code == 302
    assert somchai.post(f"{PAGE}{mine.pk}/delete/").status_code == 302
    assert not CannedResponse.objects.exists()
    assert [row.target for row in audit_rows()] == ["canned:somchai:m", "canned:somchai:m"]


def test_an_uploaded_image_is_stored_and_served_at_a_public_url(team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = SimpleUploadedFile("x.png", png_bytes(), content_type="image/png")
    signed_in(team["somchai"]).post(PAGE, form(image=image))

    saved = CannedResponse.objects.get()
    assert saved.image_url.startswith("https://") and saved.image_url == saved.image_preview_url
    served = Client().get(saved.image_url.removeprefix("https://testserver"))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"


@pytest.mark.django_db(transaction=True)
def test_a_replaced_or_deleted_image_is_removed_from_storage(team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    somchai = signed_in(team["somchai"])
    somchai.post(PAGE, form(image=SimpleUploadedFile("x.png", png_bytes(), content_type="image/png")))
    first = CannedResponse.objects.get()
    somchai.post(f"{PAGE}{first.pk}/", form(image=SimpleUploadedFile("y.png", png_bytes(5, 5))))
    second = CannedResponse.objects.get()

    assert not default_storage.exists(first.image_path)
    assert default_storage.exists(second.image_path)
    somchai.post(f"{PAGE}{second.pk}/delete/")
    assert not default_storage.exists(second.image_path)


def test_a_file_that_is_no_image_is_refused(team):
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = signed_in(team["somchai"]).post(PAGE, form(image=fake))
    assert "Only JPEG and PNG" in text_of(response)
    assert not CannedResponse.objects.exists()


# --- the picker ------------------------------------------------------------------------------------


def picker_url(conversation: Conversation, q: str = "") -> str:
    return f"/console/api/conversations/{conversation.pk}/canned?q={q}"


def test_the_picker_previews_each_response_for_the_open_conversation(team, django_assert_num_queries):
    CannedResponse.objects.create(title="ทักทาย", shortcut="hello", text="สวัสดีค่ะ คุณ{customer_name}")
    CannedResponse.objects.create(
        title="Mine", shortcut="me", text="{operator_name} ค่ะ", owner=team["somchai"]
    )
    CannedResponse.objects.create(title="Nok's", shortcut="nok", text="x", owner=team["nok"])
    conversation = open_conversation("แก้ว", Conversation.Status.ACTIVE, operator=team["somchai"])
    somchai = signed_in(team["somchai"])

    # session, user, conversation, the day's business hours and holidays, the responses
    with django_assert_num_queries(6):
        found = somchai.get(picker_url(conversation)).json()["responses"]
    previews = {item["shortcut"]: item["preview"] for item in found}
    assert previews == {"hello": "สวัสดีค่ะ คุณแก้ว", "me": "Somchai ค่ะ"}
    assert [item["shortcut"] for item in somchai.get(picker_url(conversation, "ทัก")).json()["responses"]] == [
        "hello"
    ]


def test_the_picker_is_for_team_members_only(team, django_user_model):
    conversation = open_conversation("แก้ว")
    assert Client().get(picker_url(conversation)).status_code == 401
    outsider = django_user_model.objects.create_user(username="x", password="pw", role="")
    assert signed_in(outsider).get(picker_url(conversation)).status_code == 403
    assert signed_in(team["somchai"]).get("/console/api/conversations/999999/canned").status_code == 404
