"""The config: the example is valid, and every broken config gives one line and exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.charter.policy import DecisionKind, Process, TeamKind
from bot.cli import main
from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
TOKEN = {"WIQ_BOT_TOKEN": "123:abc"}

MINIMAL = """
[telegram]
token = "123:abc"
[network]
name = "Test"
admins = [1]
[storage]
path = "db.sqlite"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid_with_token_in_env() -> None:
    config = load_config(EXAMPLE, env=TOKEN)
    assert config.telegram.token == "123:abc"
    assert config.network.language == "de"
    assert str(config.network.timezone) == "Europe/Berlin"
    assert config.storage_path == ROOT / "wiq.sqlite"


def test_example_config_without_any_token_names_the_env_variable() -> None:
    with pytest.raises(ConfigError, match=r"telegram\.token: missing .*WIQ_BOT_TOKEN"):
        load_config(EXAMPLE, env={})


def test_defaults_follow_the_charter(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), env={})
    st = config.policies.resolve(TeamKind.ST)
    assert st.process is Process.CONSENSUS_THEN_MAJORITY
    assert st.consensus_deadline == timedelta(days=7)
    assert st.majority_deadline == timedelta(days=3)
    assert st.quorum == 0.5
    pt_admission = config.policies.resolve(TeamKind.PT, DecisionKind.ADMISSION)
    assert pt_admission.process is Process.CONSENSUS_ONLY
    assert config.policies.resolve(TeamKind.NET, DecisionKind.ELECTION).quorum == 0
    assert config.limits.group_window == 60.0  # Telegram's minute
    assert config.outbox_keep_days == 7


def test_the_group_window_and_the_outbox_keep_time_are_configurable(tmp_path: Path) -> None:
    extra = '[limits]\ngroup_window = "5s"\n'
    config = load_config(write(tmp_path, MINIMAL + extra), env={})
    assert config.limits.group_window == 5.0
    text = MINIMAL.replace("[storage]\n", "[storage]\noutbox_keep_days = 2\n")
    assert load_config(write(tmp_path, text), env={}).outbox_keep_days == 2


def test_an_early_close_waits_a_few_seconds_unless_configured(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL), env={}).limits.early_close_grace == timedelta(
        seconds=3
    )
    path = write(tmp_path, MINIMAL + '[limits]\nearly_close_grace = "0s"\n')
    assert load_config(path, env={}).limits.early_close_grace == timedelta(0)


def test_team_and_decision_overrides(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
[policy]
min_deadline = "10s"
process = "majority"
[policy.ST]
consensus_deadline = "10d"
[policy.PT.admission]
quorum = 0.75
"""
    )
    config = load_config(write(tmp_path, text), env={})
    assert config.policies.resolve(TeamKind.ST).consensus_deadline == timedelta(days=10)
    assert config.policies.resolve(TeamKind.KT).min_deadline == timedelta(seconds=10)
    assert config.policies.resolve(TeamKind.KT).process is Process.MAJORITY
    pt_admission = config.policies.resolve(TeamKind.PT, DecisionKind.ADMISSION)
    # A network-wide process does not override the charter's PT admission rule.
    assert pt_admission.process is Process.CONSENSUS_ONLY
    assert pt_admission.quorum == 0.75


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[policy]\nquorum = "half"', r"policy\.quorum: expected a number"),
        ("[policy]\nquorum = 1.5", r"policy\.quorum: must be between 0 and 1"),
        ('[policy]\nconsensus_deadline = "7 days"', r"policy\.consensus_deadline: not a duration"),
        ('[policy]\nmin_deadline = "0s"', r"policy\.min_deadline: must be longer than 0"),
        ('[policy]\nprocess = "dictator"', r"policy\.process: must be one of"),
        ("[policy]\nmax_consensus_rounds = 0", r"max_consensus_rounds: must be at least 1"),
        ("[policy]\nmax_consensus_rounds = true", r"max_consensus_rounds: expected a whole"),
        ("[policy.XT]\nquorum = 0.5", r"policy\.XT: unknown key"),
        ("[policy.PT.voting]\nquorum = 0.5", r"policy\.PT\.voting: unknown key"),
        ("[policy.PT]\nquorom = 0.5", r"policy\.PT\.quorom: unknown key"),
        ("[limits]\ngroup_per_minute = 50", r"limits\.group_per_minute: must be between"),
        ('[limits]\ngroup_window = "0s"', r"limits\.group_window: must be between 1s and 1h"),
        ('[limits]\ngroup_window = "2h"', r"limits\.group_window: must be between 1s and 1h"),
        ('[limits]\ngroup_window = "soon"', r"limits\.group_window: not a duration"),
        ("[limits]\ngroup_window = 60", r"limits\.group_window: expected"),
        ('[limits]\nearly_close_grace = "soon"', r"limits\.early_close_grace: expected a dur"),
        ("[limits]\nearly_close_grace = 3", r"limits\.early_close_grace: expected a string"),
        ('[limits]\nearly_close_grace = "1h"', r"limits\.early_close_grace: must be at most"),
        ('[digest]\ntime = "25:00"', r"digest\.time: expected HH:MM"),
        ('[digest]\nweekday = "someday"', r"digest\.weekday: must be one of"),
        ("[surprise]\nx = 1", r"surprise: unknown key"),
    ],
)
def test_bad_policy_and_sections_are_named(tmp_path: Path, extra: str, message: str) -> None:
    path = write(tmp_path, MINIMAL + extra)
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(path, env={})
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("admins = [1]", 'admins = "1"', r"network\.admins: expected a list"),
        ("admins = [1]", "admins = []", r"network\.admins: name at least one"),
        ("admins = [1]", 'admins = ["me"]', r"network\.admins: expected Telegram user ids"),
        ('name = "Test"', "name = 5", r"network\.name: expected a string, got int"),
        ('name = "Test"', "", r"network\.name: missing"),
        ('token = "123:abc"', 'token = "nonsense"', r"telegram\.token: does not look like"),
        ('path = "db.sqlite"', "", r"storage\.path: missing"),
        ("[storage]", "[storidge]", r"\[storage\] missing"),
        ("admins = [1]", 'admins = [1]\ntimezone = "Mars/Olympus"', r"network\.timezone: unknown"),
        ("admins = [1]", 'admins = [1]\nlanguage = "fr"', r"network\.language: must be one of"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, replace: str, by: str, message: str) -> None:
    path = write(tmp_path, MINIMAL.replace(replace, by))
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[telegram\n"), env={})
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_check_config_exit_codes(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("WIQ_BOT_TOKEN", "123:abc")
    assert main(["check-config", "--config", str(EXAMPLE)]) == 0
    broken = write(tmp_path, MINIMAL + '[policy]\nquorum = "lots"')
    assert main(["check-config", "--config", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "policy.quorum" in err[0] and str(broken) in err[0]


def test_installed_command_reports_one_line_and_exit_2(tmp_path: Path) -> None:
    """The console script as a person runs it: no traceback, exit code 2."""
    broken = write(tmp_path, MINIMAL + '[policy]\nreminder_before = "soon"')
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config", "--config", str(broken)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "policy.reminder_before" in result.stderr


def test_the_installed_console_script_checks_the_example(tmp_path: Path) -> None:
    """`pip install .` puts `wiq-bot` beside the interpreter; it validates the example."""
    script = Path(sys.executable).parent / "wiq-bot"
    if not script.exists():
        pytest.skip("wiq-bot is not installed in this environment")
    env = {"WIQ_BOT_TOKEN": "123:abc", "PATH": str(script.parent)}
    # The code under test, also where the installed script is another tree's (a worktree).
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    result = subprocess.run(
        [str(script), "check-config", "--config", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    broken = write(tmp_path, MINIMAL + "[policy]\nquorum = 2")
    result = subprocess.run(
        [str(script), "check-config", "--config", str(broken)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_the_token_source_is_named_and_the_operator_commands_need_no_token(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, MINIMAL)
    assert load_config(path, env={}).telegram.token_source == f"telegram.token in {path}"
    from_env = load_config(path, env={"WIQ_BOT_TOKEN": "456:def"}).telegram
    assert (from_env.token, from_env.token_source) == ("456:def", "WIQ_BOT_TOKEN (environment)")
    without = write(tmp_path, MINIMAL.replace('token = "123:abc"', ""))
    with pytest.raises(ConfigError, match=r"telegram\.token: missing"):
        load_config(without, env={})
    assert load_config(without, env={}, need_token=False).telegram.token == ""
    with pytest.raises(ConfigError, match=r"^WIQ_BOT_TOKEN: does not look like a bot token"):
        load_config(path, env={"WIQ_BOT_TOKEN": "nonsense"})


def test_the_health_section_is_read_and_a_staleness_that_would_flap_is_refused(
    tmp_path: Path,
) -> None:
    config = load_config(write(tmp_path, MINIMAL), env={})
    assert config.health.interval == timedelta(seconds=15)
    assert config.health.stale_after == timedelta(minutes=2)
    text = MINIMAL + '[health]\ninterval = "30s"\nstale_after = "5m"\n'
    config = load_config(write(tmp_path, text), env={})
    assert (config.health.interval, config.health.stale_after) == (
        timedelta(seconds=30),
        timedelta(minutes=5),
    )
    # A getUpdates round trip may take poll_timeout (30 s): 40 s would call a healthy bot stale.
    text = MINIMAL + '[health]\ninterval = "15s"\nstale_after = "40s"\n'
    with pytest.raises(ConfigError, match=r"health.stale_after: must be at least .* \(50s\)"):
        load_config(write(tmp_path, text), env={})


def test_metrics_are_off_by_default_and_the_example_lists_every_key(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, MINIMAL), env={})
    assert not default.metrics.enabled and default.metrics.listen == "127.0.0.1"
    assert default.limits.stuck_after == timedelta(minutes=30)
    example = load_config(EXAMPLE, env=TOKEN)
    assert example.metrics == default.metrics
    assert example.limits.stuck_after == default.limits.stuck_after
    on = load_config(
        write(
            tmp_path,
            MINIMAL + '[metrics]\nenabled = true\nlisten = "0.0.0.0"\nport = 9100\n'
            '[limits]\nstuck_after = "10m"\n',
        ),
        env={},
    )
    assert (on.metrics.enabled, on.metrics.listen, on.metrics.port) == (True, "0.0.0.0", 9100)
    assert on.limits.stuck_after == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[metrics]\nport = 70000\n", r"metrics\.port: must be between 0 and 65535"),
        ("[metrics]\nenabled = 1\n", r"metrics\.enabled"),
        ('[metrics]\npath = "/m"\n', r"metrics\.path"),
        ('[limits]\nstuck_after = "10s"\n', r"limits\.stuck_after: must be between 1m and 7d"),
    ],
)
def test_bad_metrics_and_stuck_after_are_named(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, MINIMAL + extra), env={})


# -- several networks (SPEC §1, issue 14): what check-config says, and what it refuses -----

TWO_NETWORKS = """
[telegram]
token = "123:abc"
[policy]
min_deadline = "1s"
[[networks]]
name = "Wir im Quartier"
key = "wiq"
admins = [1, 2]
[[networks]]
name = "Südwest"
admins = [3, 2]
language = "en"
timezone = "Europe/Vienna"
[networks.digest]
weekday = "friday"
time = "17:30"
public_chat_id = -100123
[networks.policy]
quorum = 0.6
[networks.policy.ST]
consensus_deadline = "5d"
[networks.policy.PT.admission]
quorum = 0.75
[storage]
path = "db.sqlite"
"""


def test_check_config_says_what_each_network_is_and_who_admins_several(
    tmp_path: Path, capsys
) -> None:
    path = write(tmp_path, TWO_NETWORKS)
    assert main(["check-config", "--config", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: ok: 2 networks, database {tmp_path / 'db.sqlite'}",
        "network 'Wir im Quartier' (key wiq): 2 admins, Europe/Berlin, de,"
        " digest monday 09:00, public chat none",
        "  policy: min_deadline = 1s",
        "network 'Südwest' (key suedwest): 2 admins, Europe/Vienna, en,"
        " digest friday 17:30, public chat -100123",
        "  policy: min_deadline = 1s; quorum = 0.6; ST.consensus_deadline = 5d;"
        " PT.admission.quorum = 0.75",
        "note: admin 2 is an admin of 2 networks (wiq, suedwest):"
        " in a group they name the network in /setup",
    ]


def test_check_config_explains_the_one_network_form_too(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, MINIMAL + '[digest]\nweekday = "sunday"\n[policy.LT]\nquorum = 0.3\n')
    assert main(["check-config", "--config", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: ok: 1 network, database {tmp_path / 'db.sqlite'}",
        "network 'Test' (key test): 1 admin, Europe/Berlin, de, digest sunday 09:00,"
        " public chat none",
        "  policy: LT.quorum = 0.3",
    ]


def test_two_networks_with_the_same_admins_are_allowed_with_a_note(tmp_path: Path, capsys) -> None:
    text = TWO_NETWORKS.replace("admins = [3, 2]", "admins = [2, 1]")
    assert main(["check-config", "--config", str(write(tmp_path, text))]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note")]
    assert notes == [
        "note: admin 1 is an admin of 2 networks (wiq, suedwest):"
        " in a group they name the network in /setup",
        "note: admin 2 is an admin of 2 networks (wiq, suedwest):"
        " in a group they name the network in /setup",
    ]


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            'name = "Südwest"',
            'name = "Südwest"\nkey = "wiq"',
            r"networks\[2\] \(Südwest\): .*'wiq'",
        ),
        ('name = "Südwest"', 'name = "wir im quartier"', r"networks\[2\] .*'wir im quartier'"),
        (
            '[[networks]]\nname = "Wir',
            '[digest]\npublic_chat_id = -100123\n[[networks]]\nname = "Wir',
            r"public_chat_id -100123 is also networks\[1\]",
        ),
        ('name = "Südwest"', 'name = "Südwest"\nkey = "Süd West"', r"networks\[2\]\.key: 1 to 32"),
        (
            "[storage]",
            '[network]\nname = "X"\nadmins = [1]\n[storage]',
            r"\[network\] and \[\[networks\]\]",
        ),
    ],
)
def test_check_config_refuses_what_makes_the_binding_ambiguous(
    tmp_path: Path, capsys, replace: str, by: str, message: str
) -> None:
    path = write(tmp_path, TWO_NETWORKS.replace(replace, by, 1))
    assert main(["check-config", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert captured.out == "" and len(err) == 1, err
    assert err[0].startswith(f"wiq-bot: config error: {path}: ")
    assert re.search(message, err[0]), err[0]


def test_the_examples_commented_networks_are_a_valid_config_of_two(tmp_path: Path) -> None:
    """config.example.toml's [[networks]] example, uncommented in place of [network]."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("# [[networks]]")
    block = text[start : text.index("\n\n[storage]", start)]
    networks = "\n".join(line.removeprefix("#").removeprefix(" ") for line in block.splitlines())
    network = text[text.index("[network]\n") : text.index("\n\n# Several networks")]
    config = load_config(write(tmp_path, text.replace(network, networks)), env=TOKEN)
    wiq, suedwest = config.networks
    assert (wiq.key, wiq.digest.weekday, wiq.digest.public_chat_id) == (
        "wiq",
        "friday",
        -1001234567890,
    )
    assert (suedwest.key, suedwest.digest.weekday, suedwest.digest.public_chat_id) == (
        "suedwest",
        "monday",  # the shared [digest]
        None,
    )
    assert suedwest.policies.resolve(TeamKind.ST).consensus_deadline == timedelta(days=10)
    assert suedwest.policies.resolve(TeamKind.PT).quorum == 0.6
    assert wiq.policies.resolve(TeamKind.PT).quorum == 0.5
