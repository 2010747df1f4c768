"""The recipes in deploy/ do what they say, as far as this machine can check them (no
container engine and no running systemd here): the systemd units pass `systemd-analyze
verify`, and the Dockerfile's install step, run in a fresh venv as a non-root user, gives a
`wiq-bot` whose `--version` and HEALTHCHECK command work against a fresh database that only
that user can read."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ops.database import version_line

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["wiq-bot.service", "wiq-bot-backup.service", "wiq-bot-backup.timer"]
INSTALLED_AT = "/opt/wiq-bot/venv/bin/wiq-bot"
THROWAWAY_ID = 64123  # a uid/gid with no account: nothing is added to /etc/passwd
TIME_LIMIT = 120


def unit(name: str) -> dict[str, list[str]]:
    """A unit file's settings, key -> every value it is given."""
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_service_restarts_on_failure_but_not_after_a_refusal_and_is_confined() -> None:
    service = unit("wiq-bot.service")
    assert service["Restart"] == ["on-failure"]
    assert service["RestartPreventExitStatus"] == ["2"]  # a refusal: restarting cannot help
    assert service["DynamicUser"] == ["yes"] and service["User"] == ["wiq-bot"]
    assert service["StateDirectory"] == ["wiq-bot"]
    assert service["EnvironmentFile"] == ["/etc/wiq-bot/env"]
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "UMask": "0077",
    }.items():
        assert service[key] == [value], key
    # The bot's database is where the unit lets it write.
    assert "/var/lib/wiq-bot" in (DEPLOY / "wiq-bot.service").read_text(encoding="utf-8")


def test_the_backup_runs_as_the_bots_user_and_keeps_fourteen_days() -> None:
    backup = unit("wiq-bot-backup.service")
    assert backup["User"] == unit("wiq-bot.service")["User"]  # same name, same dynamic uid
    assert backup["ExecStart"][0].split()[1:3] == ["backup", "--config"]
    (keep,) = backup["ExecStartPost"]
    assert "-mtime +13 -delete" in keep  # older than 14 days: gone
    timer = unit("wiq-bot-backup.timer")
    assert timer["Unit"] == ["wiq-bot-backup.service"] and timer["Persistent"] == ["true"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point it at this checkout's wiq-bot.
    program = Path(sys.executable).parent / "wiq-bot"
    assert program.is_file(), f"no {program}: install the package (pip install -e .)"
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(INSTALLED_AT, str(program))
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr.strip()) == (0, ""), done.stderr


def dockerfile_install_and_healthcheck() -> tuple[str, list[str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert re.search(r"^USER (?!root)\w+$", text, re.M), "the image runs as a non-root user"
    assert re.search(r'^VOLUME \["/var/lib/wiq-bot"\]$', text, re.M)
    (install,) = re.findall(r"^RUN (pip install /src\b.*)$", text, re.M)
    healthcheck = re.search(r"^\s*CMD (\[.*\])$", text.split("HEALTHCHECK", 1)[1], re.M)
    assert healthcheck, "HEALTHCHECK … CMD [...]"
    return install, json.loads(healthcheck.group(1))


@pytest.fixture
def throwaway_home() -> Iterator[Path]:
    """A directory outside /tmp/pytest-of-root (which others cannot enter), owned by the user
    the install runs as."""
    home = Path(tempfile.mkdtemp(prefix="wiq-deploy-"))
    home.chmod(0o755)
    if os.geteuid() == 0:
        os.chown(home, THROWAWAY_ID, THROWAWAY_ID)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def as_user(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Runs args as a non-root user: the throwaway uid when this runs as root (setpriv, no
    capabilities left), else as whoever runs the tests."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = [
            "setpriv",
            f"--reuid={THROWAWAY_ID}",
            f"--regid={THROWAWAY_ID}",
            "--clear-groups",
            "--inh-caps=-all",
        ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}  # no PYTHONPATH
    return subprocess.run(
        [*prefix, *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        check=False,
    )


def base_python(home: Path) -> str:
    """A Python 3.11 the user can run, also from a subprocess (pip's build step): this venv's
    base, unless it lives where the user cannot look (pyenv under /root), then the system's."""
    probe = "import subprocess, sys; subprocess.run([sys.executable, '-c', '0'], check=True)"
    for python in (sys._base_executable, "/usr/bin/python3.11", "/usr/local/bin/python3.11"):
        if Path(python).is_file() and as_user([python, "-c", probe], home).returncode == 0:
            return python
    pytest.skip("no Python 3.11 that a non-root user may run")


def copy_build_context(home: Path) -> Path:
    """What `COPY . /src` copies: the checkout without what Dockerfile.dockerignore leaves out."""
    ignored = [
        line.strip().removeprefix("**/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    src = home / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*ignored, "build", "*.egg-info"))
    if os.geteuid() == 0:
        for path in [src, *src.rglob("*")]:
            os.chown(path, THROWAWAY_ID, THROWAWAY_ID, follow_symlinks=False)
    return src


@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="running as root without setpriv: cannot become a non-root user",
)
def test_the_dockerfile_install_gives_a_wiq_bot_that_a_non_root_user_can_run(
    throwaway_home: Path,
) -> None:
    install, healthcheck = dockerfile_install_and_healthcheck()
    home = throwaway_home
    src = copy_build_context(home)
    venv = home / "venv"
    python = base_python(home)
    made = as_user([python, "-m", "venv", "--without-pip", str(venv)], home)
    assert made.returncode == 0, made.stderr
    # The dependencies (and pip, setuptools) come from this venv's site-packages, read-only, so
    # that the install needs no network; `bot` itself must come from the fresh install. A bare
    # path in a .pth does not run that directory's own .pth files (its editable install).
    shared = sysconfig.get_paths()["purelib"]
    if as_user(["test", "-r", str(Path(shared) / "pip" / "__init__.py")], home).returncode:
        # This venv lives where the user cannot look (a checkout in a private directory, as
        # `mktemp -d` makes): a copy of its site-packages in the user's home serves instead.
        copied = home / "shared-site-packages"
        shutil.copytree(shared, copied, ignore=shutil.ignore_patterns("__pycache__"))
        if os.geteuid() == 0:
            for path in [copied, *copied.rglob("*")]:
                os.chown(path, THROWAWAY_ID, THROWAWAY_ID, follow_symlinks=False)
        shared = str(copied)
    site = Path(as_user([str(venv / "bin/python"), "-c", _PURELIB], home).stdout.strip())
    assert site.is_dir(), site
    pth = site / "shared-deps.pth"
    pth.write_text(shared + "\n", encoding="utf-8")
    pth.chmod(0o644)  # whatever umask an earlier test left (`wiq-bot` sets 077)

    # The Dockerfile's step, without fetching the dependencies again.
    pip_args = install.split("&&")[0].split()[2:]  # "pip install /src" -> ["/src"]
    assert pip_args == ["/src"], install
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
    pip += ["--no-build-isolation", str(src)]
    installed = as_user(pip, home)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    wiq_bot = venv / "bin/wiq-bot"

    where = as_user([str(venv / "bin/python"), "-c", "import bot; print(bot.__file__)"], home)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr

    version = as_user([str(wiq_bot), "--version"], home)
    assert (version.returncode, version.stdout.strip()) == (0, version_line()), version.stderr

    data = home / "data"
    as_user(["mkdir", "-m", "0700", str(data)], home)
    config = home / "config.toml"
    config.write_text(
        (ROOT / "config.example.toml")
        .read_text(encoding="utf-8")
        .replace('path = "wiq.sqlite"', f'path = "{data}/wiq.sqlite"'),
        encoding="utf-8",
    )
    config.chmod(0o644)
    health = [str(wiq_bot), *healthcheck[1:]]
    health[health.index("--config") + 1] = str(config)

    missing = as_user(health, home)
    assert missing.returncode == 1 and "no database" in missing.stdout + missing.stderr

    # A fresh database, as `run` makes it at its start: its user's alone, whatever the umask.
    migrated = as_user([str(wiq_bot), "migrate", "--config", str(config)], home)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    database = data / "wiq.sqlite"
    mode = database.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o600
    assert mode.st_uid == (THROWAWAY_ID if os.geteuid() == 0 else os.geteuid())

    fresh = as_user(health, home)
    # No bot has run on it: the healthcheck says so (exit 1, which Docker counts as unhealthy).
    assert fresh.returncode == 1, fresh.stdout + fresh.stderr
    assert "heartbeat" in fresh.stdout, fresh.stdout + fresh.stderr
    assert "schema" not in fresh.stdout.split("unhealthy:", 1)[-1].split("heartbeat")[0]


_PURELIB = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
