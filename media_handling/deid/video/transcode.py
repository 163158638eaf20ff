"""Transcode a video into a new, metadata-free MP4, one frame at a time."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
from av.codec.context import Flags
from av.container import InputContainer
from av.video.frame import VideoFrame

from media_handling.deid.video.decoding import (
    DEFAULT_MAX_PIXELS,
    NO_PICTURES,
    Geometry,
    Upright,
    VideoInfo,
    codec_name,
    geometry_of,
    open_input,
    video_info,
    video_stream,
)
from media_handling.deid.video.mp4 import mp4_metadata_problems
from media_handling.regions import FaceTrack, blur_regions
from media_handling.sniff import MediaError

DEFAULT_MAX_SIDE = 1920
CRF = "23"
PRESET = "veryfast"
# Audio decoded before the first picture waits for the video stream to be
# set up; this many frames (about 20 s of AAC) without a picture is an error.
MAX_PENDING_AUDIO = 1000
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
             11025, 8000)  # fmt: skip


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


def clean_video(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    faces: FaceTrack | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> VideoReport:
    """Write a de-identified MP4 of ``src_path`` to ``dst_path``.

    Guarantees (the package docstring says why): one H.264 video stream no
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
        with open_input(src_path) as container:
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
    video = video_stream(container, max_pixels)
    audio = container.streams.best("audio") if container.streams.audio else None
    if audio is not None and (
        audio.codec_context is None or not audio.codec_context.channels
    ):
        audio = None
    kept = [s for s in (video, audio) if s is not None]
    dropped = tuple(
        f"{s.type} #{s.index} ({codec_name(s)})"
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
    source = video_info(container, video, job.geometry)
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
        self.geometry: Geometry | None = None
        self.size = (0, 0)
        self.upright: Upright | None = None
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
        self.geometry = geometry_of(self.video, first)
        self.size = _output_size(self.geometry.displayed, self.max_side)
        self.upright = Upright(
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
