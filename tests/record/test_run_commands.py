"""Which command lines are test, lint, type-check or build runs (`classify_command`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.runs.events import Category, RunClass, classify_command

TEST_COMMANDS = [
    ("pytest", "pytest"),
    ("pytest -x tests/record", "pytest"),
    ("FOO=1 pytest -x", "pytest"),
    ("env FOO=1 BAR=2 pytest -k 'a and not b'", "pytest"),
    ("python -m pytest -q", "pytest"),
    ("python3.11 -X dev -m pytest", "pytest"),
    (".venv/bin/python -m pytest", "pytest"),
    ("python3 -m unittest discover -s tests", "unittest"),
    ("python -m unittest", "unittest"),
    ("python manage.py test polls", "django-test"),
    ("uv run pytest", "pytest"),
    ("uv run --with pytest-cov pytest --cov", "pytest"),
    ("poetry run pytest", "pytest"),
    ("pipenv run python -m pytest", "pytest"),
    ("hatch test", "pytest"),
    ("hatch run test:pytest", "pytest"),
    ("tox", "tox"),
    ("tox -e py311", "tox"),
    ("tox -e lint,py311", "tox"),
    ("nox -s tests", "nox"),
    ("npm test", "npm-test"),
    ("npm t", "npm-test"),
    ("npm run test", "npm-test"),
    ("npm run test:unit", "npm-test"),
    ("npm test -- --watch=false", "npm-test"),
    ("npm --prefix web test", "npm-test"),
    ("pnpm test", "pnpm-test"),
    ("pnpm --filter api test", "pnpm-test"),
    ("pnpm exec jest", "jest"),
    ("pnpm vitest run", "vitest"),
    ("yarn test", "yarn-test"),
    ("yarn jest --ci", "jest"),
    ("yarn workspace api test", "yarn-test"),
    ("bun test", "bun-test"),
    ("npx jest", "jest"),
    ("npx vitest run", "vitest"),
    ("npx --yes mocha", "mocha"),
    ("./node_modules/.bin/jest --coverage", "jest"),
    ("node --test", "node-test"),
    ("node --test-reporter=spec --test test/", "node-test"),
    ("go test ./...", "go-test"),
    ("go test -v -run TestAdd ./calc", "go-test"),
    ("gotestsum -- ./...", "gotestsum"),
    ("cargo test", "cargo-test"),
    ("cargo +nightly test --all", "cargo-test"),
    ("cargo nextest run", "cargo-nextest"),
    ("mvn test", "mvn-test"),
    ("./mvnw -q -pl core verify", "mvn-test"),
    ("mvn clean install", "mvn-test"),  # install runs the test phase
    ("gradle test", "gradle-test"),
    ("./gradlew :app:testDebugUnitTest", "gradle-test"),
    ("./gradlew build", "gradle-test"),  # build depends on check, which runs the tests
    ("dotnet test", "dotnet-test"),
    ("rspec", "rspec"),
    ("bundle exec rspec spec/models", "rspec"),
    ("vendor/bin/phpunit --testdox", "phpunit"),
    ("php vendor/bin/phpunit", "phpunit"),
    ("ctest --output-on-failure", "ctest"),
    ("make test", "make-test"),
    ("make check", "make-test"),
    ("make -C build -j 4 test", "make-test"),
    # shell structure around the runner
    ("cd api && pytest", "pytest"),
    ("pytest | tee log.txt", "pytest"),
    ("pytest -x 2>&1 | tail -20", "pytest"),
    ("pytest > out.txt 2> err.txt", "pytest"),
    ("time pytest", "pytest"),
    ("timeout 300 cargo test", "cargo-test"),
    ("timeout -s KILL 300 go test ./...", "go-test"),
    ("nice -n 10 pytest", "pytest"),
    ("sudo -E pytest", "pytest"),
    ("(cd web && npm test)", "npm-test"),
    ("ruff check . && mypy src && pytest", "pytest"),  # the test run is the telling part
    ("bash -lc 'cd repo && pytest -q'", "pytest"),
    ('sh -c "FOO=1 python -m pytest"', "pytest"),
    ("npx -c 'jest --ci'", "jest"),
    ("pytest \\\n  -x \\\n  tests", "pytest"),
    ("echo it's done\npytest", "pytest"),
    ('git commit -m "two\nlines" && pytest', "pytest"),
    ("cat > test_x.py <<'EOF'\nprint('hi')\nEOF\npython -m pytest test_x.py", "pytest"),
]


@pytest.mark.parametrize(("command", "tool"), TEST_COMMANDS)
def test_classifies_test_runs(command: str, tool: str) -> None:
    assert classify_command(command) == RunClass("test", tool, "test")


CHECK_COMMANDS = [
    ("ruff check src", "ruff", "lint"),
    ("ruff .", "ruff", "lint"),
    ("ruff format --check .", "ruff-format", "lint"),
    ("flake8 src", "flake8", "lint"),
    ("black --check .", "black", "lint"),
    ("mypy --strict src", "mypy", "typecheck"),
    ("uv run mypy src", "mypy", "typecheck"),
    ("pyright", "pyright", "typecheck"),
    ("tox -e lint", "tox", "lint"),
    ("tox -e type", "tox", "typecheck"),
    ("nox -s lint", "nox", "lint"),
    ("npx tsc --noEmit", "tsc", "typecheck"),
    ("npx -p typescript tsc", "tsc", "typecheck"),
    ("tsc -p tsconfig.json", "tsc", "typecheck"),
    ("npx eslint .", "eslint", "lint"),
    ("npm run lint", "npm-lint", "lint"),
    ("npm run typecheck", "npm-typecheck", "typecheck"),
    ("npm run type-check", "npm-typecheck", "typecheck"),
    ("yarn format:check", "yarn-lint", "lint"),
    ("npm run build", "npm-build", "build"),
    ("pnpm build", "pnpm-build", "build"),
    ("cargo build --release", "cargo-build", "build"),
    ("cargo test --no-run", "cargo-build", "build"),
    ("cargo check", "cargo-check", "typecheck"),
    ("cargo clippy -- -D warnings", "cargo-clippy", "lint"),
    ("cargo fmt --check", "cargo-fmt", "lint"),
    ("go build ./...", "go-build", "build"),
    ("go vet ./...", "go-vet", "lint"),
    ("golangci-lint run", "golangci-lint", "lint"),
    ("make", "make", "build"),
    ("make build", "make-build", "build"),
    ("make lint", "make-lint", "lint"),
    ("mvn -DskipTests package", "mvn-build", "build"),
    ("mvn compile", "mvn-build", "build"),
    ("./gradlew build -x test", "gradle-build", "build"),
    ("dotnet build", "dotnet-build", "build"),
    ("pre-commit run --all-files", "pre-commit", "lint"),
    ("ruff check . && mypy src", "mypy", "typecheck"),
]


@pytest.mark.parametrize(("command", "tool", "category"), CHECK_COMMANDS)
def test_classifies_lint_typecheck_and_build_runs(
    command: str, tool: str, category: Category
) -> None:
    assert classify_command(command) == RunClass("build", tool, category)


NOT_RUNS = [
    "",
    "   ",
    "# pytest",
    "cat pytest.ini",
    "echo pytest",
    'git commit -m "fix tests"',
    "git commit -m 'run pytest and npm test'",
    "pip install pytest",
    "uv add --dev pytest",
    "npm install jest",
    "npm ci",
    "which pytest",
    "grep -rn pytest .",
    "vim tests/test_x.py",
    "ls tests",
    "pytest --version",
    "jest --help",
    "cargo run",
    "cargo nextest list",
    "go run main.go",
    "node server.js",
    "python script.py",
    "python -c 'import pytest'",
    "make clean",
    "npm run dev",
    "npm start",
    "ruff format src",  # rewrites files, checks nothing
    "docker build .",
    "tox -l",
    "cat <<EOF\npytest\nEOF",  # heredoc text is data
    "echo 'unterminated",
]


@pytest.mark.parametrize("command", NOT_RUNS)
def test_other_commands_are_not_runs(command: str) -> None:
    assert classify_command(command) is None


def test_deeply_nested_shells_stop() -> None:
    nested = "pytest"
    for _ in range(6):
        nested = f"bash -c {nested!r}"
    assert classify_command(nested) is None


@settings(deadline=None)
@given(command=st.text())
def test_classify_never_raises(command: str) -> None:
    found = classify_command(command)
    assert found is None or found.kind in ("test", "build")
