"""De-identify video with PyAV: a new MP4 built from decoded pictures and sound.

Every video is transcoded, never stream-copied. A copy would keep in-band
data the container rewrite cannot see (H.264/HEVC SEI messages hold encoder
strings and, on some dash and body cameras, GPS), could not blur faces, and
would keep codecs a browser cannot play. The output is one H.264 (yuv420p)
video stream and at most one AAC audio stream in an MP4 with ``moov`` first:

- only the best video and audio streams are decoded; data, timed-metadata,
  subtitle and attachment streams (GoPro GPMF, Apple location tracks,
  chapters, cover art) are never read into the output;
- no container or stream metadata is set, the muxer and both encoders run
  bitexact (no "Lavf"/"Lavc" strings), and SEI NAL units are filtered out
  of the H.264 stream (x264 writes its version and settings there);
- the display matrix is applied to the pictures (turned upright, square
  pixels), so the output needs none and face rects match what users see;
- the finished file is read back and checked box by box (creation and
  modification times in mvhd/tkhd/mdhd are zero, only vide/soun tracks, no
  location or metadata items) before it is moved to ``dst_path``.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import av.error
from av.codec.context import Flags
from av.container import InputContainer
from av.video.frame import VideoFrame
from PIL import Image

from media_handling.faces import FaceTrack, blur_regions
from media_handling.sniff import MediaError, sniff

DEFAULT_MAX_SIDE = 1920
# Decoding guard: a header may claim any size, and each decoded frame of that
# size is allocated several times over (decoder threads, filters, encoder).
DEFAULT_MAX_PIXELS = 4096 * 4096
CRF = "23"
PRESET = "veryfast"
NO_PICTURES = "The video has no pictures that can be decoded."
# Audio decoded before the first picture waits for the video stream to be
# set up; this many frames (about 20 s of AAC) without a picture is an error.
MAX_PENDING_AUDIO = 1000
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
             11025, 8000)  # fmt: skip

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
class VideoReport:
    """What ``clean_video`` found in the source and what it wrote.

    Lists hold names only, never values: the values are what was removed.
    """

    source: VideoInfo
    width: int
    height: int
    duration: float | None
    frames: int
    video_codec: str
    audio_codec: str | None
    rotation_applied: int
    metadata_removed: tuple[str, ...]
    streams_dropped: tuple[str, ...]
    frames_blurred: int
    decode_errors: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Geometry:
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
    with _open_input(path) as container:
        video = _video_stream(container, max_pixels)
        first = next(_decode(container, video), None)
        if first is None:
            raise MediaError(NO_PICTURES)
        return _info(container, video, _geometry(video, first))


def clean_video(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    faces: FaceTrack | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> VideoReport:
    """Write a de-identified MP4 of ``src_path`` to ``dst_path``.

    Guarantees (see the module docstring for why): one H.264 video stream no
    larger than ``max_side`` on its long edge, upright; at most one AAC audio
    stream; no metadata, no other streams, zero creation times, verified by
    reading the file back. Regions from ``faces`` are blurred on every frame
    (their times are seconds from the first frame; rects in displayed source
    pixels). Frames are decoded, filtered, encoded and written one at a time,
    so memory does not grow with the length of the video. ``dst_path`` is
    only created when everything succeeded; otherwise ``MediaError`` says why.
    """
    dst = Path(dst_path)
    partial = dst.with_name(dst.name + ".part")
    try:
        with _open_input(src_path) as container:
            report = _transcode(container, partial, faces, max_side, max_pixels)
        problems = mp4_metadata_problems(partial)
        if problems:
            raise MediaError(
                "The cleaned video failed its metadata check: " + "; ".join(problems)
            )
        os.replace(partial, dst)
    finally:
        partial.unlink(missing_ok=True)
    return report


def display_frames(
    path: str | os.PathLike[str],
    *,
    every_s: float | None = None,
    limit: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[tuple[float, Image.Image]]:
    """Yield (seconds from the first frame, upright RGB image) while decoding.

    With ``every_s`` only the first frame at or after each multiple of it is
    converted and yielded; ``limit`` caps how many are yielded.
    """
    with _open_input(path) as container:
        video = _video_stream(container, max_pixels)
        upright: _Upright | None = None
        first_pts: int | None = None
        next_t, count = 0.0, 0
        for frame in _decode(container, video):
            if upright is None:
                geometry = _geometry(video, frame)
                upright = _Upright(
                    geometry, frame, video.time_base, geometry.displayed, "rgb24"
                )
                first_pts = frame.pts or 0
            t = float(((frame.pts or 0) - first_pts) * video.time_base)
            if every_s is not None and t < next_t:
                continue
            for out in upright.push(frame):
                yield t, out.to_image()
                count += 1
            if limit is not None and count >= limit:
                return
            if every_s is not None:
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
        duration = probe_video(path).duration
        at_s = min(1.0, duration / 3) if duration else 0.0
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


# --- decoding -------------------------------------------------------------


@contextlib.contextmanager
def _open_input(path: str | os.PathLike[str]) -> Iterator[InputContainer]:
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


def _video_stream(container: InputContainer, max_pixels: int) -> av.VideoStream:
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


def _geometry(video: av.VideoStream, first: VideoFrame) -> _Geometry:
    sar = video.codec_context.sample_aspect_ratio or Fraction(1)
    if sar <= 0:
        sar = Fraction(1)
    rotation, transpose = _display_transform(first)
    width = max(2, round(first.width * sar))
    height = first.height
    if transpose in _SWAPS_AXES:
        width, height = height, width
    return _Geometry(sar, transpose, rotation, (width, height))


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


def _info(
    container: InputContainer, video: av.VideoStream, geometry: _Geometry
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
        codecs=tuple(_codec_name(s) for s in container.streams),
        has_audio=bool(container.streams.audio),
        frame_rate=float(rate) if rate else None,
    )


def _codec_name(stream: av.stream.Stream) -> str:
    name = getattr(stream, "name", None) or "unknown"
    return name if stream.type in ("video", "audio") else f"{stream.type}:{name}"


class _Upright:
    """A libavfilter chain that turns decoded frames upright, scales them to
    ``size`` with square pixels and converts them to ``pix_fmt``."""

    def __init__(
        self,
        geometry: _Geometry,
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


# --- encoding -------------------------------------------------------------


def _h264_encoder() -> str:
    for name in ("libx264", "libopenh264"):
        if name in av.codecs_available:
            return name
    raise RuntimeError("This PyAV build has no software H.264 encoder (libx264).")


def _output_size(displayed: tuple[int, int], max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(displayed))
    # yuv420p needs even dimensions.
    return tuple(max(2, round(side * scale / 2) * 2) for side in displayed)  # type: ignore[return-value]


def _transcode(
    container: InputContainer,
    dst: Path,
    faces: FaceTrack | None,
    max_side: int,
    max_pixels: int,
) -> VideoReport:
    video = _video_stream(container, max_pixels)
    audio = container.streams.best("audio") if container.streams.audio else None
    if audio is not None and (
        audio.codec_context is None or not audio.codec_context.channels
    ):
        audio = None
    kept = [s for s in (video, audio) if s is not None]
    dropped = tuple(
        f"{s.type} #{s.index} ({_codec_name(s)})"
        for s in container.streams
        if s not in kept
    )
    metadata = tuple(sorted(container.metadata)) + tuple(
        f"stream {s.index}: {key}"
        for s in container.streams
        for key in sorted(s.metadata)
    )

    output = av.open(
        os.fspath(dst), "w", format="mp4",
        options={"movflags": "+faststart", "fflags": "+bitexact"},
    )  # fmt: skip
    try:
        job = _Job(container, output, video, audio, faces, max_side)
        job.run()
    finally:
        output.close()

    if job.geometry is None or job.frames == 0:
        if job.decode_errors:
            raise MediaError(
                "The video is damaged: none of its pictures can be decoded."
            )
        raise MediaError(NO_PICTURES)
    _check_complete(container, video, job)
    source = _info(container, video, job.geometry)
    return VideoReport(
        source=source,
        width=job.size[0],
        height=job.size[1],
        duration=job.duration,
        frames=job.frames,
        video_codec="h264",
        audio_codec="aac" if job.audio_out is not None else None,
        rotation_applied=job.geometry.rotation,
        metadata_removed=metadata,
        streams_dropped=dropped,
        frames_blurred=job.frames_blurred,
        decode_errors=job.decode_errors,
    )


class _Job:
    """One decode → filter → (blur) → encode → mux pass, a frame at a time."""

    def __init__(
        self,
        container: InputContainer,
        output: av.container.OutputContainer,
        video: av.VideoStream,
        audio: av.AudioStream | None,
        faces: FaceTrack | None,
        max_side: int,
    ) -> None:
        self.container, self.output = container, output
        self.video, self.audio = video, audio
        self.faces = faces or None
        self.max_side = max_side
        self.geometry: _Geometry | None = None
        self.size = (0, 0)
        self.upright: _Upright | None = None
        self.video_out: av.VideoStream | None = None
        self.audio_out: av.AudioStream | None = None
        self.resampler: av.AudioResampler | None = None
        self.sei_filter: av.bitstream.BitStreamFilterContext | None = None
        self.first_pts: int | None = None
        self.last_pts: int | None = None
        self.last_duration = 0
        self.frames = self.frames_blurred = self.decode_errors = 0
        self.video_packets = 0
        self.duration: float | None = None
        self.video_end = self.audio_end = 0.0
        self.pending_audio: list[av.AudioFrame] = []

    def run(self) -> None:
        streams = [s for s in (self.video, self.audio) if s is not None]
        for packet in self.container.demux(*streams):
            if packet.stream is self.video and packet.size:
                self.video_packets += 1
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                self.decode_errors += 1
                continue
            for frame in frames:
                if packet.stream is self.video:
                    self._video_frame(frame)
                else:
                    self._audio_frame(frame)
        if self.upright is not None:
            for frame in self.upright.push(None):
                self._encode_video(frame)
            self._mux_video(self.video_out.encode(None))
            self._mux_video(None)
        if self.audio_out is not None:
            for frame in self.resampler.resample(None):
                self.output.mux(self.audio_out.encode(frame))
            self.output.mux(self.audio_out.encode(None))
        if self.last_pts is not None:
            end = self.last_pts + self.last_duration
            self.duration = float((end - self.first_pts) * self.video.time_base)
            self.video_end = float(end * self.video.time_base)

    def _open_audio(self, audio: av.AudioStream) -> None:
        ctx = audio.codec_context
        rate = ctx.sample_rate if ctx.sample_rate in AAC_RATES else 48000
        layout = "mono" if ctx.channels == 1 else "stereo"
        out = self.output.add_stream("aac", rate=rate)
        out.codec_context.layout = layout
        out.codec_context.bit_rate = 96_000 if layout == "mono" else 160_000
        out.codec_context.flags |= Flags.bitexact
        self.audio_out = out
        self.resampler = av.AudioResampler(
            format="fltp", layout=layout, rate=rate, frame_size=1024
        )

    def _open_video(self, first: VideoFrame) -> None:
        self.geometry = _geometry(self.video, first)
        self.size = _output_size(self.geometry.displayed, self.max_side)
        self.upright = _Upright(
            self.geometry, first, self.video.time_base, self.size, "yuv420p"
        )
        rate = self.video.average_rate or self.video.guessed_rate or Fraction(30)
        out = self.output.add_stream(
            _h264_encoder(), rate=rate, options={"crf": CRF, "preset": PRESET}
        )
        ctx = out.codec_context
        ctx.width, ctx.height = self.size
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = self.video.time_base
        ctx.flags |= Flags.bitexact
        self.video_out = out
        self.first_pts = first.pts or 0
        if self.audio is not None:
            self._open_audio(self.audio)

    def _video_frame(self, frame: VideoFrame) -> None:
        if frame.pts is None:
            frame.pts = (self.last_pts + 1) if self.last_pts is not None else 0
        if self.last_pts is not None and frame.pts <= self.last_pts:
            return  # x264 refuses non-increasing timestamps; a repeat shows nothing new
        if self.upright is None:
            self._open_video(frame)
        self.last_pts = frame.pts
        self.last_duration = frame.duration or 0
        for upright in self.upright.push(frame):
            self._encode_video(upright)
        # Audio decoded before the first picture waits until the video stream
        # exists, since the muxer needs every stream before its header.
        for pending in self.pending_audio:
            self._audio_frame(pending)
        self.pending_audio.clear()

    def _encode_video(self, frame: VideoFrame) -> None:
        if self.faces is not None:
            frame = self._blur(frame)
        self.frames += 1
        self._mux_video(self.video_out.encode(frame))

    def _blur(self, frame: VideoFrame) -> VideoFrame:
        t = float((frame.pts - self.first_pts) * frame.time_base)
        sx = self.size[0] / self.geometry.displayed[0]
        sy = self.size[1] / self.geometry.displayed[1]
        rects = [r.scaled(sx, sy) for r in self.faces.rects_at(t)]
        if not rects:
            return frame
        image = frame.to_image()
        if not blur_regions(image, rects):
            return frame
        self.frames_blurred += 1
        blurred = VideoFrame.from_image(image).reformat(format="yuv420p")
        blurred.pts, blurred.time_base = frame.pts, frame.time_base
        return blurred

    def _mux_video(self, packets: list[av.Packet] | None) -> None:
        for packet in [None] if packets is None else packets:
            if self.sei_filter is None:
                # The filter copies the stream's parameters in both directions,
                # so it is made once the header (and so those parameters) is
                # final: earlier it would hand the muxer a blank stream.
                self.output.start_encoding()
                self.sei_filter = av.bitstream.BitStreamFilterContext(
                    "filter_units=remove_types=6", self.video_out, self.video_out
                )
            self.output.mux(self.sei_filter.filter(packet))

    def _audio_frame(self, frame: av.AudioFrame) -> None:
        if frame.time is not None and frame.sample_rate:
            end = frame.time + frame.samples / frame.sample_rate
            self.audio_end = max(self.audio_end, end)
        if self.video_out is None:
            if len(self.pending_audio) >= MAX_PENDING_AUDIO:
                raise MediaError(NO_PICTURES)
            self.pending_audio.append(frame)
            return
        for resampled in self.resampler.resample(frame):
            self.output.mux(self.audio_out.encode(resampled))


def _check_complete(
    container: InputContainer, video: av.VideoStream, job: _Job
) -> None:
    """Refuse output from a source that was cut short or is badly damaged.

    MP4 and QuickTime declare their frame count up front; Matroska and WebM
    only their duration, which the decoded streams must then nearly reach.
    """
    declared = video.frames
    if declared and job.video_packets < declared:
        raise MediaError(
            f"The video is incomplete: it declares {declared} frames but only "
            f"{job.video_packets} are in the file (an interrupted upload or copy?)."
        )
    if not declared and container.duration:
        length = container.duration / av.time_base
        start = (container.start_time or 0) / av.time_base
        reached = max(job.video_end, job.audio_end) - start
        if reached < length - max(1.0, length / 10):
            raise MediaError(
                f"The video is incomplete: it declares {length:.1f} s but only "
                f"{max(reached, 0):.1f} s are in the file (an interrupted upload or copy?)."
            )
    if job.decode_errors * 20 > max(job.video_packets, 1):
        raise MediaError(
            f"The video is damaged: {job.decode_errors} of {job.video_packets} "
            "frames could not be decoded."
        )


# --- reading MP4 boxes back -----------------------------------------------

_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts",
                    b"dinf", b"mvex", b"moof", b"traf", b"tref", b"ilst", b"meta"}  # fmt: skip
_TIMED_BOXES = {b"mvhd", b"tkhd", b"mdhd"}
# Every box FFmpeg's MP4 muxer writes for one H.264 and one AAC track, down
# to the sample tables (sample entries inside stsd are not walked). It also
# writes an empty udta/meta/ilst, which the check allows only while empty.
_WRITTEN_BY_MUXER = {
    b"ftyp", b"free", b"skip", b"mdat", b"moov", b"mvhd", b"iods", b"trak",
    b"tkhd", b"edts", b"elst", b"mdia", b"mdhd", b"hdlr", b"minf", b"vmhd",
    b"smhd", b"dinf", b"dref", b"stbl", b"stsd", b"stts", b"stss", b"ctts",
    b"cslg", b"stsc", b"stsz", b"stco", b"co64", b"sgpd", b"sbgp", b"sdtp",
    b"udta", b"meta", b"ilst",
}  # fmt: skip
_GENERIC_HANDLER_NAMES = {b"", b"VideoHandler", b"SoundHandler"}


@dataclass(frozen=True)
class Mp4Box:
    path: str  # e.g. "moov/trak/mdia/mdhd"
    type: bytes
    payload: bytes  # the box content after its header (empty for mdat)


def read_mp4_boxes(path: str | os.PathLike[str]) -> list[Mp4Box]:
    """Every box of an MP4/QuickTime file, depth first, without mdat contents.

    Only ``moov`` and other small top-level boxes are read into memory.
    """
    boxes: list[Mp4Box] = []
    with open(path, "rb") as fh:
        for box_type, start, size, header in _top_level(fh):
            if box_type == b"mdat":
                boxes.append(Mp4Box("mdat", box_type, b""))
                continue
            fh.seek(start + header)
            payload = fh.read(size - header)
            boxes.append(Mp4Box(_box_name(box_type), box_type, payload))
            if box_type in _CONTAINER_BOXES:
                boxes.extend(_children(payload, _box_name(box_type), box_type))
    return boxes


def _top_level(fh: BinaryIO) -> Iterator[tuple[bytes, int, int, int]]:
    end = fh.seek(0, os.SEEK_END)
    pos = 0
    while pos + 8 <= end:
        fh.seek(pos)
        size, box_type = struct.unpack(">I4s", fh.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", fh.read(8))[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MediaError(f"Damaged MP4: box {box_type!r} overruns the file.")
        yield box_type, pos, size, header
        pos += size


def _children(data: bytes, parent_path: str, parent: bytes) -> Iterator[Mp4Box]:
    pos = 0
    # ISO meta is a full box (4 bytes of version/flags); QuickTime's is not.
    if parent == b"meta" and data[4:8] not in (b"hdlr", b"keys", b"ilst"):
        pos = 4
    while pos + 8 <= len(data):
        size, box_type = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            raise MediaError(f"Damaged MP4: box {box_type!r} overruns its parent.")
        payload = data[pos + header : pos + size]
        path = f"{parent_path}/{_box_name(box_type)}"
        yield Mp4Box(path, box_type, payload)
        if box_type in _CONTAINER_BOXES:
            yield from _children(payload, path, box_type)
        pos += size


def _box_name(box_type: bytes) -> str:
    name = box_type.decode("latin-1")
    return name if name.isprintable() else box_type.hex()


def box_times(box: Mp4Box) -> tuple[int, int]:
    """(creation, modification) seconds since 1904 from an mvhd/tkhd/mdhd box."""
    if box.payload[0] == 1:
        return struct.unpack(">QQ", box.payload[4:20])
    return struct.unpack(">II", box.payload[4:12])


def mp4_metadata_problems(path: str | os.PathLike[str]) -> list[str]:
    """What in the MP4 at ``path`` could identify someone, read from its boxes.

    Empty for a file ``clean_video`` may store: only the boxes the MP4 muxer
    writes for plain audio and video (anything else, such as ``keys``,
    ``loci``, ``©xyz`` or ``uuid``, is a problem), zero creation and
    modification times in every mvhd/tkhd/mdhd, only video and sound tracks
    with the muxer's generic handler names, and no metadata items.
    """
    problems = []
    for box in read_mp4_boxes(path):
        if box.type not in _WRITTEN_BY_MUXER:
            problems.append(f"unexpected box {box.path}")
        elif box.type in _TIMED_BOXES and box_times(box) != (0, 0):
            problems.append(f"{box.path} carries a timestamp")
        elif box.type == b"hdlr":
            handler, name = box.payload[8:12], box.payload[24:].rstrip(b"\x00")
            if box.path.endswith("mdia/hdlr") and handler not in (b"vide", b"soun"):
                problems.append(f"a track of type {handler.decode('latin-1')!r}")
            if name not in _GENERIC_HANDLER_NAMES:
                problems.append(f"{box.path} carries a handler name")
        elif box.type == b"ilst" and box.payload:
            problems.append(f"{box.path} holds metadata items")
    return problems
