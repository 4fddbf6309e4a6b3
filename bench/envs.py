"""Create each client's virtual environment under bench/.venvs on first use, and say what is installed."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from .config import PROJECT, Environment

_STAMP = ".bench-requirements"


def ensure(environment: Environment) -> None:
    """Create the venv and pip-install its requirements, unless it already has exactly these requirements."""
    if environment is PROJECT:
        return  # `make setup` owns the project's venv
    stamp = environment.path / _STAMP
    wanted = hashlib.sha256("\n".join(environment.requirements).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text() == wanted and environment.python.exists():
        return
    print(f"bench: creating {environment.path} ({', '.join(environment.requirements)})", file=sys.stderr)
    _run([sys.executable, "-m", "venv", "--clear", str(environment.path)])
    _run(
        [
            str(environment.python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *environment.requirements,
        ]
    )
    stamp.write_text(wanted)


def _run(command: list[str]) -> None:
    # pip's chatter only matters when it fails.
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}")


def versions(environment: Environment, distributions: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of these distributions in the environment ("missing" where not installed)."""
    code = (
        "import json, sys\n"
        "from importlib import metadata\n"
        "def version(name):\n"
        "    try:\n"
        "        return metadata.version(name)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        return 'missing'\n"
        "print(json.dumps({name: version(name) for name in sys.argv[1:]}))\n"
    )
    output = subprocess.run(
        [str(environment.python), "-c", code, *distributions],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    result: dict[str, str] = json.loads(output)
    return result
