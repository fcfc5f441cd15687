"""Tests of scripts/check-migrations against throwaway git repositories built from the fixtures.

    python3 -m unittest discover -s scripts/check-migrations.d     (scripts/test-apps runs it)

Every fixture becomes migration 0002 of a sample Django app or Alembic project, added in the
candidate commit on top of a live commit holding 0001. A fixture named bad_* must be refused with
the file, the operation and the reason its first line names (`# expect: OPERATION | REASON`);
an ok_* fixture must pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "check-migrations"
REPO_ROOT = HERE.parent.parent
FIXTURES = HERE / "fixtures"
LAYOUT = {"django": "svc/notes/migrations", "alembic": "svc/migrations/versions"}
BASE = {"django": "0001_initial.py", "alembic": "0001_create.py"}


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
        return subprocess.run(["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True).stdout

    def add(self, relative: str, source: Path | str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copyfile(source, target)
        else:
            target.write_text(source)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def check(self, live: str, candidate: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), live, candidate], cwd=self.path, capture_output=True, text=True, timeout=60)


class CheckMigrations(unittest.TestCase):
    def setUp(self) -> None:
        self.repo, self.live = self.live_release()

    def live_release(self) -> tuple[Repo, str]:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        repo = Repo(Path(tmp.name))
        for kind, directory in LAYOUT.items():
            repo.add(f"{directory}/{BASE[kind]}", FIXTURES / kind / BASE[kind])
        repo.add("svc/notes/migrations/__init__.py", "")
        # Alembic's env.py lives under migrations/ but is no migration, whatever it contains.
        repo.add("svc/migrations/env.py", 'SQL = "DROP TABLE notes"\n')
        return repo, repo.commit("live release")

    def test_fixtures(self) -> None:
        fixtures = [(kind, f.name) for kind in LAYOUT for f in sorted((FIXTURES / kind).glob("*.py"))
                    if f.name.startswith(("ok_", "bad_"))]
        self.assertGreaterEqual(len(fixtures), 20)
        for kind, fixture in fixtures:
            with self.subTest(kind=kind, fixture=fixture):
                repo, live = self.live_release()
                path = f"{LAYOUT[kind]}/0002_{fixture.removesuffix('.py')}.py"
                repo.add(path, FIXTURES / kind / fixture)
                result = repo.check(live, repo.commit(f"candidate: {fixture}"))
                if fixture.startswith("ok_"):
                    self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                    self.assertEqual(result.stdout, "")
                    continue
                self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
                first_line = (FIXTURES / kind / fixture).read_text().splitlines()[0]
                operation, reason = (part.strip() for part in first_line.removeprefix("# expect:").split("|"))
                (finding,) = result.stdout.splitlines()
                self.assertTrue(finding.startswith(f"{path}:"), finding)
                self.assertIn(operation, finding)
                self.assertIn(reason, finding)
                self.assertIn("(the live release keeps running beside the candidate", finding)
                self.assertIn("# contract: old release no longer running", result.stderr)

    def test_only_migrations_added_between_the_refs_are_judged(self) -> None:
        # A destructive migration that shipped before the live release is history, not a finding.
        self.repo.add(f"{LAYOUT['alembic']}/0002_drop.py", FIXTURES / "alembic" / "bad_drop_column.py")
        live = self.repo.commit("live release with an old contract step")
        self.repo.add(f"{LAYOUT['django']}/0002_add.py", FIXTURES / "django" / "ok_add_columns.py")
        candidate = self.repo.commit("candidate")
        result = self.repo.check(live, candidate)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("1 migration(s) added", result.stderr)

    def test_every_commit_in_the_range_counts(self) -> None:
        self.repo.add(f"{LAYOUT['django']}/0002_remove.py", FIXTURES / "django" / "bad_remove_field.py")
        self.repo.commit("first")
        self.repo.add(f"{LAYOUT['alembic']}/0002_rename.py", FIXTURES / "alembic" / "bad_rename_column.py")
        candidate = self.repo.commit("second")
        result = self.repo.check(self.live, candidate)
        self.assertEqual(result.returncode, 1)
        self.assertEqual([line.split(":")[0] for line in result.stdout.splitlines()],
                         [f"{LAYOUT['alembic']}/0002_rename.py", f"{LAYOUT['django']}/0002_remove.py"])

    def test_nullability_is_followed_across_the_apps_migrations(self) -> None:
        # 0002 adds a nullable column, 0003 makes it NOT NULL: the second is the breaking one.
        self.repo.add(f"{LAYOUT['django']}/0002_add.py", FIXTURES / "django" / "ok_add_columns.py")
        self.repo.add(f"{LAYOUT['django']}/0003_require_subtitle.py", (
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            "    dependencies = [('notes', '0002_add')]\n"
            "    operations = [\n"
            "        migrations.AlterField('note', 'subtitle', models.CharField(max_length=50, default='')),\n"
            "        migrations.AlterField('note', 'pinned', models.BooleanField(default=True, db_default=True)),\n"
            "    ]\n"
        ))
        result = self.repo.check(self.live, self.repo.commit("candidate"))
        self.assertEqual(result.returncode, 1)
        (finding,) = result.stdout.splitlines()
        self.assertIn("0003_require_subtitle.py:7: migrations.AlterField('note', 'subtitle'", finding)
        self.assertIn("makes a nullable column NOT NULL", finding)

    def test_usage_and_git_errors(self) -> None:
        self.assertEqual(self.repo.check(self.live, "no-such-ref").returncode, 2)
        usage = subprocess.run([str(SCRIPT)], cwd=self.repo.path, capture_output=True, text=True, timeout=60)
        self.assertEqual(usage.returncode, 2)
        self.assertIn("LIVE_REF CANDIDATE_REF", usage.stderr)

    def test_this_repositorys_migrations_are_all_expand_steps(self) -> None:
        empty_tree = subprocess.run(["git", "hash-object", "-t", "tree", "/dev/null"], cwd=REPO_ROOT,
                                    capture_output=True, text=True, check=True).stdout.strip()
        result = subprocess.run([str(SCRIPT), empty_tree, "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn(" 0 migration(s)", result.stderr)


if __name__ == "__main__":
    unittest.main()
