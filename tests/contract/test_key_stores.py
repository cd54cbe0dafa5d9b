"""One KeyStore contract for memory, a 0600 file and Secrets Manager (moto server)."""

import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.aws.secrets_key_store import SecretsManagerKeyStore
from adapters.local import keyring_codec
from adapters.local.file_key_store import FileKeyStore, InsecureKeyFile
from adapters.memory.key_store import InMemoryKeyStore
from application.ports.tokens import KeyStore
from domain.keys.model import KeyState, RotationPolicy, SigningKey
from domain.keys.ring import KeyRing
from tests.fixtures.aws import Aws

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def make_key(now: datetime) -> SigningKey:
    return SigningKey.new(os.urandom(32), os.urandom(32), now)


def ring_in_every_state() -> KeyRing:
    """One key in each state, every timestamp set that the state implies."""
    keys = [make_key(T0 + timedelta(days=i)) for i in range(5)]
    day = timedelta(days=1)
    retired, retiring, active, _next, revoked = keys
    for key in (retired, retiring, active):
        key.activate(key.created_at + day)
    for key in (retired, retiring):
        key.retire_signing(key.created_at + 2 * day)
    retired.unpublish(retired.created_at + 3 * day)
    revoked.revoke(revoked.created_at + timedelta(minutes=5))
    ring = KeyRing(keys=keys)
    assert {k.state for k in ring.keys} == set(KeyState)
    return ring


@pytest.fixture(params=["memory", "file", pytest.param("secretsmanager", marks=pytest.mark.moto)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyStore]:
    if request.param == "memory":
        yield InMemoryKeyStore()
    elif request.param == "file":
        yield FileKeyStore(tmp_path / "keys" / "signing-keys.json")
    else:
        aws: Aws = request.getfixturevalue("aws")
        async with SecretsManagerKeyStore.create(
            aws.session, "atelier/signing-keys", region=aws.region, endpoint_url=aws.endpoint_url
        ) as sm_store:
            yield sm_store


async def test_a_fresh_store_holds_an_empty_ring(store: KeyStore) -> None:
    assert (await store.load()).keys == []


async def test_round_trip_keeps_every_field(store: KeyStore) -> None:
    ring = ring_in_every_state()
    await store.save(ring)
    loaded = await store.load()
    assert loaded == ring
    assert all(k.created_at.tzinfo is not None for k in loaded.keys)


async def test_save_replaces_the_previous_ring(store: KeyStore) -> None:
    ring = KeyRing()
    ring.rotate(T0, RotationPolicy(), make_key)
    await store.save(ring)
    ring.revoke(ring.keys[0].kid, T0 + timedelta(minutes=1))
    await store.save(ring)
    loaded = await store.load()
    assert loaded.keys[0].state is KeyState.REVOKED
    assert len(loaded.keys) == len(ring.keys)


async def test_loaded_rings_are_not_shared(store: KeyStore) -> None:
    ring = KeyRing()
    ring.rotate(T0, RotationPolicy(), make_key)
    await store.save(ring)
    first = await store.load()
    first.keys.clear()
    ring.keys.clear()
    assert len((await store.load()).keys) == 2


# ---- the file store's permissions ----------------------------------------------------

async def test_file_is_created_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "data" / "signing-keys.json"
    await FileKeyStore(path).save(ring_in_every_state())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["signing-keys.json"]  # no temp left


async def test_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    store = FileKeyStore(path)
    await store.save(ring_in_every_state())
    path.chmod(0o644)
    with pytest.raises(InsecureKeyFile, match="0644"):
        await store.load()
    path.chmod(0o640)
    with pytest.raises(InsecureKeyFile):
        await store.load()


async def test_saving_over_a_loose_file_tightens_it(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    path.write_text(keyring_codec.dumps(KeyRing()))
    path.chmod(0o644)
    store = FileKeyStore(path)
    await store.save(ring_in_every_state())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len((await store.load()).keys) == 5


def test_codec_errors_never_quote_the_document() -> None:
    ring = ring_in_every_state()
    text = keyring_codec.dumps(ring).replace('"state": "active"', '"state": 7')
    with pytest.raises(keyring_codec.KeyRingFormatError) as caught:
        keyring_codec.loads(text)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    for key in ring.keys:
        assert key.kid not in str(caught.value)


def test_codec_writes_base64url_and_iso_8601() -> None:
    ring = ring_in_every_state()
    text = keyring_codec.dumps(ring)
    assert T0.isoformat() in text  # 2025-03-01T12:00:00.123456+00:00
    assert "+" not in text.replace("+00:00", "") and "/" not in text


@pytest.mark.moto
async def test_secretsmanager_saves_new_versions_of_one_secret(aws: Aws) -> None:
    ring = ring_in_every_state()
    async with SecretsManagerKeyStore.create(
        aws.session, "atelier/keys", region=aws.region, endpoint_url=aws.endpoint_url
    ) as store:
        await store.save(KeyRing())
        await store.save(ring)
    async with aws.client("secretsmanager") as sm:
        versions = await sm.list_secret_version_ids(SecretId="atelier/keys")
        value = await sm.get_secret_value(SecretId="atelier/keys")
    assert len(versions["Versions"]) == 2
    assert keyring_codec.loads(value["SecretString"]) == ring
