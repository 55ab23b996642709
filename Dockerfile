# Deflect: the API with its packaged models and an index of content/ built in. How to build it: docs/container.md.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
# pip's own settings, passed through: where the CPU torch wheel is (an index, or a directory of wheels).
ARG PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_NO_INDEX PIP_CONSTRAINT PIP_CERT PIP_TRUSTED_HOST
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
RUN python3 -m venv /opt/deflect
WORKDIR /src
COPY pyproject.toml README.md ./
COPY scripts/cpu_only.py ./scripts/
COPY app ./app
COPY indexer ./indexer
COPY retrieval ./retrieval
# torch is pinned in pyproject.toml; the plan is checked first so a CUDA build is refused before it is downloaded.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/deflect/bin/pip install --dry-run --ignore-installed --quiet --report /tmp/plan.json . \
    && /opt/deflect/bin/python scripts/cpu_only.py /tmp/plan.json \
    && /opt/deflect/bin/pip install --quiet --no-compile . \
    && /opt/deflect/bin/pip uninstall --quiet --yes pip setuptools
# What serving never reads: test suites, C++ headers, test binaries and static libraries.
RUN cd /opt/deflect/lib/python3.11/site-packages \
    && find . -depth -type d \( -name tests -o -name test \) -not -path "./*.dist-info/*" -exec rm -rf {} + \
    && rm -rf torch/include torch/bin/*Test torch/bin/test_* torch/bin/protoc* \
    && find . -name "*.a" -delete
# Bytecode only for the modules serving imports, written by importing them: start-up needs no more.
RUN cd / && /opt/deflect/bin/python -c "import app.api.main, app.cli, uvicorn.main, uvicorn.loops.auto, \
uvicorn.protocols.http.auto, uvicorn.protocols.websockets.auto, uvicorn.lifespan.on; \
from indexer.embedders import DEFAULT_MODEL, load_embedder; load_embedder(DEFAULT_MODEL).embed_queries(['warm-up'])"
COPY content /srv/deflect/content
# The packaged models live inside their wheels, so the image needs no model download; index once here.
RUN DEFLECT_CONTENT_DIR=/srv/deflect/content DEFLECT_INDEX_DIR=/srv/deflect/var/index /opt/deflect/bin/deflect index

FROM ${BASE_IMAGE}
ENV PATH=/opt/deflect/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    DEFLECT_CONTENT_DIR=/srv/deflect/content DEFLECT_INDEX_DIR=/srv/deflect/var/index \
    DEFLECT_DATABASE_URL=sqlite:////srv/deflect/var/deflect.db
RUN groupadd --gid 10001 deflect \
    && useradd --uid 10001 --gid deflect --create-home --shell /usr/sbin/nologin deflect
COPY --from=build /opt/deflect /opt/deflect
COPY --from=build /srv/deflect/content /srv/deflect/content
COPY --from=build --chown=deflect:deflect /srv/deflect/var /srv/deflect/var
USER deflect
WORKDIR /srv/deflect

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"
CMD ["deflect", "serve", "--host", "0.0.0.0", "--port", "8000"]
