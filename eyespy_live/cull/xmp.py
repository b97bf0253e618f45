"""XMP sidecars: the verdict as a colour label (and optionally a star rating) beside a photo.

`xmp:Label` and `xmp:Rating` are the fields Lightroom Classic, Capture One, Bridge and
darktable (rating) read from a sidecar, so a culled session opens already sorted. The photo
itself is never touched. An existing sidecar is merged, not replaced: it is parsed, only our
fields change, every other element, attribute and namespace is kept, and the file is
replaced atomically. A label or rating the photographer set by hand is left alone (we record
what we wrote in our own namespace, so we know which values are ours) unless `overwrite`.
A sidecar that isn't valid XMP is never rewritten.

Anyone who can write into a session folder decides what sits where a sidecar goes, so a
sidecar that is not a regular file (a FIFO, a folder, a symlink, one we may not read) is
reported and left alone, never followed or opened in a way that blocks; it is read with a
size cap; a document with a DTD is refused (XMP never has one, and only a DTD can declare the
entities of a "billion laughs" or an external entity); and the new sidecar is written to a
fresh temporary file created exclusively beside it, then renamed over it.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from eyespy_live.files import FileRefused, kind_of, read_text, write_atomic
from eyespy_live.photos.decode import PHOTO_SUFFIXES

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_EYESPY = "https://github.com/eyespy-live/ns/cull/1.0/"
_PREFIXES = {"x": NS_X, "rdf": NS_RDF, "xmp": NS_XMP, "eyespy": NS_EYESPY}

LABELS = {"keep": "Green", "closed": "Red", "check": "Yellow"}

_XPACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_XPACKET_END = '\n<?xpacket end="w"?>\n'
SIDECAR_LIMIT = 8 * 1024 * 1024  # real sidecars are a few KB; a few MB with a history


class SidecarError(ValueError):
    """An existing sidecar we won't touch (not XML, or not XMP); the message says why."""


@dataclass(frozen=True)
class SidecarValues:
    verdict: str
    reason: str
    label: str | None  # None: don't set a label
    rating: int | None  # None: don't set a rating; -1 = rejected, 0..5 stars


def sidecar_path(photo: Path, naming: str = "stem") -> Path:
    """`IMG_1.xmp` (Lightroom, Capture One, Bridge) or `IMG_1.NEF.xmp` (darktable). A name
    whose suffix is no image format's (`subject01.happy`, found by its bytes) keeps it
    whole: `subject01.happy.xmp`, never one sidecar shared by `subject01.sad`."""
    if naming == "full" or photo.suffix.lower() not in PHOTO_SUFFIXES:
        return photo.with_name(photo.name + ".xmp")
    return photo.with_suffix(".xmp")


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def write_sidecar(path: Path, values: SidecarValues, overwrite: bool = False) -> str:
    """Create or merge the sidecar at `path`; returns "created", "updated" or "unchanged"."""
    if os.path.lexists(path):
        root, namespaces = _parse(_read(path), path)
        created = False
    else:
        root, namespaces, created = _new_document(), dict(_PREFIXES), True
    description = _description(root, path)
    changed = _apply(root, description, values, overwrite)
    if not changed and not created:
        return "unchanged"
    write_atomic(path, _serialise(root, namespaces))
    return "created" if created else "updated"


def read_sidecar(path: Path) -> dict[str, str]:
    """Label, Rating and our own fields from a sidecar (for tests and for calibration)."""
    root, _ = _parse(_read(path), path)
    found: dict[str, str] = {}
    for element in root.iter(_q(NS_RDF, "Description")):
        for ns, prefix in ((NS_XMP, "xmp"), (NS_EYESPY, "eyespy")):
            for name in ("Label", "Rating", "Verdict", "Reason"):
                value = _get(element, ns, name)
                if value is not None:
                    found[f"{prefix}:{name}"] = value
    return found


def _read(path: Path) -> str:
    """An existing sidecar's text; SidecarError for anything that is not a plain file."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            what = kind_of(info.st_mode)
            raise SidecarError(f"{path.name}: existing sidecar is {what}; left alone")
        return read_text(path, SIDECAR_LIMIT, follow_links=False)
    except FileRefused as exc:
        what = _after_name(exc, path)
        raise SidecarError(f"{path.name}: existing sidecar is {what}; left alone") from None
    except UnicodeDecodeError:
        raise SidecarError(f"{path.name}: existing sidecar is not UTF-8 text; left as is") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        message = f"{path.name}: existing sidecar cannot be read ({reason}); left alone"
        raise SidecarError(message) from None


def _after_name(exc: FileRefused, path: Path) -> str:
    return exc.message.removeprefix(f"{path}: ")


def _parse(text: str, path: Path) -> tuple[ET.Element, dict[str, str]]:
    namespaces: dict[str, str] = {}
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise SidecarError(
            f"{path.name}: existing sidecar declares a DTD or entities (XMP never does); "
            "not parsed, left as is"
        )
    try:
        for _event, (prefix, uri) in ET.iterparse(io.StringIO(text), events=("start-ns",)):
            namespaces.setdefault(prefix, uri)
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        message = f"{path.name}: existing sidecar is not valid XML ({exc}); left as is"
        raise SidecarError(message) from None
    if root.find(f".//{_q(NS_RDF, 'RDF')}") is None and root.tag != _q(NS_RDF, "RDF"):
        raise SidecarError(f"{path.name}: existing sidecar has no rdf:RDF; left as is")
    return root, namespaces


def _new_document() -> ET.Element:
    root = ET.Element(_q(NS_X, "xmpmeta"))
    rdf = ET.SubElement(root, _q(NS_RDF, "RDF"))
    ET.SubElement(rdf, _q(NS_RDF, "Description"), {_q(NS_RDF, "about"): ""})
    return root


def _description(root: ET.Element, path: Path) -> ET.Element:
    """The rdf:Description holding xmp:Label if there is one, else the first one."""
    rdf = root if root.tag == _q(NS_RDF, "RDF") else root.find(f".//{_q(NS_RDF, 'RDF')}")
    assert rdf is not None
    descriptions = rdf.findall(_q(NS_RDF, "Description"))
    for element in descriptions:
        if _get(element, NS_XMP, "Label") is not None:
            return element
    if descriptions:
        return descriptions[0]
    return ET.SubElement(rdf, _q(NS_RDF, "Description"), {_q(NS_RDF, "about"): ""})


def _get(element: ET.Element, ns: str, name: str) -> str | None:
    """A simple property, written either as an attribute or as a child element."""
    if _q(ns, name) in element.attrib:
        return element.attrib[_q(ns, name)]
    child = element.find(_q(ns, name))
    if child is not None:
        return (child.text or "").strip()
    return None


def _set(element: ET.Element, ns: str, name: str, value: str) -> bool:
    if _get(element, ns, name) == value:
        return False
    child = element.find(_q(ns, name))
    if child is not None:
        child.text = value
    else:
        element.set(_q(ns, name), value)
    return True


def _ours(element: ET.Element, name: str) -> bool:
    """The current xmp:<name> is empty or is what eyespy wrote last time."""
    current = _get(element, NS_XMP, name)
    return not current or current == _get(element, NS_EYESPY, name)


def _apply(root: ET.Element, element: ET.Element, values: SidecarValues, overwrite: bool) -> bool:
    changed = _set(element, NS_EYESPY, "Verdict", values.verdict)
    changed |= _set(element, NS_EYESPY, "Reason", values.reason)
    if values.label is not None and (overwrite or _ours(element, "Label")):
        changed |= _set(element, NS_XMP, "Label", values.label)
        changed |= _set(element, NS_EYESPY, "Label", values.label)
    if values.rating is not None and (overwrite or _ours(element, "Rating")):
        changed |= _set(element, NS_XMP, "Rating", str(values.rating))
        changed |= _set(element, NS_EYESPY, "Rating", str(values.rating))
    return changed


def _serialise(root: ET.Element, namespaces: dict[str, str]) -> str:
    for prefix, uri in {**namespaces, **_PREFIXES}.items():
        if not prefix:
            continue
        # A prefix ElementTree reserves (ns0, ...) is refused: it picks its own, same meaning.
        with contextlib.suppress(ValueError):
            ET.register_namespace(prefix, uri)
    body = ET.tostring(root, encoding="unicode")
    return _XPACKET_BEGIN + body + _XPACKET_END
