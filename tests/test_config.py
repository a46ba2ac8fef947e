"""Settings: precedence, validation and the one-line errors an admin sees."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from migrate.config import ALL_SETTINGS, CLOUDS, load_settings
from migrate.errors import EXIT_USAGE, ConfigError
from migrate.setup.config_template import render_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "migrate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path, monkeypatch, clean_env):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s.workdir == "./migration"
    assert s.graph.base_url == "https://graph.microsoft.com/v1.0"
    assert s.slack.url == "https://slack.com/api/"
    assert s.slack.rate_scale == 1.0 and s.graph.rate_scale == 1.0
    assert s.source == "defaults"


def test_precedence_flag_over_env_over_file_over_default(tmp_path):
    path = write(tmp_path, 'workdir = "from-file"\n[slack]\nrate_scale = 2\n[export]\nsince = 2021-01-01\n')
    env = {"MIGRATE_WORKDIR": "from-env", "MIGRATE_SLACK_RATE_SCALE": "3.5"}
    s = load_settings(path, environ=env, flags={"workdir": "from-flag"})
    assert s.workdir == "from-flag"
    assert s.slack.rate_scale == 3.5
    assert s.export.since == "2021-01-01"  # a TOML date is accepted
    assert s.sources == {"workdir": "command line", "slack.rate_scale": "$MIGRATE_SLACK_RATE_SCALE",
                         "export.since": f"{path}:5"}
    s2 = load_settings(path, environ={})
    assert s2.workdir_path == path.parent / "from-file" and s2.slack.rate_scale == 2.0


def test_cloud_sets_both_hosts_and_explicit_urls_override(tmp_path):
    s = load_settings(write(tmp_path, '[graph]\ncloud = "gcc-high"\n'), environ={})
    assert s.graph.base_url == CLOUDS["gcc-high"][0]
    assert s.graph.authority_host == "https://login.microsoftonline.us"
    s = load_settings(write(tmp_path, '[graph]\ncloud = "china"\nurl = "http://127.0.0.1:9/v1.0/"\n'),
                      environ={})
    assert s.graph.base_url == "http://127.0.0.1:9/v1.0"
    assert s.graph.authority_host == "https://login.chinacloudapi.cn"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("colour = 1\n", "migrate.toml:1: unknown setting 'colour'"),
        ("[slack]\nrate_scal = 2\n", "migrate.toml:2: unknown setting 'slack.rate_scal'"),
        ("[slack]\nrate_scale = \"fast\"\n", "migrate.toml:2: slack.rate_scale must be a number, got 'fast'"),
        ("[export]\n\nsince = \"yesterday\"\n", "migrate.toml:3: export.since must be a date"),
        ("[graph]\ncloud = \"mars\"\n", "graph.cloud must be one of 'global', 'gcc-high', 'dod', 'china'"),
        ("[plan]\nunicode_channel_names = \"yes\"\n", "plan.unicode_channel_names must be true or false"),
        ("[export]\ninclude_teams = \"R&D\"\n", "export.include_teams must be a list of strings"),
        ("slack = 3\n", "slack must be a table"),
        ("[slack\n", "not valid TOML"),
        ("[slack]\nrate_scale = 0\n", "slack.rate_scale must be greater than 0"),
        ("[plan]\ntimezone = \"Mars/Olympus\"\n", "plan.timezone is an unknown time zone 'Mars/Olympus'"),
        ("[slack]\nurl = \"slack.com\"\n", "slack.url must be an http(s) URL"),
    ],
)
def test_bad_file_is_one_line_error_naming_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    line = info.value.one_line()
    assert expected in line
    assert "\n" not in line
    assert str(path.name) in line
    assert info.value.exit_code == EXIT_USAGE


def test_secret_in_file_is_refused_and_never_echoed(tmp_path):
    path = write(tmp_path, '[graph]\nclient_secret = "s3cr3t-value"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert "MIGRATE_CLIENT_SECRET" in info.value.one_line()
    assert "s3cr3t-value" not in info.value.one_line()


def test_secrets_come_from_environment(tmp_path):
    s = load_settings(write(tmp_path, ""), environ={"MIGRATE_SLACK_TOKEN": "xoxb-1",
                                                    "MIGRATE_GRAPH_TOKEN": "eyJ"})
    assert s.slack.token == "xoxb-1" and s.graph.token == "eyJ"


def test_bad_environment_value_names_the_variable_and_hides_secrets():
    with pytest.raises(ConfigError, match="MIGRATE_GRAPH_RATE_SCALE"):
        load_settings(None, environ={"MIGRATE_GRAPH_RATE_SCALE": "quick"})
    with pytest.raises(ConfigError, match="MIGRATE_UNICODE_CHANNEL_NAMES"):
        load_settings(None, environ={"MIGRATE_UNICODE_CHANNEL_NAMES": "perhaps"})


def test_environment_lists_and_booleans():
    s = load_settings(None, environ={"MIGRATE_INCLUDE_TEAMS": "R&D, Sales* ,",
                                     "MIGRATE_UNICODE_CHANNEL_NAMES": "yes"})
    assert s.export.include_teams == ["R&D", "Sales*"]
    assert s.plan.unicode_channel_names is True


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_migrate_config_env_names_the_file(tmp_path):
    path = write(tmp_path, 'workdir = "w"\n')
    assert load_settings(None, environ={"MIGRATE_CONFIG": str(path)}).workdir_path == path.parent / "w"


def test_rendered_template_documents_every_setting_and_loads_back(tmp_path):
    text = render_config()
    for info in ALL_SETTINGS:
        assert info.help.split(";")[0][:30] in text
        if info.env:
            assert info.env in text
    # Uncommenting every non-secret default must still load: the template's values are valid.
    uncommented = "\n".join(line[2:] if re.match(r"^# [a-z_]+ = ", line) else line
                            for line in text.splitlines())
    s = load_settings(write(tmp_path, uncommented), environ={})
    defaults = load_settings(None, environ={})
    # ./migration written in the file means beside the file (relative paths follow the file)
    assert s.workdir_path == tmp_path / "migration"
    assert dataclasses.replace(s, workdir=defaults.workdir) == defaults


def test_an_overlap_under_a_day_is_refused(clean_env):
    # Export data can surface a day late: a shorter re-read window would miss messages.
    with pytest.raises(ConfigError, match="overlap_hours must be at least 24"):
        load_settings(None, environ={"MIGRATE_OVERLAP_HOURS": "6"})
    assert load_settings(None, environ={"MIGRATE_OVERLAP_HOURS": "24"}).export.overlap_hours == 24


def test_relative_paths_in_the_file_are_relative_to_the_file(tmp_path, monkeypatch, clean_env):
    # `migrate --config other/migrate.toml run` from elsewhere must find the same state (not
    # plan a fresh migration in the current directory) and the same override files.
    project = tmp_path / "project"
    project.mkdir()
    (project / "migrate.toml").write_text(
        'workdir = "state"\n[plan]\nuser_map = "maps/users.csv"\nchannel_map = "/abs/channels.csv"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings("../project/migrate.toml", environ=clean_env)
    assert settings.workdir_path == project / "state"
    assert Path(settings.plan.user_map) == project / "maps" / "users.csv"
    assert settings.plan.channel_map == "/abs/channels.csv"
    # A file without `workdir`: the default one sits beside the file too.
    (project / "bare.toml").write_text("[plan]\ntimezone = \"UTC\"\n")
    assert load_settings("../project/bare.toml", environ=clean_env).workdir_path == project / "migration"
    # The environment and flags stay relative to the current directory, as shells expect.
    env = {**clean_env, "MIGRATE_WORKDIR": "here"}
    assert load_settings("../project/migrate.toml", environ=env).workdir_path == Path("here")


@pytest.mark.parametrize("text, key", [
    ("[slack]\nrate_scale = 0\n", "slack.rate_scale"),
    ("[slack]\npost_cap_per_minute = 0\n", "slack.post_cap_per_minute"),
    ("[graph]\ntimeout = 0\n", "graph.timeout"),
    ("[export]\noverlap_hours = 2\n", "export.overlap_hours"),
    ("[export]\nmax_file_mb = -1\n", "export.max_file_mb"),
])
def test_every_config_error_names_the_line(tmp_path, text, key):
    path = tmp_path / "migrate.toml"
    path.write_text("# settings\n" + text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert f"{path}:3" in str(caught.value) and key in str(caught.value)


def test_an_unknown_section_lists_the_sections(tmp_path):
    path = tmp_path / "migrate.toml"
    path.write_text('workdir = "w"\n\n[slak]\ntoken_file = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert f"{path}:3: unknown section [slak]" in str(caught.value)
    assert "[slack]" in caught.value.one_line() and "[graph]" in caught.value.one_line()


def test_the_override_formats_the_readme_documents_load(tmp_path):
    from migrate.transform.channels import load_channel_overrides
    from migrate.transform.overrides import load_user_overrides

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```csv\n(.*?)```", readme, flags=re.S)
    users = next(b for b in blocks if b.startswith("teams_user,slack_user"))
    channels = next(b for b in blocks if b.startswith("teams_channel,action,slack_channel"))
    (tmp_path / "users.csv").write_text(users)
    (tmp_path / "channels.csv").write_text(channels)
    assert len(load_user_overrides(tmp_path / "users.csv")) == 3
    assert len(load_channel_overrides(tmp_path / "channels.csv")) == 3
