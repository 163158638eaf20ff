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

from media_handling.deid.video.decoding import (
    DEFAULT_MAX_PIXELS,
    VideoInfo,
    display_frames,
    poster_frame,
    probe_video,
)
from media_handling.deid.video.mp4 import (
    Mp4Box,
    box_times,
    mp4_metadata_problems,
    read_mp4_boxes,
)
from media_handling.deid.video.transcode import (
    DEFAULT_MAX_SIDE,
    VideoReport,
    clean_video,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE",
    "Mp4Box",
    "VideoInfo",
    "VideoReport",
    "box_times",
    "clean_video",
    "display_frames",
    "mp4_metadata_problems",
    "poster_frame",
    "probe_video",
    "read_mp4_boxes",
]
