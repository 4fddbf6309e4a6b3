"""The S3 presigned POST: where the registration says to send the file, sending the form, and S3's errors."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree import ElementTree

import msgspec

from .._options import RawResponse
from .._snippet import body_snippet
from ..errors import MediaUploadError, ResponseValidationError, TransportError
from .s3_form import ProgressCallback, S3Form
from .sources import Source, not_replayable

if TYPE_CHECKING:
    from .._requester import Requester
    from .._transport.response import Response

__all__ = ["UploadTarget", "post_to_s3", "read_target"]


class UploadTarget(msgspec.Struct):
    """What the S3 POST needs from the registration; ``upload_parameters`` decoded as a dict so that their order
    and any field the spec does not list survive (S3 checks every policy field)."""

    media_id: str
    upload_url: str
    upload_parameters: dict[str, str]


_target_decoder = msgspec.json.Decoder(UploadTarget)


def read_target(registration: RawResponse) -> UploadTarget:
    """The upload target in the body of a ``POST /media`` answer."""
    try:
        return _target_decoder.decode(registration.content)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        # msgspec names the missing or mistyped field, never its value (the values are S3 credentials).
        raise ResponseValidationError(
            f"media/create: the registration cannot be used for an upload: {error}",
            status=registration.status,
        ) from None


async def post_to_s3(
    client: Requester,
    target: UploadTarget,
    source: Source,
    content_type: str,
    on_progress: ProgressCallback | None,
) -> None:
    """Send ``source`` to S3 as the presigned POST ``target`` describes, retried per the client's policy."""
    form = S3Form(target.upload_parameters, source, content_type, on_progress)
    try:
        response = await client.request(
            "POST",
            target.upload_url,
            # Never the bearer token, even where S3 shares the API's origin (the simulator's does).
            authenticated=False,
            headers={"Content-Type": form.content_type},
            body=form.payload,
            # Sending the same key twice is harmless: S3 stores the object once, atomically.
            replay_safe=source.replayable,
            raise_for_status=False,
            # Bounded by upload()'s own deadline, which a large file may need in full.
            timeout=float("inf"),
        )
    except TransportError as error:
        # aiohttp reports a failure inside the body writer (ours: the source, the callback) as a connection
        # error; surface the original instead.
        form.raise_write_error()
        if source.started and not source.replayable:
            raise not_replayable(f"the connection failed ({error.reason})") from error
        raise
    if response.status >= 300:
        raise _s3_error(response, source)


def _s3_error(response: Response, source: Source) -> MediaUploadError:
    """S3's XML error (``<Error><Code>..</Code><Message>..</Message></Error>``) as a :class:`MediaUploadError`."""
    code = message = None
    try:
        root = ElementTree.fromstring(response.content)
        code, message = root.findtext("Code"), root.findtext("Message")
    except ElementTree.ParseError:
        pass
    if message is None:
        snippet = body_snippet(response.content)
        message = f"non-XML body: {snippet!r}" if snippet else "empty body"
    text = f"S3 rejected the upload: {response.status} {code or ''}".rstrip() + f": {message}"
    if response.status >= 500 and not source.replayable:
        text += " (not retried: the source is a one-shot stream, which cannot be sent again)"
    return MediaUploadError(text, code=code, status=response.status)
