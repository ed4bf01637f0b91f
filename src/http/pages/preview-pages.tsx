import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { AppError } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import { PreviewNoticePage } from "../../../views/preview-views.tsx";
import { authenticate } from "../auth.ts";
import { pierRequestOf } from "../pier-request.ts";
import { framableByPier, securityHeaders } from "../security.ts";
import { Redirect, signInFor } from "./respond.ts";

/** How often the "nothing listens here yet" page looks again. */
const REFRESH_SECONDS = 2;

/**
 * GET /sessions/:id/ports/:port[?path=/x]: opens a web app preview on its own origin, with a
 * grant (see Previews.openUrl); the session page's preview pane frames this address, so its
 * answers that are pages may be framed by Pier (and by nobody else).
 */
export function previewPages(pier: Pier) {
  return new Elysia().get("/sessions/:id/ports/:port", async (ctx) => {
    if (!pier.isSetUp()) throw new Redirect("/setup");
    const auth = authenticate(pier, ctx);
    if (!auth) throw new Redirect(signInFor(ctx.request));
    Object.assign(ctx.set.headers, framableByPier(securityHeaders(pier.previews.frameSources())));
    const path = new URL(ctx.request.url).searchParams.get("path");
    try {
      const opening = await pier.previews.openUrl(personActor(auth.user), auth.credential, ctx.params.id, ctx.params.port, path, pierRequestOf(pier, ctx.request));
      if (opening.kind === "grant") {
        ctx.set.status = 302;
        ctx.set.headers.location = opening.url;
        ctx.set.headers["cache-control"] = "no-store";
        return "";
      }
      ctx.set.status = 404;
      const message = `Nothing listens on port ${opening.port} in the pod of "${opening.session.title}" yet. Start the app there (in its terminal, or ask its agent); the preview opens here once it listens.`;
      return <PreviewNoticePage title={`Port ${opening.port} is not listening`} message={message} refreshSeconds={REFRESH_SECONDS} />;
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      ctx.set.status = error.status;
      return <PreviewNoticePage title={`Error ${error.status}`} message={error.message} />;
    }
  });
}
