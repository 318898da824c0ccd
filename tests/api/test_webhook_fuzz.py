"""Property test of the webhook receiver's parser, through the app: validly signed bodies built from arbitrary
JSON (any text, surrogates and NULs included, numbers of any size, nesting of any depth, wrong types in
HubSpot's fields) are answered 200 or 400, never 5xx; a 200 accounts for every event. Schemathesis cannot
sign a delivery, so Hypothesis generates them here. Bounded examples; each is one request to PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from api_support import Tenant, url
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_webhooks import event, v3_headers

PLACEHOLDER = "__raw_fragment__"
text = st.text(max_size=12) | st.text(
    st.characters(min_codepoint=0, max_codepoint=0x20)
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    max_size=4,
)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=12,
)
# JSON that Python's json.dumps never writes but a sender can: numbers past a float's range, huge integers,
# deep nesting, escapes of NUL and of lone or paired surrogates.
raw_fragments = st.integers(1, 40).map(lambda depth: "[" * depth + "1" + "]" * depth) | st.sampled_from(
    [
        "1e999",
        "-1e999",
        "1e-999",
        "9" * 4000,
        '"\\u0000"',
        '"\\ud800"',
        '"\\udc00x"',
        '"\\ud83d\\ude00"',
        "{}",
    ]
)
fields = st.sampled_from(
    ["portalId", "eventId", "subscriptionId", "objectId", "occurredAt", "appId", "subscriptionType",
     "propertyName", "propertyValue", "changeSource", "mergedObjectIds", "extra"]
)  # fmt: skip


@st.composite
def deliveries(draw: st.DrawFn, portal_id: int) -> bytes:
    events: list[Any] = []
    for _ in range(draw(st.integers(1, 4))):
        changes = draw(st.dictionaries(fields, values | st.just(PLACEHOLDER), max_size=3))
        events.append({**event(portal_id), **changes} if draw(st.booleans()) else changes)
    body = json.dumps(events)
    while f'"{PLACEHOLDER}"' in body:
        body = body.replace(f'"{PLACEHOLDER}"', draw(raw_fragments), 1)
    return body.encode()


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_signed_body_makes_the_receiver_answer_5xx(client: TestClient, tenant: Tenant, data) -> None:
    body = data.draw(deliveries(tenant.hub_id))
    response = client.post(url("/webhooks"), content=body, headers=v3_headers(body))
    assert response.status_code in (200, 400), (response.status_code, response.text, body[:300])
    if response.status_code == 200:
        receipt = response.json()
        assert receipt["received"] == receipt["stored"] + receipt["duplicates"] == len(json.loads(body))
    else:
        assert response.json()["error"]["code"] in ("malformed_body", "malformed_event")
