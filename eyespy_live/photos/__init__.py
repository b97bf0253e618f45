"""Reading photo files: the one place that opens a JPEG, a RAW's embedded preview or another image.

Header parsing (`jpeg`), RAW preview discovery (`raw`), size checks against decompression bombs
(`imagesize`), and reduced decodes (`load`, `decode`). Used by the tether and hot-folder sources,
by shot verdicts and by `cull`; imports nothing above it.
"""
