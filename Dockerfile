# orgledger's image: `docker build -t orgledger .`, then
#   docker run -p 4000:4000 -e LITELLM_MASTER_KEY=sk-... -v orgledger-data:/data orgledger
# (SQLite under /data), or with DATABASE_URL for PostgreSQL (see compose.yaml).
#
# The base comes from a registry; `make image-check` passes one built from Debian packages.
# Python is Debian's (3.11 on bookworm), so either base gives the same image.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
# Unset for a normal build; `make image-check` hands pip this machine's certificate bundle.
ARG PIP_CERT
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY package package
COPY domain domain
COPY application application
COPY projections projections
COPY adapters adapters
# A plain (not editable) install into a venv of its own, which the runtime stage copies whole;
# pip and setuptools leave it afterwards, as nothing installs into it at run time.
RUN python3 -m venv /opt/orgledger \
 && /opt/orgledger/bin/pip install --no-cache-dir --disable-pip-version-check ${PIP_CERT:+--cert "$PIP_CERT"} . \
 && /opt/orgledger/bin/pip uninstall --yes --quiet setuptools pip

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin orgledger \
 && mkdir /data && chown orgledger:orgledger /data
COPY --from=build /opt/orgledger /opt/orgledger
# HOST=0.0.0.0: inside a container the port is reached from outside it (outside, serve binds 127.0.0.1).
ENV PATH=/opt/orgledger/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=4000 \
    ORGLEDGER_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
# The SQLite event log and read models; unused with DATABASE_URL.
VOLUME /data
WORKDIR /data
USER orgledger
EXPOSE 4000
# The image has no curl: Python asks the liveness endpoint, on whatever PORT the container was given.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/liveliness' % os.environ.get('PORT', '4000'), timeout=4)"]
ENTRYPOINT ["orgledger"]
CMD ["serve"]
