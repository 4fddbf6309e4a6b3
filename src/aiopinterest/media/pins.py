"""What the Pin helpers send as a Pin's ``media_source``, and the checks made before anything is uploaded."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeAlias, TypedDict

import anyio

from .._generated.models import (
    PinMediaSourceImageBase64,
    PinMediaSourceImagesBase64,
    PinMediaSourceImagesBase64Item,
    PinMediaSourceImagesURL,
    PinMediaSourceImagesURLItem,
    PinMediaSourceImageURL,
    PinMediaSourceVideoID,
)
from .._validation import schema_table, validate
from ..errors import RequestValidationError

__all__ = [
    "CarouselImage",
    "ImageSource",
    "PinFields",
    "carousel_media_source",
    "check_video_cover",
    "image_media_source",
    "validate_pin_fields",
    "video_media_source",
]

# The image types the spec's ContentType allows for base64 images, by their leading bytes: sniffed rather than
# guessed from a file name, because Pinterest decodes the bytes, not the name.
_IMAGE_SIGNATURES: Final[Mapping[bytes, str]] = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}

#: An image for the Pin helpers: an ``http(s)://`` URL string (Pinterest fetches it), a local path or the image's
#: bytes (sent base64-encoded; JPEG or PNG, the types the spec allows).
ImageSource: TypeAlias = str | os.PathLike[str] | bytes


@dataclass(frozen=True, slots=True)
class CarouselImage:
    """One image of a carousel Pin, with its own title, description and link."""

    image: ImageSource = field(repr=False)
    title: str | None = None
    description: str | None = None
    link: str | None = None


class PinFields(TypedDict, total=False):
    """The Pin fields the Pin helpers accept as keyword arguments (see ``client.pins.create``)."""

    board_id: str
    board_section_id: str
    title: str
    description: str
    link: str
    alt_text: str
    dominant_color: str
    parent_pin_id: str
    sponsor_id: str
    #: Create the Pin for this ad account (a query parameter of ``POST /pins``).
    ad_account_id: str


def validate_pin_fields(pin: PinFields) -> None:
    """Check the Pin's fields against the spec, every rule but the ``media_source`` still to be made."""
    # Checked before any upload, so a bad board_id fails before the video is sent.
    fields = {name: value for name, value in pin.items() if name != "ad_account_id"}
    schema = schema_table()["PinCreate"]
    later = {**schema, "required": [name for name in schema.get("required", ()) if name != "media_source"]}
    validate(fields, later, "body")


def check_video_cover(cover_image_url: str | None, cover_image_key_frame_time: int | None) -> None:
    """Exactly one cover for a video Pin: an image URL, or a key frame time within the spec's range."""
    if (cover_image_url is None) == (cover_image_key_frame_time is None):
        raise RequestValidationError(
            "cover_image_url", "give exactly one of cover_image_url and cover_image_key_frame_time"
        )
    if cover_image_key_frame_time is not None:
        video_schema = schema_table()["PinMediaSourceVideoID"]["properties"]
        validate(
            cover_image_key_frame_time,
            video_schema["cover_image_key_frame_time"],
            "cover_image_key_frame_time",
        )


def video_media_source(
    media_id: str, cover_image_url: str | None, cover_image_key_frame_time: int | None
) -> PinMediaSourceVideoID:
    """The processed video ``media_id`` as ``video_id``, with its cover (see :func:`check_video_cover`)."""
    return PinMediaSourceVideoID(
        source_type="video_id",
        media_id=media_id,
        cover_image_url=cover_image_url,
        cover_image_key_frame_time=cover_image_key_frame_time,
    )


async def image_media_source(image: ImageSource) -> PinMediaSourceImageURL | PinMediaSourceImageBase64:
    """A URL as ``image_url`` (Pinterest fetches it); a local image as ``image_base64``."""
    if _is_url(image):
        return PinMediaSourceImageURL(source_type="image_url", url=str(image))
    content_type, data = await _read_image(image, "image")
    return PinMediaSourceImageBase64(source_type="image_base64", content_type=content_type, data=data)


async def carousel_media_source(
    images: Sequence[ImageSource | CarouselImage],
) -> PinMediaSourceImagesURL | PinMediaSourceImagesBase64:
    """All URLs as ``multiple_image_urls``, or all local images as ``multiple_image_base64``."""
    slides = [image if isinstance(image, CarouselImage) else CarouselImage(image) for image in images]
    by_url = {_is_url(slide.image) for slide in slides}
    if len(by_url) > 1:
        raise RequestValidationError(
            "images", "give either only http(s) URLs or only local images: the API has no mixed carousel"
        )
    if by_url == {True}:
        return PinMediaSourceImagesURL(
            source_type="multiple_image_urls",
            items=[
                PinMediaSourceImagesURLItem(
                    url=str(slide.image), title=slide.title, description=slide.description, link=slide.link
                )
                for slide in slides
            ],
        )
    items = []
    for position, slide in enumerate(slides):
        content_type, data = await _read_image(slide.image, f"images[{position}]")
        items.append(
            PinMediaSourceImagesBase64Item(
                content_type=content_type,
                data=data,
                title=slide.title,
                description=slide.description,
                link=slide.link,
            )
        )
    return PinMediaSourceImagesBase64(source_type="multiple_image_base64", items=items)


def _is_url(image: ImageSource) -> bool:
    return isinstance(image, str) and image.startswith(("https://", "http://"))


async def _read_image(image: ImageSource, argument: str) -> tuple[str, str]:
    """The image's content type (sniffed: JPEG or PNG) and its base64 text."""
    if isinstance(image, bytes):
        data = image
    else:
        try:
            data = await anyio.Path(image).read_bytes()
        except FileNotFoundError:
            raise RequestValidationError(argument, f"no such file: {image}") from None
        except OSError as error:
            raise RequestValidationError(argument, f"cannot read {image}: {error.strerror}") from None
    if not data:
        raise RequestValidationError(argument, "the image is empty")
    for signature, content_type in _IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return content_type, base64.b64encode(data).decode("ascii")
    raise RequestValidationError(
        argument, "not a JPEG or PNG image, the types Pinterest accepts as image data"
    )
