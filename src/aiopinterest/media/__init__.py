"""``client.media``: the generated media operations plus the direct-upload flow built on them.

Pinterest's direct upload: ``POST /media`` registers the upload and answers with an S3 presigned POST
(``upload_url`` and ``upload_parameters``); the file goes to S3 as ``multipart/form-data``, the policy fields
first and the file last; ``GET /media/{media_id}`` then moves registered -> processing -> succeeded (or failed);
the ``media_id`` makes a video Pin.

The S3 POST is streamed: the request body is written chunk by chunk straight from the source, so memory use does
not grow with the file. Its length is computed up front and sent as ``Content-Length``, because S3 rejects
chunked transfer encoding on POST.

The parts, one job each: :mod:`.namespace` (``MediaNamespace``: the flow and the Pin helpers), :mod:`.sources`
(what may be uploaded, checked and sized), :mod:`.s3_form` (the streamed multipart body), :mod:`.s3_post`
(sending it, S3's errors), :mod:`.pins` (a Pin's media source), :mod:`.codes` (``MediaUploadError.code``
values).
"""

from .codes import (
    PROCESSING_FAILED,
    PROCESSING_TIMEOUT,
    SOURCE_CHANGED,
    SOURCE_NOT_REPLAYABLE,
    SOURCE_UNREADABLE,
    UPLOAD_TIMEOUT,
)
from .namespace import DEFAULT_TIMEOUT, MAX_POLL_INTERVAL, MediaNamespace, UploadOutcome
from .pins import CarouselImage, ImageSource, PinFields
from .s3_form import ProgressCallback
from .sources import MediaSource, SizedStream

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_POLL_INTERVAL",
    "PROCESSING_FAILED",
    "PROCESSING_TIMEOUT",
    "SOURCE_CHANGED",
    "SOURCE_NOT_REPLAYABLE",
    "SOURCE_UNREADABLE",
    "UPLOAD_TIMEOUT",
    "CarouselImage",
    "ImageSource",
    "MediaNamespace",
    "MediaSource",
    "PinFields",
    "ProgressCallback",
    "SizedStream",
    "UploadOutcome",
]
