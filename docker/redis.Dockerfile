# The shared cache: Debian 12's redis-server, from the same base as edged's
# images (not image: redis:7, so nothing but Debian packages is needed).
FROM debian:bookworm-slim
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; \
    apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
USER redis
WORKDIR /var/lib/redis
EXPOSE 6379
# a cache: no persistence; reachable only inside the compose network
CMD ["redis-server", "--bind", "0.0.0.0", "--port", "6379", "--protected-mode", "no", \
     "--save", "", "--appendonly", "no"]
