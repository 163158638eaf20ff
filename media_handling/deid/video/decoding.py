"""Open, decode and turn upright the pictures of an uploaded video."""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame
from PIL import Image

from media_handling.sniff import MediaError, sniff

# Decoding guard: a header may claim any size, and each decoded frame of that
# size is allocated several times over (decoder threads, filters, encoder).
DEFAULT_MAX_PIXELS = 4096 * 4096
NO_PICTURES = "The video has no pictures that can be decoded."

# FFmpeg demuxer for each sniffed MIME type. Naming it stops libavformat from
# probing for other formats, some of which (HLS playlists, concat lists) would
# open further files or URLs named inside the upload.
_DEMUXERS = {
    "video/mp4": "mov",
    "video/quicktime": "mov",
    "video/3gpp": "mov",
    "video/webm": "matroska",
    "video/x-matroska": "matroska",
}
_INPUT_OPTIONS = {"protocol_whitelist": "file"}

# PIL transposes as libavfilter chains; mirrors ffmpeg's own autorotate.
_TRANSPOSE_FILTERS: dict[Image.Transpose, tuple[tuple[str, str | None], ...]] = {
    Image.Transpose.ROTATE_270: (("transpose", "clock"),),
    Image.Transpose.ROTATE_90: (("transpose", "cclock"),),
    Image.Transpose.ROTATE_180: (("hflip", None), ("vflip", None)),
    Image.Transpose.TRANSPOSE: (("transpose", "cclock_flip"),),
    Image.Transpose.TRANSVERSE: (("transpose", "clock_flip"),),
    Image.Transpose.FLIP_LEFT_RIGHT: (("hflip", None),),
    Image.Transpose.FLIP_TOP_BOTTOM: (("vflip", None),),
}
_SWAPS_AXES = {Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270,
               Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE}  # fmt: skip


@dataclass(frozen=True)
class VideoInfo:
    """What a video is. Width and height are as displayed: upright, square pixels."""

    duration: float | None
    width: int
    height: int
    rotation: int  # degrees clockwise applied for display: 0, 90, 180 or 270
    codecs: tuple[str, ...]  # every stream, e.g. ("h264", "aac", "data:gpmd")
    has_audio: bool
    frame_rate: float | None = None


@dataclass(frozen=True)
class Geometry:
    """How a video's coded pictures map to what a viewer sees."""

    sample_aspect: Fraction
    transpose: Image.Transpose | None
    rotation: int
    displayed: tuple[int, int]


def probe_video(
    path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> VideoInfo:
    """Describe the video at ``path``; decodes its first frame to be sure it can.

    Raises ``MediaError`` for anything that is not a decodable video.
    """
    with open_input(path) as container:
        video = video_stream(container, max_pixels)
        first = next(_decode(container, video), None)
        if first is None:
            raise MediaError(NO_PICTURES)
        return video_info(container, video, geometry_of(video, first))


def poster_time(duration: float | None) -> float:
    """Where a video's poster (and thumbnail) is taken: 1 s in, or a third of
    the way into a shorter video."""
    return min(1.0, duration / 3) if duration else 0.0


def display_frames(
    path: str | os.PathLike[str],
    *,
    every_s: float | None = None,
    also_at: Collection[float] = (),
    limit: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[tuple[float, Image.Image]]:
    """Yield (seconds from the first frame, upright RGB image) while decoding.

    With ``every_s`` only the first frame at or after each multiple of it is
    converted and yielded, and the first at or after each time in
    ``also_at``; ``limit`` caps how many are yielded.
    """
    extra = sorted(also_at)
    with open_input(path) as container:
        video = video_stream(container, max_pixels)
        upright: Upright | None = None
        first_pts: int | None = None
        next_t, count = 0.0, 0
        for frame in _decode(container, video):
            if upright is None:
                geometry = geometry_of(video, frame)
                upright = Upright(
                    geometry, frame, video.time_base, geometry.displayed, "rgb24"
                )
                first_pts = frame.pts or 0
            t = float(((frame.pts or 0) - first_pts) * video.time_base)
            wanted = extra and t >= extra[0]
            if every_s is not None and t < next_t and not wanted:
                continue
            while extra and t >= extra[0]:
                extra.pop(0)
            for out in upright.push(frame):
                yield t, out.to_image()
                count += 1
            if limit is not None and count >= limit:
                return
            if every_s is not None and t >= next_t:
                next_t = (math.floor(t / every_s) + 1) * every_s


def poster_frame(
    path: str | os.PathLike[str],
    dst_jpeg: str | os.PathLike[str],
    *,
    at_s: float | None = None,
) -> tuple[int, int]:
    """Save an upright JPEG still of the video at ``at_s`` (default: 1 s, or a
    third of the way into shorter videos) and return its (width, height).

    Make posters from the cleaned video: a still from the source would show
    faces that the cleaned video blurs.
    """
    if at_s is None:
        at_s = poster_time(probe_video(path).duration)
    still = None
    for t, image in display_frames(path):
        still = image
        if t >= at_s:
            break
    if still is None:
        raise MediaError(NO_PICTURES)
    fresh = Image.new("RGB", still.size)
    fresh.paste(still)
    fresh.save(dst_jpeg, format="JPEG", quality=85)
    return fresh.size


@contextlib.contextmanager
def open_input(path: str | os.PathLike[str]) -> Iterator[InputContainer]:
    """Open a sniffed video with the demuxer for its type.

    Decoding errors raised inside the block become ``MediaError``; errors of
    the machine itself (disk, permissions) pass through unchanged.
    """
    if os.path.getsize(path) == 0:
        raise MediaError("The file is empty.")
    sniffed = sniff(path)
    demuxer = _DEMUXERS.get(sniffed.mime or "")
    if sniffed.kind != "video" or demuxer is None:
        raise MediaError(sniffed.reason or f"Not a supported video ({sniffed.mime}).")
    try:
        container = av.open(
            os.fspath(path),
            format=demuxer,
            options=_INPUT_OPTIONS,
            metadata_errors="replace",
        )
    except av.error.FFmpegError as exc:
        if isinstance(exc, OSError):
            raise  # our disk or permissions, not the upload's fault
        raise MediaError(
            f"The video could not be read: it is damaged or incomplete ({exc.strerror})."
        ) from exc
    try:
        yield container
    except av.error.FFmpegError as exc:
        if isinstance(exc, OSError):
            raise
        raise MediaError(f"The video could not be decoded: {exc.strerror}.") from exc
    finally:
        container.close()


def video_stream(container: InputContainer, max_pixels: int) -> av.VideoStream:
    """The main video stream, refused when its frames exceed ``max_pixels``."""
    if not container.streams.video:
        raise MediaError("The file has no video stream.")
    video = container.streams.best("video")
    ctx = video.codec_context
    if ctx is None or not ctx.width or not ctx.height:
        raise MediaError("The video stream cannot be decoded.")
    if ctx.width * ctx.height > max_pixels:
        raise MediaError(
            f"Video too large: {ctx.width}x{ctx.height} pixels per frame "
            f"(limit {max_pixels / 1e6:.0f} megapixels)."
        )
    video.thread_type = "AUTO"
    return video


def _decode(container: InputContainer, video: av.VideoStream) -> Iterator[VideoFrame]:
    for packet in container.demux(video):
        yield from packet.decode()


def geometry_of(video: av.VideoStream, first: VideoFrame) -> Geometry:
    sar = video.codec_context.sample_aspect_ratio or Fraction(1)
    if sar <= 0:
        sar = Fraction(1)
    rotation, transpose = _display_transform(first)
    width = max(2, round(first.width * sar))
    height = first.height
    if transpose in _SWAPS_AXES:
        width, height = height, width
    return Geometry(sar, transpose, rotation, (width, height))


def _display_transform(frame: VideoFrame) -> tuple[int, Image.Transpose | None]:
    """(clockwise degrees, transpose) that turn ``frame`` upright.

    Follows ffmpeg's autorotate on the frame's display matrix, including its
    mirrored variants; angles that are not a multiple of 90 are rounded.
    """
    matrix = None
    for side_data in frame.side_data:
        if side_data.type == av.sidedata.sidedata.Type.DISPLAYMATRIX:
            matrix = struct.unpack("=9i", bytes(side_data)[:36])
    if matrix is None:
        return 0, None
    a, b, c, d = matrix[0], matrix[1], matrix[3], matrix[4]
    if math.hypot(a, c) == 0 or math.hypot(b, d) == 0:
        return 0, None
    # av_display_rotation_get() gives the counter-clockwise angle; negate it.
    angle = math.degrees(math.atan2(b / math.hypot(b, d), a / math.hypot(a, c)))
    clockwise = round(angle / 90) * 90 % 360
    T = Image.Transpose
    if clockwise == 90:
        return 90, T.TRANSPOSE if c > 0 else T.ROTATE_270
    if clockwise == 270:
        return 270, T.TRANSVERSE if c < 0 else T.ROTATE_90
    if clockwise == 180:
        flips = {(True, True): T.ROTATE_180, (True, False): T.FLIP_LEFT_RIGHT,
                 (False, True): T.FLIP_TOP_BOTTOM, (False, False): None}  # fmt: skip
        return 180, flips[(a < 0, d < 0)]
    return 0, T.FLIP_TOP_BOTTOM if d < 0 else None


def video_info(
    container: InputContainer, video: av.VideoStream, geometry: Geometry
) -> VideoInfo:
    duration = None
    if container.duration:
        duration = container.duration / av.time_base
    elif video.duration and video.time_base:
        duration = float(video.duration * video.time_base)
    rate = video.average_rate or video.guessed_rate
    return VideoInfo(
        duration=duration,
        width=geometry.displayed[0],
        height=geometry.displayed[1],
        rotation=geometry.rotation,
        codecs=tuple(codec_name(s) for s in container.streams),
        has_audio=bool(container.streams.audio),
        frame_rate=float(rate) if rate else None,
    )


def codec_name(stream: av.stream.Stream) -> str:
    name = getattr(stream, "name", None) or "unknown"
    return name if stream.type in ("video", "audio") else f"{stream.type}:{name}"


class Upright:
    """A libavfilter chain that turns decoded frames upright, scales them to
    ``size`` with square pixels and converts them to ``pix_fmt``."""

    def __init__(
        self,
        geometry: Geometry,
        first: VideoFrame,
        time_base: Fraction,
        size: tuple[int, int],
        pix_fmt: str,
    ) -> None:
        graph = av.filter.Graph()
        sar = geometry.sample_aspect
        nodes = [
            graph.add(
                "buffer",
                video_size=f"{first.width}x{first.height}",
                pix_fmt=first.format.name,
                time_base=f"{time_base.numerator}/{time_base.denominator}",
                pixel_aspect=f"{sar.numerator}/{sar.denominator}",
            )
        ]
        if geometry.transpose is not None:
            for name, args in _TRANSPOSE_FILTERS[geometry.transpose]:
                nodes.append(graph.add(name, args))
        nodes.append(graph.add("scale", f"{size[0]}:{size[1]}:flags=bicubic"))
        nodes.append(graph.add("setsar", "1"))
        nodes.append(graph.add("format", pix_fmt))
        nodes.append(graph.add("buffersink"))
        graph.link_nodes(*nodes).configure()
        self._graph = graph

    def push(self, frame: VideoFrame | None) -> list[VideoFrame]:
        self._graph.push(frame)
        frames = []
        while True:
            try:
                frames.append(self._graph.vpull())
            except (av.error.BlockingIOError, av.error.EOFError):
                return frames
