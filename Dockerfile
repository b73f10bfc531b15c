# datalab in one image: the dashboard and the snippet built with Node 20, served by Python 3.11.
#   docker build -t datalab .        (here, without a Docker engine: bash infra/container.sh build)
# Behind a proxy with its own certificate authority, hand its bundle to pip and npm as a secret:
#   docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t datalab .
# Configured only by environment variables (docs/configuration.md); data in the volume /data.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- static/: the dashboard (static/dist) and the snippet (static/client/dist) ----------------
FROM ${NODE_IMAGE} AS frontend
WORKDIR /src/static
COPY static/package.json static/package-lock.json ./
COPY static/client/package.json client/
COPY static/dashboard/package.json dashboard/
RUN --mount=type=secret,id=ca \
    if [ -f /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --no-audit --no-fund --loglevel=error
COPY static/ ./
RUN npm run build

# --- the Python dependencies of pyproject.toml in a venv: wheels only, without their test suites
# or the translations datalab does not use (it speaks English: LANGUAGE_CODE en-us) ---------------
# The dependency list first, on its own: the install below is redone only when the list changes,
# not on every edit of pyproject.toml.
FROM ${PYTHON_IMAGE} AS requirements
COPY pyproject.toml /tmp/
RUN python3 -c "import tomllib; print(*tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" >/tmp/requirements.txt

FROM ${PYTHON_IMAGE} AS python
COPY --from=requirements /tmp/requirements.txt /tmp/
RUN --mount=type=secret,id=ca \
    if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --only-binary=:all: -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools \
    && find /opt/venv/lib/python3*/site-packages -depth -type d \
        \( -name tests -o -path '*/twisted/*' -name test \) -exec rm -rf {} + \
    && find /opt/venv/lib/python3*/site-packages/django /opt/venv/lib/python3*/site-packages/rest_framework \
        -type d -path '*/locale/*' -prune ! -name en -exec rm -rf {} +

# --- the runtime: the sources, the built front end and the venv; no compilers, no node_modules --
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATALAB_DATA_DIR=/data
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin datalab \
    && mkdir /data && chown datalab:datalab /data
COPY --from=python /opt/venv /opt/venv
WORKDIR /app
COPY manage.py pyproject.toml ./
COPY datalab datalab
COPY accounts accounts
COPY outbox outbox
COPY orgs orgs
COPY apps_registry apps_registry
COPY funnels funnels
COPY tokens tokens
COPY eventstore eventstore
COPY ingest ingest
COPY archive archive
COPY insights insights
COPY demo demo
COPY live live
COPY --from=frontend /src/static/dist static/dist
COPY --from=frontend /src/static/client/dist static/client/dist
COPY infra/container/entrypoint.sh /usr/local/bin/datalab-entrypoint
COPY infra/container/healthcheck.py /usr/local/bin/datalab-healthcheck
USER datalab
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["datalab-healthcheck"]
# `docker run IMAGE` serves; `docker run IMAGE COMMAND ...` runs `manage.py COMMAND ...`
# (migrate, cassandra_migrate, create_user, demo). `serve` applies migrations first.
ENTRYPOINT ["datalab-entrypoint"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
