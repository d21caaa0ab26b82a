"""Ed25519 keys, `sha256:` digests and DSSE envelopes (PAE exactly as the DSSE spec defines it)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given
from hypothesis import strategies as st

from promptster.errors import CheckFailed, FormatError, InputError
from promptster.formats.crypto import (
    Envelope,
    PublicKey,
    SigningKey,
    b64decode,
    dsse_sign,
    dsse_verify,
    pae,
    sha256_digest,
)

MANIFEST_TYPE = "application/vnd.promptster.manifest+json"
KEY = SigningKey.from_seed(bytes(32))
OTHER = SigningKey.from_seed(bytes([1]) * 32)

# The test vector published in the DSSE spec (secure-systems-lab/dsse, protocol.md,
# "Test Vectors"): ECDSA P-256 / SHA-256 with RFC 6979 deterministic nonces, r||s raw.
SPEC_TYPE = "http://example.com/HelloWorld"
SPEC_BODY = b"hello world"
SPEC_PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_D = 97358161215184420915383655311931858321456579547487070936769975997791359926199
SPEC_SIG = (
    "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
)
SPEC_ENVELOPE = {
    "payload": "aGVsbG8gd29ybGQ=",
    "payloadType": "http://example.com/HelloWorld",
    "signatures": [{"sig": SPEC_SIG}],
}


class TestSpecVector:
    def test_pae_matches_the_spec(self) -> None:
        assert pae(SPEC_TYPE, SPEC_BODY) == SPEC_PAE

    def test_envelope_parses_without_a_keyid(self) -> None:
        envelope = Envelope.from_json_obj(SPEC_ENVELOPE)
        assert envelope.payload_type == SPEC_TYPE
        assert envelope.payload == SPEC_BODY
        ((keyid, sig),) = envelope.signatures
        assert keyid == ""
        assert len(sig) == 64

    def test_published_signature_verifies_over_our_pae(self) -> None:
        envelope = Envelope.from_json_obj(SPEC_ENVELOPE)
        public = ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
        ((_, raw),) = envelope.signatures
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, pae(envelope.payload_type, envelope.payload), ec.ECDSA(hashes.SHA256()))

    def test_deterministic_signature_is_reproduced(self) -> None:
        private = ec.derive_private_key(SPEC_D, ec.SECP256R1())
        try:
            algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
        except TypeError:  # cryptography < 44 has no RFC 6979 signing
            pytest.skip("this cryptography cannot sign deterministically")
        r, s = decode_dss_signature(private.sign(SPEC_PAE, algorithm))
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        assert base64.b64encode(raw).decode() == SPEC_SIG

    def test_an_ed25519_key_rejects_the_vector(self) -> None:
        with pytest.raises(CheckFailed, match="does not verify"):
            dsse_verify(Envelope.from_json_obj(SPEC_ENVELOPE), SPEC_TYPE, KEY.public)


class TestPae:
    def test_lengths_are_byte_lengths_in_decimal(self) -> None:
        assert pae("t/é", "héllo".encode()) == "DSSEv1 4 t/é 6 héllo".encode()

    def test_empty_type_and_body(self) -> None:
        assert pae("", b"") == b"DSSEv1 0  0 "

    @given(st.text(), st.binary(), st.text(), st.binary())
    def test_is_injective(self, t1: str, b1: bytes, t2: str, b2: bytes) -> None:
        if (t1, b1) != (t2, b2):
            assert pae(t1, b1) != pae(t2, b2)


class TestSignVerify:
    def test_round_trip(self) -> None:
        envelope = dsse_sign(MANIFEST_TYPE, b'{"a":1}', KEY)
        assert dsse_verify(envelope, MANIFEST_TYPE, KEY.public) == b'{"a":1}'

    def test_envelope_json_shape(self) -> None:
        envelope = dsse_sign(MANIFEST_TYPE, b"body", KEY)
        obj = envelope.to_json_obj()
        assert list(obj) == ["payload", "payloadType", "signatures"]
        assert obj["payload"] == base64.b64encode(b"body").decode()  # standard alphabet, padded
        (signature,) = obj["signatures"]
        assert set(signature) == {"keyid", "sig"}
        assert signature["keyid"] == KEY.public.fingerprint
        assert len(base64.b64decode(signature["sig"])) == 64
        assert Envelope.from_json_obj(json.loads(json.dumps(obj))) == envelope

    def test_ed25519_signatures_are_deterministic(self) -> None:
        assert dsse_sign(MANIFEST_TYPE, b"x", KEY) == dsse_sign(MANIFEST_TYPE, b"x", KEY)

    def test_url_safe_and_unpadded_base64_are_accepted(self) -> None:
        payload = bytes(range(250, 256)) * 3  # encodes with '+' and '/' in standard base64
        obj = dsse_sign(MANIFEST_TYPE, payload, KEY).to_json_obj()
        standard = obj["payload"]
        assert "+" in standard or "/" in standard
        url_safe = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        obj["payload"] = url_safe
        sig = obj["signatures"][0]
        sig["sig"] = base64.urlsafe_b64encode(base64.b64decode(sig["sig"])).decode().rstrip("=")
        assert dsse_verify(Envelope.from_json_obj(obj), MANIFEST_TYPE, KEY.public) == payload

    def test_tampered_payload_fails(self) -> None:
        envelope = dsse_sign(MANIFEST_TYPE, b"original", KEY)
        forged = Envelope(envelope.payload_type, b"forged", envelope.signatures)
        with pytest.raises(CheckFailed, match="does not verify"):
            dsse_verify(forged, MANIFEST_TYPE, KEY.public)

    def test_wrong_payload_type_is_rejected_after_the_signature(self) -> None:
        envelope = dsse_sign("application/json", b"{}", KEY)
        with pytest.raises(CheckFailed, match="payloadType is 'application/json'"):
            dsse_verify(envelope, MANIFEST_TYPE, KEY.public)

    def test_payload_type_is_authenticated(self) -> None:
        envelope = dsse_sign(MANIFEST_TYPE, b"{}", KEY)
        relabelled = Envelope("application/vnd.other+json", envelope.payload, envelope.signatures)
        with pytest.raises(CheckFailed, match="does not verify"):
            dsse_verify(relabelled, "application/vnd.other+json", KEY.public)

    def test_keyid_is_not_trusted(self) -> None:
        # A signature by another key that claims the trusted key's id is rejected ...
        by_other = dsse_sign(MANIFEST_TYPE, b"{}", OTHER)
        claiming = Envelope(
            by_other.payload_type,
            by_other.payload,
            ((KEY.public.fingerprint, by_other.signatures[0][1]),),
        )
        with pytest.raises(CheckFailed):
            dsse_verify(claiming, MANIFEST_TYPE, KEY.public)
        # ... and a good signature with a wrong or missing keyid still verifies.
        good = dsse_sign(MANIFEST_TYPE, b"{}", KEY)
        for keyid in ("", "sha256:" + "0" * 64, OTHER.public.fingerprint):
            relabelled = Envelope(
                good.payload_type, good.payload, ((keyid, good.signatures[0][1]),)
            )
            assert dsse_verify(relabelled, MANIFEST_TYPE, KEY.public) == b"{}"

    def test_one_good_signature_among_several_is_enough(self) -> None:
        good = dsse_sign(MANIFEST_TYPE, b"{}", KEY)
        other = dsse_sign(MANIFEST_TYPE, b"{}", OTHER)
        both = Envelope(good.payload_type, good.payload, other.signatures + good.signatures)
        assert dsse_verify(both, MANIFEST_TYPE, KEY.public) == b"{}"
        assert dsse_verify(both, MANIFEST_TYPE, OTHER.public) == b"{}"

    @given(st.binary(max_size=512), st.text(min_size=1, max_size=40))
    def test_round_trip_property(self, payload: bytes, payload_type: str) -> None:
        obj = dsse_sign(payload_type, payload, KEY).to_json_obj()
        envelope = Envelope.from_json_obj(json.loads(json.dumps(obj)))
        assert dsse_verify(envelope, payload_type, KEY.public) == payload
        with pytest.raises(CheckFailed):
            dsse_verify(envelope, payload_type, OTHER.public)


class TestEnvelopeParsing:
    @pytest.mark.parametrize(
        ("obj", "message"),
        [
            ([], "not a JSON object"),
            ({"payload": "", "signatures": [{"sig": ""}]}, "no payloadType"),
            ({"payloadType": "t", "signatures": [{"sig": ""}]}, "DSSE payload is not a base64"),
            (
                {"payloadType": "t", "payload": "!!", "signatures": [{"sig": ""}]},
                "not valid base64",
            ),
            ({"payloadType": "t", "payload": ""}, "no signatures"),
            ({"payloadType": "t", "payload": "", "signatures": []}, "no signatures"),
            ({"payloadType": "t", "payload": "", "signatures": [{"keyid": "k"}]}, "has no sig"),
            ({"payloadType": "t", "payload": "", "signatures": ["sig"]}, "has no sig"),
            ({"payloadType": "t", "payload": "", "signatures": [{"sig": 5}]}, "not a base64"),
        ],
    )
    def test_malformed_envelopes(self, obj: object, message: str) -> None:
        with pytest.raises(FormatError, match=message):
            Envelope.from_json_obj(obj)

    def test_non_string_keyid_is_ignored(self) -> None:
        good = dsse_sign(MANIFEST_TYPE, b"{}", KEY).to_json_obj()
        good["signatures"][0]["keyid"] = 17
        assert Envelope.from_json_obj(good).signatures[0][0] == ""

    def test_b64decode_variants(self) -> None:
        assert b64decode("aGk=", what="x") == b"hi"
        assert b64decode("aGk", what="x") == b"hi"
        assert b64decode(" aGk= \n", what="x") == b"hi"
        assert b64decode("-_8", what="x") == base64.b64decode("+/8=")
        with pytest.raises(FormatError, match="x is not valid base64"):
            b64decode("a", what="x")


class TestKeys:
    def test_public_key_text_round_trip(self) -> None:
        text = KEY.public.text
        assert len(base64.b64decode(text)) == 32
        assert PublicKey.from_text(text) == KEY.public

    def test_public_key_rejects_wrong_lengths(self) -> None:
        with pytest.raises(FormatError, match="31 bytes"):
            PublicKey.from_text(base64.b64encode(bytes(31)).decode())

    def test_fingerprint_is_a_prefixed_sha256_of_the_raw_key(self) -> None:
        assert KEY.public.fingerprint == sha256_digest(KEY.public.raw)
        assert KEY.public.fingerprint.startswith("sha256:")
        assert len(KEY.public.fingerprint) == len("sha256:") + 64

    def test_sha256_digest(self) -> None:
        assert sha256_digest(b"") == (
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )

    def test_verify_rejects_garbage_signatures_without_raising(self) -> None:
        assert not KEY.public.verify(b"short", b"message")
        assert not PublicKey(bytes(32)).verify(bytes(64), b"message")

    def test_pem_round_trip_with_and_without_passphrase(self, tmp_path: Path) -> None:
        folder = tmp_path
        plain, locked = folder / "plain.pem", folder / "locked.pem"
        KEY.save(plain)
        KEY.save(locked, passphrase=b"correct horse")
        assert plain.stat().st_mode & 0o777 == 0o600
        assert SigningKey.load(plain).public == KEY.public
        assert SigningKey.load(locked, b"correct horse").public == KEY.public
        with pytest.raises(InputError, match="encrypted with a passphrase"):
            SigningKey.load(locked)
        with pytest.raises(InputError, match="wrong passphrase"):
            SigningKey.load(locked, b"wrong")
        with pytest.raises(InputError, match="is not encrypted"):
            SigningKey.load(plain, b"superfluous")

    def test_load_rejects_unusable_files(self, tmp_path: Path) -> None:
        folder = tmp_path
        with pytest.raises(InputError, match="cannot read key file"):
            SigningKey.load(folder / "missing.pem")
        big = folder / "big.pem"
        big.write_bytes(b"x" * 70_000)
        with pytest.raises(InputError, match="too large"):
            SigningKey.load(big)
        rsa_like = folder / "not-a-key.pem"
        rsa_like.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        with pytest.raises(InputError, match="not a readable private key"):
            SigningKey.load(rsa_like)
        p256 = ec.generate_private_key(ec.SECP256R1())
        other = folder / "p256.pem"
        other.write_bytes(
            p256.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        with pytest.raises(InputError, match="not an Ed25519 key"):
            SigningKey.load(other)
