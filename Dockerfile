# The web service of docker-compose.yml: gunicorn serving NewsNotes, static files by whitenoise.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
RUN pip install --no-cache-dir -c constraints.txt .

COPY . .
RUN SECRET_KEY=collectstatic-only DEBUG=0 python manage.py collectstatic --no-input -v 0 \
    && useradd --system --home /app newsnotes && chown -R newsnotes /app
USER newsnotes

EXPOSE 8000
# One container on its own migrates, then serves. docker-compose.yml runs the migrations once in its `migrate`
# service and starts each web replica with gunicorn alone, so replicas never race to migrate.
# gunicorn's settings (workers, gthread, keep-alive, preload, max-requests) live in newsnotes/gunicorn.conf.py,
# shared with docker-compose.yml and bench/load.py; WEB_CONCURRENCY overrides the number of workers.
CMD ["sh", "-c", "python manage.py migrate --no-input && exec gunicorn -c newsnotes/gunicorn.conf.py newsnotes.wsgi:application --bind 0.0.0.0:8000 --access-logfile -"]
