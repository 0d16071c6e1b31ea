"""The breaking-change gate of a release pipeline: every client's spec against its last release.

For each client of ``spec/clients.yaml`` the spec as it was at the last release tag
(``git describe --tags --abbrev=0``, or ``--tag``) is compared with the working tree's by
``bearer-codegen diff --check-version``: breaking changes fail the gate unless the new
``info.version`` raises the major version. A spec that did not exist at the tag is a new client
with nothing to compare; a repository without tags has no release yet and the gate is skipped.
``--against DIR`` takes the old specs from a directory instead of git (for trying it locally).

Exit code 0 when every client passes, 1 when one has breaking changes without a major version,
2 for bad input (an unreadable spec, an unknown tag).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from generator import ClientJob, load_clients
from generator.__main__ import main as bearer_codegen
from generator._problems import render_problems

ROOT = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_BREAKING, EXIT_BAD_INPUT = 0, 1, 2


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed git subcommands; the tag comes from git itself or the pipeline's own argument
        ["git", *args],  # noqa: S607 - git from PATH, as the pipeline's checkout step installed it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def last_tag() -> str | None:
    """The release before this commit: the last tag reachable from HEAD, or from HEAD^ when HEAD is tagged.

    None when nothing was released yet. A build of a release tag compares with the release before
    it, not with itself.
    """
    tagged = _git("describe", "--tags", "--exact-match", "HEAD").returncode == 0
    result = _git("describe", "--tags", "--abbrev=0", "HEAD^" if tagged else "HEAD")
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def old_spec(job: ClientJob, tag: str | None, against: Path | None, scratch: Path) -> Path | None:
    """The client's spec as released, written under ``scratch``; None when it did not exist then."""
    if against is not None:
        candidate = against / job.spec.name
        return candidate if candidate.is_file() else None
    result = _git("show", f"{tag}:{job.spec_display}")
    if result.returncode != 0:
        return None
    path = scratch / job.spec.name
    path.write_text(result.stdout, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the gate; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tag", help="the release to compare with (default: the last tag reachable from HEAD)")
    parser.add_argument("--against", type=Path, help="a directory holding the old specs, instead of a git tag")
    args = parser.parse_args(argv)
    against: Path | None = args.against
    tag: str | None = args.tag or (None if against else last_tag())
    if tag is None and against is None:
        print("api gate: no release tag yet, nothing to compare with; skipped")
        return EXIT_OK
    jobs = load_clients(ROOT)
    problems = [job for job in jobs if not isinstance(job, ClientJob)]
    if problems:
        print(render_problems(problems), file=sys.stderr)
        return EXIT_BAD_INPUT
    baseline = str(against) if against else f"release {tag}"
    worst = EXIT_OK
    with tempfile.TemporaryDirectory(prefix="api-gate-") as scratch:
        for job in (job for job in jobs if isinstance(job, ClientJob)):
            old = old_spec(job, tag, against, Path(scratch))
            if old is None:
                print(f"== {job.spec_display}: not in {baseline}, a new client; nothing to compare")
                continue
            print(f"== {job.spec_display} against {baseline}", flush=True)
            code = bearer_codegen(["--root", str(ROOT), "diff", "--check-version", str(old), str(job.spec)])
            if code == EXIT_BREAKING:
                print(
                    f"api gate: {job.spec_display} breaks the API of {baseline}; make the change compatible, "
                    "or raise the major part of info.version to release it as a new major version"
                )
            worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
