# One image for the web app and the worker. Slim, non-root; the command picks the process:
#   web:     uvicorn --factory bot.web.app:create_app --host 0.0.0.0 --port 3000
#   worker:  signoff worker
#   migrate: signoff db upgrade
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY runner ./runner
COPY storage ./storage
COPY bot ./bot
RUN pip install . && useradd --create-home --uid 10001 signoff
USER signoff

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"
CMD ["uvicorn", "--factory", "bot.web.app:create_app", "--host", "0.0.0.0", "--port", "3000"]
