import { html } from "@elysiajs/html";
import { staticPlugin } from "@elysiajs/static";
import { Elysia } from "elysia";
import { AppError, RateLimited } from "../infra/errors.ts";
import { insufficientStorage, isDiskFull } from "../infra/disk-full.ts";
import type { Pier } from "../pier.ts";
import { MAX_FRAME_BYTES } from "../terminal/protocol.ts";
import { ErrorPage } from "../../views/error-page.tsx";
import { authApi } from "./api/auth-routes.ts";
import { PUBLIC_DIR } from "./assets.ts";
import { repoApi } from "./api/repo-routes.ts";
import { sessionApi } from "./api/session-routes.ts";
import { reviewApi } from "./api/review-routes.ts";
import { feedbackApi } from "./api/feedback-routes.ts";
import { settingsApi } from "./api/settings-routes.ts";
import { systemRoutes } from "./api/system-routes.ts";
import { backupApi } from "./api/backup-routes.ts";
import { authenticate, usesCookie } from "./auth.ts";
import { SERVER_BODY_CEILING, defaultBodyLimit } from "./body-limit.ts";
import { appPages } from "./pages/app-pages.tsx";
import { authPages } from "./pages/auth-pages.tsx";
import { sessionPages } from "./pages/session-pages.tsx";
import { reviewPages } from "./pages/review-pages.tsx";
import { taskPages } from "./pages/task-pages.tsx";
import { skillPages } from "./pages/skill-pages.tsx";
import { policyPages } from "./pages/policy-pages.tsx";
import { mcpServerPages } from "./pages/mcp-pages.tsx";
import { costPages } from "./pages/cost-pages.tsx";
import { noticePages } from "./pages/notice-pages.ts";
import { Redirect, isHtmx } from "./pages/respond.ts";
import { changesState, fromPreview, isCrossOrigin, securityHeaders } from "./security.ts";
import { terminalSocket } from "./terminal-socket.ts";
import { chatSocket } from "./chat-socket.ts";
import { costApi } from "./api/cost-routes.ts";
import { meApi } from "./api/me-routes.ts";
import { attentionApi, dashboardEvents } from "./api/attention-routes.ts";
import { prApi } from "./api/pr-routes.ts";
import { runApi } from "./api/run-routes.ts";
import { taskApi } from "./api/task-routes.ts";
import { mcpApi } from "./api/mcp-routes.ts";
import { gatewayRequest } from "./api/gateway-routes.ts";
import { mirrorRequest } from "./api/mirror-routes.ts";
import { skillApi } from "./api/skill-routes.ts";
import { policyApi } from "./api/policy-routes.ts";
import { mcpServerApi } from "./api/mcp-server-routes.ts";
import { agentApi } from "./api/agent-routes.ts";
import { dockerEngineApi } from "./api/docker-engine-routes.ts";
import { podApi } from "./api/pod-routes.ts";
import { triggerApi } from "./api/trigger-routes.ts";
import { automationPages } from "./pages/automation-pages.tsx";
import { previewApi } from "./api/preview-routes.ts";
import { previewPages } from "./pages/preview-pages.tsx";
import { ssoApi } from "./api/sso-routes.ts";
import { ssoPages } from "./pages/sso-pages.tsx";
import { noteRequestAddress } from "./request-address.ts";
import { auditApi } from "./api/audit-routes.ts";
import { auditPages } from "./pages/audit-pages.tsx";
import { pushApi } from "./api/push-routes.ts";

const requestStart = new WeakMap<Request, number>();

/** The whole web layer: security hooks, then the API and the pages, each a thin door to a domain module. */
export function createApp(pier: Pier) {
  const headers = headersOf(pier);
  const app = new Elysia({
    websocket: { maxPayloadLength: MAX_FRAME_BYTES, idleTimeout: 120, sendPings: true },
    serve: { maxRequestBodySize: SERVER_BODY_CEILING },
  });
  // A request refused before any route is matched: onAfterResponse never sees it, so it is counted here.
  const refused = (request: Request, error: AppError) => {
    pier.metrics.observeRequest(request.method, "refused", error.status, (performance.now() - (requestStart.get(request) ?? performance.now())) / 1000);
    return errorResponse(request, error, headers());
  };
  return app
    .onRequest(({ request, set, server }) => {
      requestStart.set(request, performance.now());
      const gateway = gatewayRequest(pier, request, server);
      if (gateway) return gateway;
      noteRequestAddress(pier.config.trustedProxies, server, request);
      const mirror = mirrorRequest(pier, request, server);
      if (mirror) return mirror;
      Object.assign(set.headers, headers());
      // Nothing a repository serves (a web app preview) may call Pier, whatever it asks and however.
      if (fromPreview(request, (origin) => pier.previews.isPreviewSite(origin))) {
        return refused(request, new AppError(403, "from_preview", "Pier does not answer requests from a web app preview."));
      }
      // Whatever the cookie may authenticate must come from Pier's own pages; a request with an
      // Authorization header is judged by that header alone (see usesCookie).
      const guarded = changesState(request) || request.headers.get("upgrade")?.toLowerCase() === "websocket";
      if (guarded && isCrossOrigin(request) && usesCookie(request)) {
        return refused(request, new AppError(403, "cross_origin", "Requests from another site are refused."));
      }
    })
    // Each route's body within its limit: MAX_BODY_BYTES, or the one it states (see bodyLimit).
    .onParse(defaultBodyLimit(app))
    .onAfterResponse(({ request, route, set }) => {
      const started = requestStart.get(request);
      if (started === undefined) return;
      const status = typeof set.status === "number" ? set.status : 200;
      pier.metrics.observeRequest(request.method, route || "unmatched", status, (performance.now() - started) / 1000);
    })
    .onError(({ code, error, request, set }) => {
      if (error instanceof Redirect) {
        return new Response(null, { status: 303, headers: { ...headers(), location: error.location } });
      }
      // The parse hook's own errors (a body too long) reach here wrapped as a parse failure.
      const thrown = code === "PARSE" && error.cause instanceof AppError ? error.cause : error;
      const appError =
        thrown instanceof AppError
          ? thrown
          : isDiskFull(thrown)
            ? insufficientStorage()
            : code === "NOT_FOUND"
              ? new AppError(404, "not_found", "There is nothing at this address.")
              : code === "PARSE"
                ? new AppError(400, "invalid_body", "The request body could not be read; send JSON or a form.")
                : null;
      const where = `${request.method} ${new URL(request.url).pathname}`;
      if (!appError) console.error(`[pier] ${where} failed:`, error);
      // Only an administrator can free space, so the refusal is in the log too.
      else if (appError.status === 507) console.error(`[pier] ${where} was refused: the disk is full (${(thrown as Error).message}).`);
      const answer = appError ?? new AppError(500, "internal_error", "Something went wrong on the server; it has been logged.");
      set.status = answer.status;
      const response = errorResponse(request, answer, headers(), wantsHtml(request) ? viewerOf(pier, request) : undefined);
      if (answer instanceof RateLimited) response.headers.set("retry-after", String(answer.retryAfter));
      return response;
    })
    .use(html({ autoDoctype: false }))
    .use(staticPlugin({ assets: PUBLIC_DIR, prefix: "/public", alwaysStatic: false }))
    .use(systemRoutes(pier))
    .use(authApi(pier))
    .use(settingsApi(pier))
    .use(backupApi(pier))
    .use(meApi(pier))
    .use(attentionApi(pier))
    .use(dashboardEvents(pier))
    .use(prApi(pier))
    .use(taskApi(pier))
    .use(runApi(pier))
    .use(mcpApi(pier))
    .use(skillApi(pier))
    .use(policyApi(pier))
    .use(mcpServerApi(pier))
    .use(agentApi(pier))
    .use(dockerEngineApi(pier))
    .use(podApi(pier))
    .use(triggerApi(pier))
    .use(repoApi(pier))
    .use(sessionApi(pier))
    .use(reviewApi(pier))
    .use(feedbackApi(pier))
    .use(terminalSocket(pier))
    .use(chatSocket(pier))
    .use(costApi(pier))
    .use(authPages(pier))
    .use(appPages(pier))
    .use(sessionPages(pier))
    .use(reviewPages(pier))
    .use(taskPages(pier))
    .use(skillPages(pier))
    .use(policyPages(pier))
    .use(mcpServerPages(pier))
    .use(automationPages(pier))
    .use(previewApi(pier))
    .use(previewPages(pier))
    .use(costPages(pier))
    .use(noticePages(pier))
    // Issue 27: single sign-on.
    .use(ssoApi(pier))
    .use(ssoPages(pier))
    // Issue 27: audit.
    .use(auditApi(pier))
    .use(auditPages(pier))
    // Issue 27: push.
    .use(pushApi(pier));
}

/** Pier's security headers, made again only when the preview origins they allow to be framed change (the preview listener's port, once it listens). */
function headersOf(pier: Pier): () => Record<string, string> {
  let made = { sources: "", headers: securityHeaders([]) };
  return () => {
    const frames = pier.previews.frameSources();
    if (frames.join(" ") !== made.sources) made = { sources: frames.join(" "), headers: securityHeaders(frames) };
    return made.headers;
  };
}

function wantsHtml(request: Request): boolean {
  const path = new URL(request.url).pathname;
  return !path.startsWith("/api/") && path !== "/healthz" && path !== "/metrics" && !path.startsWith("/public/");
}

function viewerOf(pier: Pier, request: Request) {
  try {
    return authenticate(pier, { request, set: { headers: {} } })?.user;
  } catch {
    return undefined;
  }
}

/** JSON for the API; a page for browsers (a fragment-friendly page for htmx). */
function errorResponse(request: Request, error: AppError, security: Record<string, string>, viewer?: { username: string; role: "admin" | "member" }): Response {
  const headers: Record<string, string> = { ...security };
  if (!wantsHtml(request)) {
    headers["content-type"] = "application/json";
    return new Response(JSON.stringify(error.toJSON()), { status: error.status, headers });
  }
  headers["content-type"] = "text/html; charset=utf-8";
  if (isHtmx(request)) headers["hx-retarget"] = "#main";
  // The page is Layout's, doctype and all; nothing in it waits, so it renders to a string.
  const page = <ErrorPage status={error.status} message={error.message} viewer={viewer} /> as string;
  return new Response(page, { status: error.status, headers });
}
