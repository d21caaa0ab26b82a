"""Secret redaction before anything is written: text, JSON values and streams (casts).

`redactor` is the entry point; `scan` and `assignments` are its detectors."""
