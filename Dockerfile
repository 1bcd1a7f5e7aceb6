# Production image: daphne serves HTTP and WebSockets; the same image runs Celery.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN useradd --create-home --uid 1000 parley
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=parley:parley . .
# collectstatic needs a key to import settings; the real one comes from the environment.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

USER parley
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "config.asgi:application"]
