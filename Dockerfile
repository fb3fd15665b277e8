# syntax=docker/dockerfile:1
#
# The `learning` image: one image for the HTTP app (`learning serve`, the default command) and the
# background worker (`learning worker`). See docker-compose.yml for a full stack.
#
# The project is installed as a wheel (not editable): the wheel carries the content folders (migrations/,
# modules/, feeds/, media/) under learning/_data, so the runtime stage needs nothing but the virtualenv.
# Without the `embedded` extra: the image always names its PostgreSQL (LEARNING_DATABASE_URL).
#
# tests/test_docker_build.py reproduces this build without Docker (its COPY and pip steps) and starts the
# installed `learning`; tests/test_compose.py checks the rest statically.

# One Python version for the image, CI (.ci/run) and pyproject.toml's requires-python.
ARG PYTHON_VERSION=3.11

# ---------------------------------------------------------------------------------------------------
# build: a virtualenv with the dependencies and the project
# ---------------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build

# Dependencies first (read from pyproject.toml), so that a source change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# The project: everything the wheel includes (pyproject.toml: the package and its force-included folders).
COPY src/ ./src/
COPY migrations/ ./migrations/
COPY modules/ ./modules/
COPY feeds/ ./feeds/
COPY media/ ./media/
RUN pip install /build

# ---------------------------------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEARNING_HOST=0.0.0.0 \
    LEARNING_PORT=8000 \
    LEARNING_DATA_DIR=/var/lib/learning

# An unprivileged user; the code stays owned by root (read-only for the app), only the data dir is its own.
RUN groupadd --system --gid 10001 learning \
    && useradd --system --uid 10001 --gid learning --home-dir /var/lib/learning --shell /usr/sbin/nologin learning \
    && install -d -o learning -g learning -m 0750 /var/lib/learning

# The same path as in the build stage: a virtualenv is not relocatable.
COPY --from=build /opt/venv /opt/venv

WORKDIR /var/lib/learning

USER learning:learning

EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('LEARNING_PORT', '8000'), timeout=4)"

# `learning serve` applies the migrations, then serves on LEARNING_HOST:LEARNING_PORT.
CMD ["learning", "serve"]
