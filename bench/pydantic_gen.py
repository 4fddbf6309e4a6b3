"""Generate the pydantic v2 models the decode workload compares against, with datamodel-code-generator.

The input is the same spec aiopinterest is generated from, with the same overlay of corrections (so both decode
the same fields). The output goes to bench/.work/pydantic_models, which is git-ignored: generated pydantic models
are never committed. Runs in the project's venv, where datamodel-code-generator is a dev dependency.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

from codegen import source

from .config import WORK

OUTPUT = WORK / "pydantic_models"
_SPEC = WORK / "openapi.json"
_STAMP = OUTPUT / ".spec-sha256"


def generate() -> None:
    spec = json.dumps(source.load(source.locate()), sort_keys=True)
    digest = hashlib.sha256(spec.encode()).hexdigest()
    if _STAMP.is_file() and _STAMP.read_text() == digest:
        return
    WORK.mkdir(parents=True, exist_ok=True)
    _SPEC.write_text(spec)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    # The spec's dotted schema names (Pinterest.Lib.Error) make a package, not a single module.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(_SPEC),
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--target-python-version",
            "3.11",
            "--formatters",
            "builtin",
            "--output",
            str(OUTPUT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"datamodel-code-generator failed:\n{completed.stderr}")
    _STAMP.write_text(digest)


if __name__ == "__main__":
    generate()
