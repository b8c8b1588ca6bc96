"""Agency contacts: named users of the agency and a shared mailbox, managed by the performance manager only."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.audit import AuditAction
from accounts.contacts import ContactError, agency_contacts, agency_contacts_update, contacts_of
from accounts.models import AuditEvent, Role

from ..factories import UserFactory


@pytest.fixture
def people(setup):
    police = setup["police"]
    setup["second"] = UserFactory(
        username="second", role=Role.ANALYST, agency=police, email="", first_name="Sam", last_name="Noaddress"
    )
    setup["head"] = UserFactory(
        username="head",
        role=Role.ANALYST,
        agency=police,
        email="head@police.example",
        first_name="Asha",
        last_name="Khan",
    )
    return setup


def test_with_no_one_named_the_agencys_active_analysts_are_its_contacts(people):
    UserFactory(
        username="gone", role=Role.ANALYST, agency=people["police"], email="gone@police.example", is_active=False
    )
    entry = contacts_of(people["police"])
    assert not entry.named
    assert {u.username for u in entry.people} == {"analyst", "head", "second"}
    assert sorted(entry.addresses) == ["analyst@police.example", "head@police.example"]
    assert [u.username for u in entry.without_address] == ["second"]


def test_named_contacts_and_the_shared_mailbox_are_who_is_emailed(people):
    agency_contacts_update(
        actor=people["manager"],
        agency_id=people["police"].pk,
        user_ids=[people["head"].pk],
        shared_mailbox=" performance@police.example ",
    )
    entry = contacts_of(people["police"])
    assert entry.named
    assert [str(r) for r in entry.recipients] == [
        "Asha Khan (head@police.example)",
        "the shared mailbox (performance@police.example)",
    ]
    assert entry.told() == (
        "Staffordshire Police: Asha Khan (head@police.example), the shared mailbox (performance@police.example)"
    )


def test_an_agency_with_no_address_says_so_plainly(people):
    people["hmpps_analyst"].email = ""
    people["hmpps_analyst"].save()
    entry = contacts_of(people["hmpps"])
    assert entry.recipients == []
    assert entry.told() == "No one at HM Prison and Probation Service has an e-mail address — add a contact."


def test_changing_contacts_is_audited_with_old_and_new_and_a_repeat_records_nothing(people):
    args = {"agency_id": people["police"].pk, "user_ids": [people["head"].pk], "shared_mailbox": "team@police.example"}
    agency_contacts_update(actor=people["manager"], **args)
    agency_contacts_update(actor=people["manager"], **args)
    (event,) = AuditEvent.objects.filter(action=AuditAction.AGENCY_CONTACTS_CHANGED)
    assert event.actor == people["manager"]
    assert event.old == {"people": [], "shared_mailbox": ""}
    assert event.new == {"people": ["Asha Khan <head@police.example>"], "shared_mailbox": "team@police.example"}
    assert event.summary == "Staffordshire Police: contacts changed"


def test_a_contact_must_be_a_user_of_the_agency(people):
    with pytest.raises(ContactError, match="active user of Staffordshire Police"):
        agency_contacts_update(
            actor=people["manager"],
            agency_id=people["police"].pk,
            user_ids=[people["hmpps_analyst"].pk],
            shared_mailbox="",
        )
    assert not AuditEvent.objects.filter(action=AuditAction.AGENCY_CONTACTS_CHANGED).exists()


@pytest.mark.parametrize("who", ["analyst", "board"])
def test_analysts_and_board_members_cannot_change_contacts(people, who):
    with pytest.raises(PermissionDenied):
        agency_contacts_update(
            actor=people[who], agency_id=people["police"].pk, user_ids=[], shared_mailbox="x@y.example"
        )


def test_contacts_of_every_agency_in_a_fixed_number_of_queries(people, django_assert_num_queries):
    for n in range(5):
        UserFactory(username=f"more{n}", role=Role.ANALYST, agency=people["hmpps"], email=f"m{n}@hmpps.example")
    agency_contacts_update(
        actor=people["manager"], agency_id=people["police"].pk, user_ids=[people["head"].pk], shared_mailbox=""
    )
    with django_assert_num_queries(4):
        lists = agency_contacts()
        assert len(lists[people["hmpps"].pk].addresses) == 6


# --- the pages ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "status"), [("analyst", 403), ("hmpps_analyst", 403), ("board", 403), ("manager", 200)]
)
def test_only_the_performance_manager_sees_the_agencies_pages(client, people, who, status):
    client.force_login(people[who])
    assert client.get(reverse("agencies")).status_code == status
    assert client.get(reverse("agency-contacts", args=["police"])).status_code == status
    response = client.post(
        reverse("agency-contacts", args=["police"]), {"users": [people["analyst"].pk], "shared_mailbox": ""}
    )
    assert response.status_code == (302 if who == "manager" else 403)
    changed = AuditEvent.objects.filter(action=AuditAction.AGENCY_CONTACTS_CHANGED).exists()
    assert changed == (who == "manager")


def test_anonymous_visitors_are_sent_to_log_in(client, people):
    response = client.get(reverse("agencies"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_agencies_page_lists_contacts_and_who_has_no_address(client, people):
    people["hmpps_analyst"].email = ""
    people["hmpps_analyst"].save()
    client.force_login(people["manager"])
    html = client.get(reverse("agencies")).content.decode()
    assert "head@police.example" in html
    assert "Sam Noaddress" in html and "(no e-mail address)" in html
    assert "No one at HM Prison and Probation Service has an e-mail address" in html
    csv = client.get(reverse("agencies"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "HM Prison and Probation Service,hmpps,,,no e-mail address" in csv
    assert "Staffordshire Police,police,Asha Khan,head@police.example,analyst (no one named)" in csv


def test_the_edit_form_is_rendered_by_crispy_forms_gds_and_saves(client, people):
    client.force_login(people["manager"])
    url = reverse("agency-contacts", args=["police"])
    html = client.get(url).content.decode()
    assert 'class="govuk-checkboxes__input"' in html
    assert "govuk-fieldset__legend" in html and "Named contacts" in html
    assert "Sam Noaddress (no e-mail address)" in html
    response = client.post(url, {"users": [people["head"].pk], "shared_mailbox": "team@police.example"}, follow=True)
    assert (
        "Contacts saved. Staffordshire Police: Asha Khan (head@police.example), the shared mailbox (team@police.example)"
        in (response.content.decode())
    )


def test_a_bad_mailbox_is_named_on_its_field(client, people):
    client.force_login(people["manager"])
    response = client.post(reverse("agency-contacts", args=["police"]), {"shared_mailbox": "not an address"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address" in html
    assert 'href="#id_shared_mailbox"' in html
    assert not AuditEvent.objects.filter(action=AuditAction.AGENCY_CONTACTS_CHANGED).exists()
