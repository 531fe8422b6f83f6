"""Every test runs in a house of its own (tests/conftest.py::hermetic_environment), and
`.ci/run` does what the README tells a newcomer before it runs the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HOMES: list[str] = []


def _real_home() -> Path:
    import pwd

    return Path(pwd.getpwuid(os.getuid()).pw_dir).resolve()


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_has_its_own_home_xdg_claude_config_and_path(turn):
    home = Path(os.environ["HOME"])
    assert home.resolve() != _real_home()
    assert str(home) not in HOMES
    HOMES.append(str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
                 "CLAUDE_CONFIG_DIR"):
        assert Path(os.environ[name]).is_relative_to(home), name
    for folder in os.environ["PATH"].split(os.pathsep):
        assert not Path(folder).resolve().is_relative_to(_real_home()) or \
            Path(folder) == Path(sys.executable).parent, folder
    assert Path(shutil.which("orchestrate")).parent == Path(sys.executable).parent
    assert not [name for name in os.environ if name.startswith("ANTHROPIC_")]


def _installed_home(root: Path) -> dict[str, str]:
    """A HOME as `./install.sh` and a plugin leave it, plus a user's own settings: agents
    in ~/.claude/agents and $CLAUDE_CONFIG_DIR, an `orchestrate` on PATH and in the XDG
    data folder that would answer wrongly, and ORCHESTRATE_* overrides."""
    home = root / "home"
    wrong = "#!/bin/sh\necho 'an installed orchestrate answered' >&2\nexit 3\n"
    for folder in (home / ".local" / "bin",
                   root / "xdg" / "orchestrate" / "plugin-venv" / "bin"):
        folder.mkdir(parents=True)
        (folder / "orchestrate").write_text(wrong)
        (folder / "orchestrate").chmod(0o755)
    for agents in (home / ".claude" / "agents", root / "claude-config" / "agents"):
        agents.mkdir(parents=True)
        (agents / "implementer.md").write_text(
            "---\nname: implementer\ndescription: a user's own implementer\n---\nDo it.\n")
    env = dict(os.environ)
    env.update(HOME=str(home), XDG_DATA_HOME=str(root / "xdg"),
               CLAUDE_CONFIG_DIR=str(root / "claude-config"),
               ORCHESTRATE_AGENT_PREFIX="user-prefix:", ORCHESTRATE_STATE_DIR=str(root),
               PATH=f"{home / '.local' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return env


def test_what_a_user_installed_changes_no_result(tmp_path):
    """The three tests that failed after the README's set-up pass in such a HOME."""
    env = _installed_home(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_wf.py::test_agents_only_the_plugin_provides_are_named_plugin_colon_name",
         "tests/test_hooks.py::test_the_hook_script_finds_orchestrate_and_passes_the_input_on",
         "tests/test_wf.py::test_a_closed_pipe_is_not_an_error"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout


def test_ci_runs_the_readme_quick_start_then_its_tests_in_the_same_home(tmp_path):
    """`.ci/run` in a copy with a README of our own: the Quick start block runs first in a
    fresh HOME, and the Tests block then finds what it left there, and gets the arguments."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "README.md").write_text(textwrap.dedent("""\
        # x

        ## Quick start

        ```bash
        mkdir -p "$HOME/.local/bin" && echo installed > "$HOME/.local/bin/marker"
        cd /
        ```

        ## Tests

        ```bash
        ./check
        ```
        """))
    (tmp_path / "check").write_text(textwrap.dedent("""\
        #!/bin/sh
        test "$(cat "$HOME/.local/bin/marker")" = installed || exit 9
        test -z "${XDG_DATA_HOME:-}" || exit 8
        echo "tests ran in $HOME with: $*"
        """))
    (tmp_path / "check").chmod(0o755)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "elsewhere"))
    done = subprocess.run(["bash", str(tmp_path / ".ci" / "run"), "--quick"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests ran in " in done.stdout and "with: --quick" in done.stdout
    home = done.stdout.split("tests ran in ", 1)[1].split(" with", 1)[0]
    assert home != os.environ["HOME"] and not Path(home).exists()  # thrown away after


def test_ci_refuses_a_readme_without_the_two_blocks(tmp_path):
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "README.md").write_text("# x\n\n## Tests\n\n```bash\ntrue\n```\n")
    done = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "Quick start" in done.stderr
