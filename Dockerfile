# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STAGELOOP_VAR_DIR=/var/lib/stageloop
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
    postgresql-client curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 stageloop \
 && mkdir -p /var/lib/stageloop && chown stageloop /var/lib/stageloop
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# Production settings (DEBUG=0) write the hashed names and the manifest the web server needs;
# the key only lets the settings load for this step, the container gets its own.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-step-only python manage.py collectstatic --no-input --verbosity 0
USER stageloop
EXPOSE 8000
ENV STAGELOOP_BIND=0.0.0.0:8000
CMD ["bin/web"]
