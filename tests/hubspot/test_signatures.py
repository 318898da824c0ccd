"""Golden tests: HubSpot's published signature test vectors (reference §8.3) for v1, v2 and v3."""

from hubspot_pipeline.hubspot import signatures

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    b'"changeFlag":"NEW","appId":54321}]'
)
TIMESTAMP = 1564113600000


def test_v1_matches_hubspots_vector() -> None:
    assert (
        signatures.sign_v1(SECRET, BODY) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    )


def test_v2_matches_hubspots_vectors() -> None:
    uri = "https://www.example.com/webhook_uri"
    assert (
        signatures.sign_v2(SECRET, "GET", uri)
        == "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    )
    assert (
        signatures.sign_v2(SECRET, "POST", uri, b'{"example_field":"example_value"}')
        == "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
    )


def test_v3_matches_hubspots_vectors() -> None:
    plain = "https://www.example.com/webhook_uri"
    assert (
        signatures.sign_v3(SECRET, "POST", plain, BODY, TIMESTAMP)
        == "DxmVAjFNa2xfF3YgQjdZP6TNcok9k1oaH7UXombPtvw="
    )
    encoded = "https://www.example.com/webhook_uri?portal=62515&cb=a%3Ab%2Fc%40d"
    assert (
        signatures.sign_v3(SECRET, "POST", encoded, BODY, TIMESTAMP)
        == "YHamRtsOc0OhVyFPPlwuzrVWsacZpmx8eMBEvcmW3fA="
    )


def test_v3_decodes_only_the_listed_escapes() -> None:
    assert signatures.decode_v3_uri("https://x/a%20b%2Bc%3a%2f") == "https://x/a%20b%2Bc:/"


def test_v3_rejects_a_stale_timestamp_and_a_changed_body() -> None:
    uri = "https://www.example.com/webhook_uri"
    good = signatures.sign_v3(SECRET, "POST", uri, BODY, TIMESTAMP)
    fresh = TIMESTAMP + 60_000
    assert signatures.verify_v3(SECRET, "POST", uri, BODY, good, str(TIMESTAMP), now_ms=fresh)
    assert not signatures.verify_v3(
        SECRET, "POST", uri, BODY, good, str(TIMESTAMP), now_ms=TIMESTAMP + 301_000
    )
    assert not signatures.verify_v3(SECRET, "POST", uri, BODY + b" ", good, str(TIMESTAMP), now_ms=fresh)
    assert not signatures.verify_v3(SECRET, "POST", uri, BODY, None, str(TIMESTAMP), now_ms=fresh)


def test_v3_refuses_a_timestamp_that_is_not_ascii_digits_without_raising() -> None:
    # Regression: str.isdigit() passed "²" and "١٢٣" (Arabic-Indic digits), and int() then raised inside the
    # verifier; the API checks the header first, but the verifier must stand on its own.
    uri = "https://www.example.com/webhook_uri"
    good = signatures.sign_v3(SECRET, "POST", uri, BODY, TIMESTAMP)
    for bad in ["²", "١٢٣", "12a", "", " 1", "9" * 5000]:
        assert not signatures.verify_v3(SECRET, "POST", uri, BODY, good, bad, now_ms=TIMESTAMP)
