import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { asInput, readInput } from "../../infra/input.ts";
import { DismissNoticeInput } from "../../notices/dismissals.ts";
import type { Pier } from "../../pier.ts";
import { pageUser, redirectResponse } from "./respond.ts";

/** A notice's Dismiss button without JavaScript: dismisses it, then back to the page it was on. */
export function noticePages(pier: Pier) {
  return new Elysia().post("/notices/dismiss", (ctx) => {
    const viewer = pageUser(pier, ctx);
    pier.dismissals.dismiss(personActor(viewer), readInput(DismissNoticeInput, ctx.body));
    return redirectResponse(ctx.request, pierPath(ctx.request, asInput(ctx.body).back));
  });
}

/** `back` when it is a path on Pier itself; never another site (an open redirect), else the dashboard. */
function pierPath(request: Request, back: unknown): string {
  if (typeof back !== "string" || !back.startsWith("/")) return "/";
  const origin = new URL(request.url).origin;
  const url = new URL(back, origin);
  return url.origin === origin ? `${url.pathname}${url.search}` : "/";
}
