#!/bin/sh
# The image's processes (deploy/Dockerfile). Kubernetes names one as the container's args:
#   api [--workers N]        the REST API (hubspot-pipeline serve) on API_HOST:API_PORT
#   migrate                  the database migrations, before a release's new code starts
#   code-server              the Dagster code location `hubspot_pipeline` (gRPC on 3030)
#   engagement-code-server   the Dagster code location `engagement` (dbt, gRPC on 3030)
#   daemon                   dagster-daemon (schedules, sensors, the run queue, run monitoring)
#   webserver [ARGS]         dagster-webserver on 3000 (ARGS: its -w workspace file or -g/-p code servers)
# Anything else runs as given (Dagster's Helm chart sets its own commands for the webserver and daemon).
set -eu

case "${1:-api}" in
  api)
    shift || true
    exec hubspot-pipeline serve "$@"
    ;;
  migrate)
    shift
    exec hubspot-pipeline migrate "$@"
    ;;
  code-server)
    shift
    exec dagster api grpc --host 0.0.0.0 --port 3030 --module-name hubspot_pipeline.definitions "$@"
    ;;
  engagement-code-server)
    shift
    exec dagster api grpc --host 0.0.0.0 --port 3030 \
      --module-name hubspot_pipeline.engagement_location.definitions "$@"
    ;;
  daemon)
    shift
    exec dagster-daemon run "$@"
    ;;
  webserver)
    shift
    exec dagster-webserver --host 0.0.0.0 --port 3000 "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
