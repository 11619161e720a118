"""Parsing the configured secret lists: whsec_ for Standard Webhooks, raw text for Jira."""

from __future__ import annotations

import base64

import pytest

from shared.tickets.errors import SignatureError
from shared.tickets.signing_secrets import SecretFormat, parse_secrets

KEY = b"k" * 32
WHSEC = "whsec_" + base64.b64encode(KEY).decode()


def test_whsec_secret_decodes_to_its_key_bytes() -> None:
    (secret,) = parse_secrets(WHSEC)
    assert secret.key == KEY and secret.position == 1


def test_unpadded_base64_is_accepted() -> None:
    unpadded = "whsec_" + base64.b64encode(b"k" * 25).decode().rstrip("=")
    assert parse_secrets(unpadded)[0].key == b"k" * 25


def test_list_keeps_order_and_ignores_blanks_and_spaces() -> None:
    other = "whsec_" + base64.b64encode(b"m" * 32).decode()
    secrets = parse_secrets(f" {WHSEC} ,, {other} ,")
    assert [s.key for s in secrets] == [KEY, b"m" * 32]
    assert [s.position for s in secrets] == [1, 2]


def test_raw_secrets_are_utf8_text() -> None:
    secrets = parse_secrets("jira-secret-0123456789,second-secret-abcdef", SecretFormat.RAW)
    assert [s.key for s in secrets] == [b"jira-secret-0123456789", b"second-secret-abcdef"]


@pytest.mark.parametrize(
    ("value", "fmt", "hint"),
    [
        (None, SecretFormat.WHSEC, "no secret configured"),
        ("  , ", SecretFormat.WHSEC, "no secret configured"),
        (base64.b64encode(KEY).decode(), SecretFormat.WHSEC, "secret #1 does not start with 'whsec_'"),
        ("whsec_***notbase64***", SecretFormat.WHSEC, "secret #1 is not base64"),
        (
            f"{WHSEC},whsec_" + base64.b64encode(b"short").decode(),
            SecretFormat.WHSEC,
            "secret #2 must decode",
        ),
        (f"{WHSEC},{WHSEC}", SecretFormat.WHSEC, "listed twice"),
        (",".join([WHSEC[:-4] + f"{n:03d}=" for n in range(6)]), SecretFormat.WHSEC, "more than 5"),
        ("tooshort", SecretFormat.RAW, "secret #1 must be 16..256 characters"),
    ],
)
def test_bad_configuration_is_refused_by_position_without_the_value(
    value: str | None, fmt: SecretFormat, hint: str
) -> None:
    with pytest.raises(SignatureError) as caught:
        parse_secrets(value, fmt)
    assert caught.value.code.value == "bad_secret_config"
    assert hint in caught.value.hint
    for part in (value or "").split(","):
        if len(part.strip()) > 6:
            assert part.strip() not in str(caught.value) + caught.value.hint + repr(caught.value)


@pytest.mark.parametrize("fmt", [SecretFormat.RAW, SecretFormat.WHSEC])
def test_an_unresolved_key_vault_reference_is_never_a_secret(fmt: SecretFormat) -> None:
    # Azure leaves the reference text in the setting when it cannot resolve it; as a Jira secret that
    # text (vault and secret name, nothing secret) would otherwise be a valid 16..256-character key.
    reference = "@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/pimwarden-tickets-jira/)"
    with pytest.raises(SignatureError) as caught:
        parse_secrets(reference, fmt)
    assert caught.value.code.value == "bad_secret_config"
    assert "unresolved Key Vault reference" in caught.value.hint
