"""Several workspaces of an Enterprise Grid org: the [[workspaces]] tables, which team goes
where, and each runner's settings."""

from __future__ import annotations

import textwrap

import pytest

from migrate.config import load_settings
from migrate.errors import ConfigError
from migrate.grid.fanout import _worst
from migrate.grid.workspaces import runner_environment, workspace_of

TWO = """
    [[workspaces]]
    name = "emea"
    teams = ["EMEA *", "11111111-aaaa"]
    token_env = "SLACK_TOKEN_EMEA"

    [[workspaces]]
    name = "rest"
    teams = ["*"]
    token_env = "SLACK_TOKEN_REST"
    chats = true
"""


def settings_of(tmp_path, text, environ=None, flags=None):
    path = tmp_path / "migrate.toml"
    path.write_text(textwrap.dedent(text))
    return load_settings(path, environ=environ or {}, flags=flags)


def test_a_team_goes_to_the_first_workspace_that_takes_it(tmp_path):
    specs = settings_of(tmp_path, TWO).workspaces
    assert workspace_of("x", "EMEA Sales", specs) == "emea"
    assert workspace_of("11111111-aaaa", "Paris office", specs) == "emea"    # by id
    assert workspace_of("y", "emea support", specs) == "emea"               # any case
    assert workspace_of("z", "Americas", specs) == "rest"                   # the catch-all
    only_emea = settings_of(tmp_path, TWO.split("[[workspaces]]\n    name = \"rest\"")[0])
    assert workspace_of("z", "Americas", only_emea.workspaces) is None


def test_a_runner_has_its_own_folder_token_and_teams(tmp_path):
    environ = {"SLACK_TOKEN_EMEA": "xoxb-emea", "SLACK_TOKEN_REST": "xoxb-rest",
               "MIGRATE_SLACK_TOKEN": "xoxb-other"}
    whole = settings_of(tmp_path, TWO, environ)
    assert whole.fans_out and whole.workspace_share is None
    emea = settings_of(tmp_path, TWO, environ, flags={"workspace": "emea"})
    assert not emea.fans_out
    assert emea.workdir_path == tmp_path / "migration" / "workspaces" / "emea"
    assert emea.slack.token == "xoxb-emea"
    assert emea.owns_team("t1", "EMEA Sales") and not emea.owns_team("t2", "Americas")
    assert not emea.owns_person("u1")                  # the chats go to "rest"
    rest = settings_of(tmp_path, TWO, {**environ, "MIGRATE_WORKSPACE": "rest"})
    assert rest.slack.token == "xoxb-rest" and rest.owns_person("u1")
    assert not rest.owns_team("t1", "EMEA Sales") and rest.owns_team("t2", "Americas")
    env = runner_environment(emea.workspaces[0], environ)
    assert env == {"MIGRATE_SLACK_TOKEN": "xoxb-emea", "MIGRATE_SLACK_TEAM_ID": "",
                   "MIGRATE_WORKSPACE": "emea"}


def test_an_org_token_acts_in_each_workspace_by_its_id(tmp_path):
    text = """
        [[workspaces]]
        name = "emea"
        teams = ["EMEA *"]
        team_id = "T0EMEA"

        [[workspaces]]
        name = "amer"
        teams = ["*"]
        team_id = "T0AMER"
    """
    amer = settings_of(tmp_path, text, {"MIGRATE_SLACK_TOKEN": "xoxb-org"},
                       flags={"workspace": "amer"})
    assert amer.slack.token == "xoxb-org" and amer.slack.team_id == "T0AMER"


@pytest.mark.parametrize(("text", "message"), [
    ("""
        [[workspaces]]
        name = "emea"
        teams = ["EMEA *"]

        [[workspaces]]
        name = "amer"
        teams = ["*"]
     """, ":2: workspace 'emea' shares the token in $MIGRATE_SLACK_TOKEN"),
    ("""
        [[workspaces]]
        name = "emea"
        teams = []
     """, ":2: workspace 'emea': teams must be a list"),
    ("""
        [[workspaces]]
        name = "EMEA!"
        teams = ["*"]
     """, ":2: workspaces.name must be a short lowercase name"),
    ("""
        [[workspaces]]
        name = "emea"
        teams = ["*"]
        token = "xoxb-secret"
     """, ":2: unknown key 'token' in [[workspaces]]"),
    ("""
        [[workspaces]]
        name = "a"
        teams = ["x"]
        token_env = "A"

        [[workspaces]]
        name = "a"
        teams = ["*"]
        token_env = "B"
     """, ":7: workspace 'a' is listed twice"),
])
def test_a_bad_workspaces_table_is_one_line_naming_the_file_and_line(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        settings_of(tmp_path, text)
    assert message in caught.value.one_line()
    assert "xoxb-secret" not in caught.value.one_line()


def test_an_unknown_workspace_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no workspace named 'apac'"):
        settings_of(tmp_path, TWO, flags={"workspace": "apac"})
    with pytest.raises(ConfigError, match="no \\[\\[workspaces\\]\\]"):
        load_settings(None, environ={"MIGRATE_WORKSPACE": "emea"})


def test_a_missing_token_names_its_variable(tmp_path):
    spec = settings_of(tmp_path, TWO).workspaces[1]
    with pytest.raises(ConfigError, match=r"\$SLACK_TOKEN_REST is not set"):
        runner_environment(spec, {"SLACK_TOKEN_EMEA": "xoxb-emea"})


def test_the_runners_end_with_the_most_serious_exit_code():
    assert _worst([0, 0]) == 0
    assert _worst([1, 75]) == 1
    assert _worst([0, 3, 1]) == 3
    assert _worst([75, 0]) == 75


def test_the_split_is_read_from_each_runners_document(tmp_path):
    from migrate.grid.fanout import split_row, split_table, write_split_report

    planned = {"summary": {"channels": {"create": 4, "reuse": 1, "renamed": 1},
                           "messages": {"posts": 120}, "estimate_seconds": 30.0},
               "exit_code": 0, "seconds": 3.2, "teams": 2}
    ran = {"plan": {"channels": {"create": 2}, "messages": {"posts": 60},
                    "estimate_seconds": 12.0}, "run": {"posts_done": 60}, "exit_code": 1,
           "seconds": 14.0, "teams": 1}
    rows = [split_row("emea", planned), split_row("rest", ran)]
    assert rows[0] == {"workspace": "emea", "teams": 2, "channels": 5, "posts": 120,
                       "estimate_s": 30.0, "posted": None, "seconds": 3.2, "exit_code": 0}
    assert rows[1]["posted"] == 60 and rows[1]["channels"] == 2
    table = split_table(rows)
    assert "30 s side by side (the longest workspace), 42 s one after another" in table
    paths = write_split_report(tmp_path, "run", rows)
    assert "| emea | 2 | 5 | 120 | 30.0 | — | 3.2 | 0 |" in paths["md"].read_text()
