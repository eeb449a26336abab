# Showdesk production image: the README's install, served by uvicorn (ASGI: HTTP and WebSocket).
# Configure it with the environment (README's table); at least SECRET_KEY, ALLOWED_HOSTS,
# DATABASE_URL and REDIS_URL. Run migrations once per release:
#   docker run --env-file prod.env showdesk python manage.py migrate --noinput
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=false

RUN useradd --create-home --uid 10001 showdesk
WORKDIR /app

COPY pyproject.toml README.md ./
COPY accounts ./accounts
COPY common ./common
COPY config ./config
COPY desk ./desk
COPY episodes ./episodes
COPY files ./files
COPY jobs ./jobs
COPY realtime ./realtime
COPY manage.py ./

# The same install as bin/serve (pip install -e .), without the virtualenv a container does not need.
RUN pip install --no-cache-dir -e . \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER showdesk
EXPOSE 8000
# Behind a load balancer, set FORWARDED_ALLOW_IPS to its addresses (uvicorn reads it) and
# NUM_PROXIES to how many proxies add to X-Forwarded-For; never "*", which lets a client choose
# its own address and escape the login rate limit.
# Compression off: it cost 48 KiB per socket, half of what a socket costs (bench/ws_memory.py).
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws-per-message-deflate", "false"]
