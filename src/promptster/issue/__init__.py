"""Reviewer → candidate: the reviewer identity, assessment packs, candidate keys, redeeming a key.

Files and signatures, no database: the candidate side (`start`, `redeem`) uses it on a machine
that has no reviewer workspace. Imports `formats` and the root modules only; the reviewer
workspace that stores packs and keys (`promptster.reviewer`) builds on it."""
