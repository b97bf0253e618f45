"""Culling a finished session: keep / eyes closed / check for every photo, originals untouched.

Modules, one concept each: `jpeg` (marker and EXIF parsing), `raw` (a RAW file's embedded
preview), `decode` (opening and checking one file), `verdict` (the three answers),
`analyze` (one file → one record, in a worker), `scan` (which files), `state` (resume),
`xmp` (sidecars), `folders` (keep/closed/check copies or links), `report` (JSON, CSV),
`contact_sheet` (HTML), `run` (the whole run on every core).
"""
