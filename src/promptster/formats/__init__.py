"""Formats: the event envelope and each kind's payload type (`payloads`), canonical JSON, the
hash-chained timeline, crypto (Ed25519, DSSE).

The bottom layer. Imports only the root modules (`errors`, `fsutil`, and `protocol` for the
envelope's version, timestamps and defaults), and nothing heavy at import time: the capture
path uses `formats.events` and `formats.jsonio`, and `payloads` only under TYPE_CHECKING."""
