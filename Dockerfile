# The worker image: main worker by default; the copy worker and the demo simulators use the same
# image with another command (see docker-compose.yml and docs/production.md).
FROM node:20.18.1-bookworm-slim

# The worker's build id (Worker Versioning) is <package version>-<GIT_COMMIT>:
# docker build --build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD) …; without it, the digest of the bundled workflows.
ARG GIT_COMMIT=unknown
ENV BACKUP_GIT_COMMIT=$GIT_COMMIT

ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    METRICS_BIND_ADDRESS=0.0.0.0:9464 \
    BACKUP_REPOSITORY_DIR=/backup

WORKDIR /app
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources; no dev dependency is needed at run time.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY contracts ./contracts
COPY lib ./lib
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY simulators ./simulators
COPY client ./client
COPY bin ./bin
COPY scripts ./scripts
COPY config ./config
COPY examples ./examples
COPY deploy ./deploy
COPY tsconfig.json ./

# Workflows are bundled once at build time: the worker starts fast and every replica runs the same code.
RUN node --import tsx scripts/bundle-workflows.ts "$WORKFLOW_BUNDLE_PATH" \
 && mkdir -p /backup /var/lib/backup-orchestrator && chown node:node /backup /var/lib/backup-orchestrator

USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.METRICS_BIND_ADDRESS || ':9464').split(':').pop() + '/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--import", "tsx", "workers/main-worker.ts"]
