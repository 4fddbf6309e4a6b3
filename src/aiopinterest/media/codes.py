"""The ``MediaUploadError.code`` values the upload flow raises itself.

S3's own codes (``AccessDenied``, ``EntityTooLarge``, ...) are passed through as S3 sent them.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "PROCESSING_FAILED",
    "PROCESSING_TIMEOUT",
    "SOURCE_CHANGED",
    "SOURCE_NOT_REPLAYABLE",
    "SOURCE_UNREADABLE",
    "UPLOAD_TIMEOUT",
]

#: The source yielded more or fewer bytes than its size said (a file changed while it was being sent).
SOURCE_CHANGED: Final = "SourceSizeMismatch"
#: Reading the source failed (an I/O error).
SOURCE_UNREADABLE: Final = "SourceReadFailed"
#: The S3 POST failed after streaming began and the source is one-shot, so it cannot be sent again.
SOURCE_NOT_REPLAYABLE: Final = "SourceNotReplayable"
#: The upload (registration and S3 POST) did not finish within the call's timeout.
UPLOAD_TIMEOUT: Final = "UploadTimeout"
#: Pinterest reported the media as ``failed``.
PROCESSING_FAILED: Final = "ProcessingFailed"
#: The media was still registered or processing when the timeout ran out.
PROCESSING_TIMEOUT: Final = "ProcessingTimeout"
