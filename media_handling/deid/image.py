"""De-identify still images: decode, turn upright, copy the pixels, save anew.

Only pixels cross over. The decoded picture is copied into a new Pillow image
that has never had metadata, and that is what gets saved, so nothing the
source carried beside its pixels can survive: EXIF (GPS, serial numbers,
dates, descriptions, MakerNote, the embedded thumbnail, which can show an
uncropped original), XMP, IPTC, JPEG comments and APP segments, PNG text
chunks, HEIF/WebP metadata items, trailing data and extra frames.

Colour: an embedded ICC profile is applied (pixels converted to sRGB) and not
embedded in the output. Profiles are binary blobs that may carry free text
(a "description" or "copyright" naming a person or device), and sRGB is what
browsers assume for untagged images, so colours still look right.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from media_handling.regions import Rect, blur_regions
from media_handling.sniff import MediaError, Sniffed, sniff

pillow_heif.register_heif_opener(thumbnails=False)

# 64 megapixels covers 48/50 MP phone and 61 MP camera sensors. Decoding
# needs about 3 bytes a pixel twice over (decoded + fresh copy), ~400 MB here.
DEFAULT_MAX_PIXELS = 64_000_000
JPEG_QUALITY = 90
RENDITION_SIZES = {"thumb": 320, "display": 1600}
RENDITION_QUALITY = 85

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class ImageReport:
    """What ``clean_image`` found in the source and what it wrote.

    Lists hold names only, never values: the values are what was removed.
    """

    source_mime: str
    mime: str
    width: int
    height: int
    orientation: int | None
    orientation_applied: bool
    frames: int
    exif_tags: tuple[str, ...] = ()
    gps_tags: tuple[str, ...] = ()
    makernote: bool = False
    exif_thumbnail: bool = False
    xmp: bool = False
    iptc: bool = False
    comments: int = 0
    text_keys: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    icc: str = "none"
    faces_blurred: int = 0

    @property
    def ext(self) -> str:
        return "png" if self.mime == "image/png" else "jpg"

    def removed(self) -> list[str]:
        """One human line per kind of thing that was removed."""
        lines = []
        if self.gps_tags:
            lines.append(f"GPS location ({len(self.gps_tags)} tags)")
        other = [t for t in self.exif_tags if t not in self.gps_tags]
        if other:
            lines.append(f"EXIF: {', '.join(other)}")
        if self.makernote:
            lines.append("camera maker notes")
        if self.exif_thumbnail:
            lines.append("embedded EXIF thumbnail")
        if self.xmp:
            lines.append("XMP metadata")
        if self.iptc:
            lines.append("IPTC metadata")
        if self.comments:
            lines.append(f"{self.comments} comment(s)")
        if self.text_keys:
            lines.append(f"text chunks: {', '.join(self.text_keys)}")
        if self.icc != "none":
            lines.append(f"ICC profile ({self.icc})")
        if self.frames > 1:
            lines.append(f"{self.frames - 1} extra frame(s)")
        return lines

    def as_dict(self) -> dict:
        return asdict(self) | {"removed": self.removed()}


def clean_image(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    faces: Iterable[Rect] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImageReport:
    """Write a metadata-free, upright copy of the image at ``src_path``.

    The copy is a JPEG, or a PNG when the source is a PNG or has
    transparency; ``ImageReport.mime`` says which, whatever ``dst_path`` is
    called. ``faces`` are (x, y, w, h) rects in displayed (upright) pixels to
    blur. ``dst_path`` is only written when cleaning succeeded; anything that
    cannot be decoded, or is larger than ``max_pixels``, raises
    ``MediaError`` with a message for the uploader.
    """
    source, sniffed = _open(src_path, max_pixels)
    with source:
        _decode(source)
        found = _inspect(source)
        frames = getattr(source, "n_frames", 1)
        orientation = _orientation(source)
        upright = orientation in range(2, 9)
        # libheif applies HEIF's own irot/imir while decoding (pillow-heif
        # then reports the EXIF value as original_orientation); rotating
        # again would turn the picture twice.
        transpose = upright and source.format != "HEIF"
        picture = ImageOps.exif_transpose(source) if transpose else source
        picture, icc = _to_output_mode(picture, source.info.get("icc_profile"))
        as_png = source.format == "PNG" or picture.mode in ("RGBA", "I;16")
        if picture is not source:
            # Closing releases the decoded pixels: at most two copies of the
            # picture exist at any time.
            source.close()
        fresh = Image.new(picture.mode, picture.size)
        fresh.paste(picture)
        del picture
    blurred = blur_regions(fresh, faces) if faces else 0
    _save_atomically(fresh, dst_path, "PNG" if as_png else "JPEG")
    return ImageReport(
        source_mime=sniffed.mime or "",
        mime="image/png" if as_png else "image/jpeg",
        width=fresh.width,
        height=fresh.height,
        orientation=orientation,
        orientation_applied=upright,
        frames=frames,
        icc=icc,
        faces_blurred=blurred,
        **found,
    )


def _open(path: str | os.PathLike[str], max_pixels: int) -> tuple[Image.Image, Sniffed]:
    if os.path.getsize(path) == 0:
        raise MediaError("The file is empty.")
    sniffed = sniff(path)
    if sniffed.kind != "image":
        raise MediaError(sniffed.reason or f"Not a supported image ({sniffed.mime}).")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb limit is global; the explicit one below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=_PILLOW_FORMATS[sniffed.mime])
    except Image.DecompressionBombError as exc:
        raise MediaError(f"Image too large: {exc}") from exc
    except PermissionError:
        raise  # our deployment's fault, not the upload's
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        struct.error,
    ) as exc:
        raise MediaError(_DAMAGED.format(exc)) from exc
    pixels = image.width * image.height
    if pixels > max_pixels:
        image.close()
        raise MediaError(
            f"Image too large: {image.width}x{image.height} pixels "
            f"(limit {max_pixels / 1e6:.0f} megapixels)."
        )
    return image, sniffed


_DAMAGED = "The image could not be read: it is damaged or incomplete ({})."

# Pillow decoders allowed for each sniffed type, so a file can never reach a
# decoder for a format the sniffer did not recognise.
_PILLOW_FORMATS = {
    # JPEG's opener also returns MPO (multi-picture) files; "MPO" itself has
    # no opener, and naming it raises KeyError once JPEG has failed.
    "image/jpeg": ["JPEG"],
    "image/png": ["PNG"],
    "image/webp": ["WEBP"],
    "image/heic": ["HEIF"],
    "image/heif": ["HEIF"],
    "image/avif": ["AVIF", "HEIF"],
}


def _decode(image: Image.Image) -> Image.Image:
    """The first frame, fully decoded; truncation and corruption become MediaError."""
    try:
        image.seek(0)
        image.load()
    except (
        OSError,
        SyntaxError,
        ValueError,
        struct.error,
        zlib.error,
        EOFError,
    ) as exc:
        raise MediaError(_DAMAGED.format(exc)) from exc
    return image


def _orientation(image: Image.Image) -> int | None:
    if "original_orientation" in image.info:
        value = image.info["original_orientation"]
        return value if isinstance(value, int) else None
    try:
        value = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # unreadable EXIF is dropped, not fatal
        return None
    return value if isinstance(value, int) else None


def _inspect(image: Image.Image) -> dict:
    """Names of the metadata ``image`` carries, for the report."""
    info = image.info
    exif_tags, gps_tags, makernote, thumbnail = _exif_names(image)
    applist = getattr(image, "applist", [])
    segments = tuple(_segment_name(m, data) for m, data in applist if m != "COM")
    comments = sum(1 for m, _ in applist if m == "COM") or int("comment" in info)
    text = {k for k in getattr(image, "text", {}) if k != "XML:com.adobe.xmp"}
    return {
        "exif_tags": exif_tags,
        "gps_tags": gps_tags,
        "makernote": makernote,
        "exif_thumbnail": thumbnail,
        "xmp": bool(info.get("xmp") or info.get("XML:com.adobe.xmp")),
        "iptc": bool(
            info.get("photoshop") or any(s.startswith("APP13") for s in segments)
        ),
        "comments": comments,
        "text_keys": tuple(sorted(text)),
        "segments": segments,
    }


def _exif_names(
    image: Image.Image,
) -> tuple[tuple[str, ...], tuple[str, ...], bool, bool]:
    try:
        exif = image.getexif()
        names = [ExifTags.TAGS.get(tag, f"0x{tag:04X}") for tag in exif]
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        names += [ExifTags.TAGS.get(tag, f"0x{tag:04X}") for tag in sub]
        gps = [
            ExifTags.GPSTAGS.get(tag, f"GPS 0x{tag:04X}")
            for tag in exif.get_ifd(ExifTags.IFD.GPSInfo)
        ]
        thumbnail = bool(exif.get_ifd(ExifTags.IFD.IFD1))
    except Exception:  # malformed EXIF is still removed
        return ("(unreadable EXIF)",), (), False, False
    makernote = ExifTags.Base.MakerNote in sub
    return (
        tuple(sorted(set(names) | set(gps))),
        tuple(sorted(gps)),
        makernote,
        thumbnail,
    )


_SEGMENT_IDS = {
    b"Exif": "Exif",
    b"http://ns.adobe.com/xap/1.0/": "XMP",
    b"http://ns.adobe.com/xmp/extension/": "XMP extension",
    b"ICC_PROFILE": "ICC",
    b"Photoshop 3.0": "Photoshop/IPTC",
    b"MPF": "MPF",
    b"JFIF": "JFIF",
    b"JFXX": "JFXX thumbnail",
    b"Adobe": "Adobe",
    b"Ducky": "Ducky",
}


def _segment_name(marker: str, data: bytes) -> str:
    """A JPEG APPn segment named by its identifier, e.g. "APP1 Exif".

    Unknown identifiers are not shown: the report must never echo content.
    """
    ident = data[:64].split(b"\x00", 1)[0]
    return f"{marker} {_SEGMENT_IDS.get(ident, '(unknown)')}"


def _to_output_mode(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, str]:
    """Convert to L, RGB, RGBA or I;16 in sRGB; returns what happened to ICC."""
    has_alpha = (
        image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    )
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.convert("I;16") if image.mode != "I;16" else image, "none"
    if image.mode == "1":
        return image.convert("L"), "none"
    target = "RGBA" if has_alpha else ("L" if image.mode == "L" else "RGB")
    status = "none"
    if icc:
        image, status = _apply_icc(image, icc, target)
    if image.mode != target:
        image = image.convert(target)
    return image, status


def _apply_icc(image: Image.Image, icc: bytes, target: str) -> tuple[Image.Image, str]:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile).strip()
    except (ImageCms.PyCMSError, OSError, TypeError):
        return image, "unreadable, dropped"
    if description.lower().startswith("srgb"):
        return image, "sRGB, dropped"
    if image.mode == "L" or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image, "dropped"
    try:
        converted = ImageCms.profileToProfile(
            image if image.mode != "RGBA" else image.convert("RGB"),
            profile,
            _SRGB,
            outputMode="RGB",
        )
    except ImageCms.PyCMSError:
        return image, "unusable, dropped"
    if target == "RGBA":
        converted.putalpha(image.getchannel("A"))
    return converted, "converted to sRGB"


def _save_atomically(image: Image.Image, dst: str | os.PathLike[str], fmt: str) -> None:
    dst = Path(dst)
    partial = dst.with_name(dst.name + ".part")
    try:
        if fmt == "JPEG":
            image.save(partial, format="JPEG", quality=JPEG_QUALITY)
        else:
            image.save(partial, format="PNG", optimize=False)
        os.replace(partial, dst)
    finally:
        partial.unlink(missing_ok=True)


def make_renditions(
    clean_path: str | os.PathLike[str],
    out: str | os.PathLike[str] | Callable[[str, str], str | os.PathLike[str]],
    *,
    sizes: dict[str, int] | None = None,
) -> dict[str, Path]:
    """Downscaled copies of a cleaned image, for pages and lists.

    ``out`` is a directory (files are named ``<name>.<ext>``) or a callable
    ``(name, ext) -> path``. Each rendition fits in a square of its size
    (default: thumb 320 px, display 1600 px) and is never larger than the
    source. JPEG, or WebP when the image has transparency. Large JPEGs are
    decoded at reduced scale (``Image.draft``), so memory stays near the
    size of the largest rendition rather than of the original.
    """
    sizes = dict(sorted((sizes or RENDITION_SIZES).items(), key=lambda kv: -kv[1]))
    destination = _destination(out)
    try:
        with Image.open(clean_path) as image:
            largest = max(sizes.values())
            scale = min(1.0, largest / max(image.size))
            image.draft(
                image.mode, (round(image.width * scale), round(image.height * scale))
            )
            current = _renditionable(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaError(
            f"The image could not be read for renditions ({exc})."
        ) from exc
    has_alpha = current.mode == "RGBA"
    ext = "webp" if has_alpha else "jpg"
    made = {}
    for name, side in sizes.items():
        # Largest first, each shrunk from the previous one: cheaper, same quality.
        current.thumbnail((side, side), Image.Resampling.LANCZOS)
        fresh = Image.new(current.mode, current.size)
        fresh.paste(current)
        path = Path(destination(name, ext))
        if has_alpha:
            fresh.save(path, format="WEBP", quality=RENDITION_QUALITY)
        else:
            fresh.save(path, format="JPEG", quality=RENDITION_QUALITY)
        made[name] = path
    return made


def _destination(
    out: str | os.PathLike[str] | Callable[[str, str], str | os.PathLike[str]],
) -> Callable[[str, str], str | os.PathLike[str]]:
    if callable(out):
        return out
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    return lambda name, ext: directory / f"{name}.{ext}"


def _renditionable(image: Image.Image) -> Image.Image:
    image.load()
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale: keep the top 8 bits rather than clipping at 255.
        return Image.fromarray(
            (np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8)
        )
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        return image.convert("RGBA")
    return image.convert("L" if image.mode == "L" else "RGB")
