# Build: compiles TypeScript (and better-sqlite3, which has no prebuilt binary reachable everywhere).
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
# The benchmarks' FerretDB helper (compiled with them; not used by the tool at run time).
COPY test/support/ferretdb.ts ./test/support/ferretdb.ts
COPY types ./types
COPY views ./views
COPY public ./public
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scripts ./scripts
COPY views ./views
COPY public ./public
USER node
EXPOSE 3000
CMD ["node", "dist/src/main.js"]
