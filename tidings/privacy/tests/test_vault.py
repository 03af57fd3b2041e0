"""The vault: envelope encryption per contact, blind indexes, shredding and rotation."""

import base64

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from tidings.contacts import actions, selectors
from tidings.contacts.models import Contact, ContactSearchToken
from tidings.privacy import vault
from tidings.privacy.models import ContactKey, KeyKind, WorkspaceKey
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


def all_region_bytes(alias):
    """Return every value of every table in a region database, as one bytes blob (direct SQL)."""
    connection = connections[alias]
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\x00".join(chunks)


def test_a_contact_reads_back_what_was_written(ada):
    view = selectors.contact_get(ada.id)
    assert (view.email, view.get("firstname"), view.get("lastname"), view.get("city")) == (
        "ada@analytical.example",
        "Ada",
        "Quillfeather",
        "London",
    )


def test_identifying_values_never_reach_the_database_in_clear(ada):
    actions.note_add(ada.id, "Prefers the difference engine", principal=system())
    stored = all_region_bytes("region_eu")
    for secret in (b"ada@analytical.example", b"Quillfeather", b"Prefers the difference engine"):
        assert secret not in stored
    assert b"analytical.example" in stored, "the email's domain is kept in clear for segmentation"
    assert b"London" in stored, "non-identifying fields stay in clear"


def test_a_ciphertext_copied_to_another_contact_does_not_decrypt(ada, grace):
    ring = vault.keyring()
    with pytest.raises(vault.DecryptionFailed):
        ring.data_key(grace.id).decrypt("profile", ada.profile_enc)


def test_a_ciphertext_copied_to_another_field_does_not_decrypt(ada):
    key = vault.keyring().data_key(ada.id)
    with pytest.raises(vault.DecryptionFailed):
        key.decrypt("note", ada.profile_enc)


def test_a_ciphertext_does_not_decrypt_in_another_workspace(ada, globex):
    copied = vault.keyring().data_key(ada.id)
    stolen = vault.DataKey(globex.id, ada.id, b"\x00" * 32)
    with pytest.raises(vault.DecryptionFailed):
        stolen.decrypt("profile", ada.profile_enc)
    assert copied.decrypt_json("profile", ada.profile_enc)["firstname"] == "Ada"


def test_storage_is_nonce_ciphertext_tag(ada):
    blob = bytes(Contact.objects.get(pk=ada.id).profile_enc)
    plaintext = vault.keyring().data_key(ada.id).decrypt("profile", blob)
    assert len(blob) == vault.NONCE_BYTES + len(plaintext) + vault.TAG_BYTES


def test_the_blind_index_depends_on_the_workspace_key(ada, globex):
    acme_index = vault.keyring().blind_index("email", "ada@analytical.example")
    with use_workspace(globex):
        globex_index = vault.keyring().blind_index("email", "ada@analytical.example")
    assert acme_index != globex_index
    assert len(acme_index) == 16


def test_shredding_makes_every_copy_unreadable_and_drops_the_indexes(ada):
    backup_copy = bytes(Contact.objects.get(pk=ada.id).profile_enc)
    actions.contact_delete(ada.id, principal=system())
    assert not ContactKey.objects.filter(contact_id=ada.id).exists()
    assert not ContactSearchToken.objects.filter(contact_id=ada.id).exists()
    with pytest.raises(vault.KeyShredded):
        vault.keyring().data_key(ada.id)
    # Even with the row restored from a backup, nothing decrypts it: a new key is not the old one.
    _, other = vault.keyring().new_data_key(ada.id)
    with pytest.raises(vault.DecryptionFailed):
        other.decrypt("profile", backup_copy)


def test_workspace_rotation_rewraps_data_keys_and_keeps_data_readable(ada, grace):
    before = bytes(Contact.objects.get(pk=ada.id).profile_enc)
    result = vault.rotate_workspace_key(batch_size=1)
    assert result.version == 2 and result.rewrapped == 2 and result.retired_versions == (1,)
    assert set(ContactKey.objects.values_list("key_version", flat=True)) == {2}
    assert bytes(Contact.objects.get(pk=ada.id).profile_enc) == before, "data is never re-encrypted"
    assert selectors.contact_get(ada.id).email == "ada@analytical.example"
    assert [v.id for v in selectors.contact_search("ada@analytical.example").items] == [ada.id]


def test_workspace_rotation_leaves_the_blind_index_key_alone(ada):
    index_before = bytes(WorkspaceKey.objects.get(kind=KeyKind.INDEX).wrapped_key)
    vault.rotate_workspace_key()
    assert bytes(WorkspaceKey.objects.get(kind=KeyKind.INDEX).wrapped_key) == index_before


def test_rotate_workspace_command(ada, capsys):
    call_command("keys", "rotate-workspace", "acme")
    assert "workspace key v2 active; 1 contact keys re-wrapped" in capsys.readouterr().out
    assert selectors.contact_get(ada.id).get("lastname") == "Quillfeather"


def test_master_rotation_rewraps_workspace_keys_in_every_region(ada, globex, tmp_path, settings):
    with use_workspace(globex):
        bob_contact = actions.contact_create({"email": "bob.contact@globex.example"}, principal=system())
    key_file = tmp_path / "new-master.key"
    call_command("keys", "rotate-master", "--new-key-file", str(key_file))
    new_master = base64.b64decode(key_file.read_bytes())
    vault.clear_key_cache()
    with pytest.raises(vault.MasterKeyMismatch):
        vault.keyring()
    with override_settings(TIDINGS_MASTER_KEY=new_master):
        assert selectors.contact_get(ada.id).email == "ada@analytical.example"
        with use_workspace(globex):
            assert selectors.contact_get(bob_contact.id).email == "bob.contact@globex.example"
        fingerprints = {
            row.master_fingerprint
            for alias in ("region_eu", "region_us")
            for row in WorkspaceKey.unscoped_objects.using(alias).all()
        }
        assert fingerprints == {vault.fingerprint(new_master)}


def test_master_rotation_can_be_run_again_after_an_interruption(ada, tmp_path):
    new_master = b"\x07" * 32
    first = vault.rotate_master_key(new_master)
    again = vault.rotate_master_key(new_master)
    assert first["region_eu"] == 2 and again["region_eu"] == 0


def test_unwrapped_keys_are_cached_in_process(ada):
    vault.clear_key_cache()
    vault.keyring()
    assert len(vault._UNWRAPPED._data) == 2  # the key-encryption key and the index key
    ring = vault.keyring()
    assert ring.active_version == 1


def test_name_words_are_normalised_for_search():
    assert vault.words("José  d'Arc-Quillfeather") == ["jose", "d", "arc", "quillfeather"]
    assert vault.normalise_phone("+44 (0)20 7946-0958") == "440207946095" + "8"
    assert vault.normalise_phone("0044 20") == "4420"
    assert vault.normalise_email(" Ada@Analytical.Example ") == "ada@analytical.example"
