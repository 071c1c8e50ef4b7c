# Transformer Playground as a Docker image: a Hugging Face Docker Space, or any host.
#   docker build -t playground . && docker run -p 7860:7860 playground
# Bake the default models into the image (larger image; no download on first use, works offline):
#   docker build --build-arg DOWNLOAD_MODELS=1 -t playground .
# torch comes from PyTorch's CPU index (PyPI's Linux wheel is the multi-GB CUDA build). For an
# NVIDIA host: --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False

# System packages the app needs (the same list a Gradio Space installs): ffmpeg decodes audio.
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
    && grep -v '^\s*#' /tmp/packages.txt | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/packages.txt

# Spaces run containers as uid 1000; so do we, everywhere.
RUN useradd --create-home --uid 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH
WORKDIR /home/user/app

# Requirements first: this layer is rebuilt only when they change. All wheels: no compiler needed.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY --chown=user requirements.txt .
RUN pip install --no-cache-dir ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} -r requirements.txt

COPY --chown=user . .
ARG DOWNLOAD_MODELS=0
RUN if [ "$DOWNLOAD_MODELS" = "1" ]; then python app.py --download; fi

EXPOSE 7860
# /healthz answers from memory (no model loads). The slim image has no curl: Python's urllib, which
# exits non-zero on a refused connection, a timeout or a non-2xx answer. The start period covers the
# app's start-up (and, with PLAYGROUND_LOAD_MODE=eager, loading the models before it serves).
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GRADIO_SERVER_PORT', '7860'), timeout=5)"
CMD ["python", "app.py"]
