"""Associations v4 with HubSpot's directional default type ids: default and labeled PUTs, primary
implies unlabeled, v3 reads list a primary company twice, batch endpoints, associations on create."""

from __future__ import annotations

import httpx


def _contact(api: httpx.Client, email: str) -> str:
    return api.post("/crm/v3/objects/contacts", json={"properties": {"email": email}}).json()["id"]


def _company(api: httpx.Client, name: str) -> str:
    return api.post("/crm/v3/objects/companies", json={"properties": {"name": name}}).json()["id"]


def test_default_association_uses_279_and_280(api: httpx.Client) -> None:
    contact, company = _contact(api, "a@x.com"), _company(api, "Acme")
    response = api.put(f"/crm/v4/objects/contact/{contact}/associations/default/company/{company}")
    assert response.status_code == 200
    assert response.json()["results"][0]["associationSpec"] == {
        "associationCategory": "HUBSPOT_DEFINED",
        "associationTypeId": 279,
    }
    back = api.get(f"/crm/v4/objects/companies/{company}/associations/contacts").json()["results"]
    assert back == [
        {"toObjectId": contact, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 280}]}
    ]


def test_primary_company_also_creates_unlabeled_and_v3_lists_both(api: httpx.Client) -> None:
    contact, company = _contact(api, "p@x.com"), _company(api, "Prime")
    response = api.put(
        f"/crm/v4/objects/0-1/{contact}/associations/0-2/{company}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    assert response.status_code == 201 and response.json()["labels"] == ["Primary"]
    types = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()["results"][0]
    assert [t["typeId"] for t in types["associationTypes"]] == [1, 279]
    v3 = api.get(f"/crm/v3/objects/contacts/{contact}", params={"associations": "companies"}).json()
    assert v3["associations"]["companies"]["results"] == [
        {"id": company, "type": "contact_to_company"},
        {"id": company, "type": "contact_to_company_unlabeled"},
    ]


def test_a_type_id_in_the_wrong_direction_is_400(api: httpx.Client) -> None:
    contact, company = _contact(api, "w@x.com"), _company(api, "Wrong")
    response = api.put(
        f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}],
    )
    assert response.status_code == 400
    assert (
        response.json()["message"]
        == "invalid from object type 0-1 for associations to be created. expected: 0-2"
    )


def test_emails_and_notes_associate_on_create(api: httpx.Client) -> None:
    contact = _contact(api, "e@x.com")
    email = api.post(
        "/crm/v3/objects/emails",
        json={
            "properties": {
                "hs_timestamp": "2024-01-01T00:00:00Z",
                "hs_email_direction": "EMAIL",
                "hs_email_subject": "Hi",
                "hs_email_headers": '{"from":{"email":"me@x.com"},"to":[]}',
            },
            "associations": [
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}],
                }
            ],
        },
    )
    assert email.status_code == 201 and email.json()["properties"]["hs_email_from_email"] == "me@x.com"
    note = api.post(
        "/crm/v3/objects/notes",
        json={
            "properties": {"hs_timestamp": "1700000000000", "hs_note_body": "n"},
            "associations": [
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                }
            ],
        },
    )
    assert note.status_code == 201
    emails = api.get(f"/crm/v4/objects/contacts/{contact}/associations/emails").json()["results"]
    assert emails[0]["associationTypes"][0]["typeId"] == 197
    missing = api.post(
        "/crm/v3/objects/notes",
        json={
            "properties": {"hs_timestamp": "0"},
            "associations": [
                {
                    "to": {"id": "999"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                }
            ],
        },
    )
    assert missing.status_code == 400
    search = api.post(
        "/crm/v3/objects/emails/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "associations.contact", "operator": "EQ", "value": contact}]}
            ]
        },
    )
    assert search.json()["total"] == 1


def test_batch_create_read_and_archive(api: httpx.Client) -> None:
    contacts = [_contact(api, f"b{i}@x.com") for i in range(3)]
    company = _company(api, "Batch")
    created = api.post(
        "/crm/v4/associations/contacts/companies/batch/create",
        json={
            "inputs": [
                {
                    "from": {"id": c},
                    "to": {"id": company},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
                for c in contacts
            ]
        },
    )
    assert created.status_code == 201 and len(created.json()["results"]) == 3
    read = api.post("/crm/v4/associations/companies/contacts/batch/read", json={"inputs": [{"id": company}]})
    assert sorted(t["toObjectId"] for t in read.json()["results"][0]["to"]) == sorted(contacts)
    archived = api.post(
        "/crm/v4/associations/companies/contacts/batch/archive",
        json={"inputs": [{"from": {"id": company}, "to": [{"id": contacts[0]}]}]},
    )
    assert archived.status_code == 204
    after = api.post(
        "/crm/v4/associations/contacts/companies/batch/read",
        json={"inputs": [{"id": contacts[0]}, {"id": contacts[1]}]},
    )
    assert after.status_code == 207 and [r["from"]["id"] for r in after.json()["results"]] == [contacts[1]]
    default = api.post(
        "/crm/v4/associations/contacts/companies/batch/associate/default",
        json={"inputs": [{"from": {"id": contacts[0]}, "to": {"id": company}}]},
    )
    assert default.status_code == 200
    assert (
        api.delete(f"/crm/v4/objects/contacts/{contacts[0]}/associations/companies/{company}").status_code
        == 204
    )
    assert api.get(f"/crm/v4/objects/contacts/{contacts[0]}/associations/companies").json()["results"] == []
