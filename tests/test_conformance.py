"""Every documented response of every operation decodes through the method's return type, leniently, without
losing data; every request body survives encode -> decode. Payloads come from the raw spec (see spec_payloads)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from aiopinterest import OPERATIONS

# Internal entries, driven directly: every payload of the spec, more than a loopback call per payload can afford.
from aiopinterest._decoding import decode_lenient
from aiopinterest._validation import validate
from codegen import source
from tests.spec_payloads import UNKNOWN_FIELD, Synthesiser

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    try:
        return source.load(source.locate(download=False))
    except source.SpecNotFound as exc:
        pytest.skip(f"conformance needs the spec: {exc}")


def assert_preserved(original: Any, decoded: Any, path: str, problems: list[str]) -> None:
    """Everything the payload said (nulls and fields the spec does not list aside) survives decoding."""
    if isinstance(original, dict):
        if not isinstance(decoded, dict):
            problems.append(f"{path}: object decoded as {type(decoded).__name__}")
            return
        for key, value in original.items():
            if key == UNKNOWN_FIELD or value is None:
                continue
            if key not in decoded:
                problems.append(f"{path}.{key}: lost in decoding")
            else:
                assert_preserved(value, decoded[key], f"{path}.{key}", problems)
    elif isinstance(original, list):
        if not isinstance(decoded, list) or len(decoded) != len(original):
            problems.append(f"{path}: array decoded as {decoded!r:.60}")
            return
        for index, (a, b) in enumerate(zip(original, decoded, strict=True)):
            assert_preserved(a, b, f"{path}[{index}]", problems)
    elif original != decoded:
        problems.append(f"{path}: {original!r} decoded as {decoded!r}")


def decode(content: bytes, response_type: Any) -> Any:
    """As the client decodes a body: straight into its type, or leniently when that fails."""
    try:
        return msgspec.json.decode(content, type=response_type)
    except msgspec.ValidationError:
        return decode_lenient(content, response_type)


def json_responses(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (status, response["content"]["application/json"]["schema"])
        for status, response in operation["responses"].items()
        if status.startswith("2") and "application/json" in response.get("content", {})
    ]


def spec_operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        op
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]


def test_every_response_decodes(spec: dict[str, Any]) -> None:
    synth = Synthesiser(spec)
    counts = {"operations": 0, "responses": 0, "payloads": 0, "union variants": 0}
    problems: list[str] = []
    for raw in spec_operations(spec):
        operation = OPERATIONS[raw["operationId"]]
        counts["operations"] += 1
        for status, schema in json_responses(raw):
            counts["responses"] += 1
            for label, payload in synth.variants(schema):
                counts["payloads"] += 1
                counts["union variants"] += label.startswith("variant")
                where = f"{operation.operation_id} {status} ({label})"
                try:
                    decoded = decode(msgspec.json.encode(payload), operation.response_type)
                except msgspec.ValidationError as exc:
                    problems.append(f"{where}: {exc}")
                    continue
                assert_preserved(payload, msgspec.to_builtins(decoded), where, problems)
    print(f"\nconformance: {counts}")
    assert counts["operations"] == 231
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:30])


def test_every_request_body_round_trips(spec: dict[str, Any]) -> None:
    synth = Synthesiser(spec)
    counts = {"bodies": 0, "payloads": 0}
    problems: list[str] = []
    for raw in spec_operations(spec):
        operation = OPERATIONS[raw["operationId"]]
        content = raw.get("requestBody", {}).get("content", {})
        if not content:
            continue
        counts["bodies"] += 1
        schema = next(iter(content.values()))["schema"]
        for label, payload in synth.variants(schema):
            if label not in ("full", "minimal") and not label.startswith("variant"):
                continue  # deliberate deviations are for the lenient response path only
            counts["payloads"] += 1
            where = f"{operation.operation_id} body ({label})"
            try:
                validate(payload, {"$ref": operation.body}, "body")
                instance = msgspec.convert(payload, operation.body_type)
                again = msgspec.json.decode(msgspec.json.encode(instance), type=operation.body_type)
            except (msgspec.ValidationError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
                continue
            if again != instance:
                problems.append(f"{where}: {again!r:.80} != {instance!r:.80}")
            assert_preserved(payload, msgspec.to_builtins(again), where, problems)
    print(f"\nconformance: {counts}")
    assert counts["bodies"] == 91
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:30])


_PLACEHOLDER = re.compile(r"^<[^<>]+>$")


def without_placeholders(value: Any) -> Any:
    """Drop the seeds' "<boolean>"-style placeholders (and objects made only of them); keep real values."""
    if isinstance(value, dict):
        kept = {k: without_placeholders(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _DROP}
    if isinstance(value, list):
        return [v for v in map(without_placeholders, value) if v is not _DROP]
    if isinstance(value, str) and _PLACEHOLDER.match(value):
        return _DROP
    return value


class _Drop:
    pass


_DROP: Any = _Drop()


def _scrub(value: Any) -> Any:
    cleaned = without_placeholders(value)
    # {"value": "<Error: ...>"} shells that lost their only member are placeholders too.
    if isinstance(cleaned, dict):
        return {k: v for k, v in ((k, _scrub(v)) for k, v in cleaned.items()) if v != {}}
    if isinstance(cleaned, list):
        return [_scrub(v) for v in cleaned]
    return cleaned


def seed_samples() -> list[tuple[str, str, Any]]:
    """(seed file, operationId, sample response) for the seeds that carry one."""
    samples = []
    for name, operation_id in (("000_", "pins/get"), ("001_", "pins/analytics"), ("004_", "pins/create")):
        path = next(SEEDS.glob(f"{name}*.txt"), None)
        if path is None:
            continue
        text = html.unescape(path.read_text())
        start = text.rfind("status: OK")
        start = text.find("{", start if start >= 0 else text.rfind('{ "has_been_promoted'))
        sample, _ = json.JSONDecoder().raw_decode(text[start:])
        samples.append((path.name, operation_id, sample))
    return samples


def test_seed_samples_decode() -> None:
    samples = seed_samples()
    if not samples:
        pytest.skip("the seeds are not beside the project")
    problems: list[str] = []
    for name, operation_id, sample in samples:
        payload = _scrub(sample)
        decoded = msgspec.json.decode(json.dumps(payload), type=OPERATIONS[operation_id].response_type)
        assert_preserved(payload, msgspec.to_builtins(decoded), name, problems)
    assert len(samples) == 3
    assert not problems, "\n".join(problems)
