/**
 * Stand-ins on 127.0.0.1 for the two requests Chromium makes of Google's push service (GCM) when
 * a page subscribes to Web Push, so that it subscribes for real on a machine that cannot reach
 * Google: the device check-in (a protobuf AndroidCheckinResponse with the device's id and
 * security token) and the registration (a form naming the subscriber's VAPID key as `sender`,
 * answered `token=…`). Chromium is pointed at them with --gcm-checkin-url and
 * --gcm-registration-url; its connection for receiving (--gcm-mcs-endpoint) is sent to a closed
 * port here, so nothing leaves the machine. The subscription Chromium hands the page holds its
 * own keys and an endpoint on Google's push service, ending in the token given here.
 */
import { randomBytes } from "node:crypto";

export interface GcmStandIn {
  /** The flags that send Chromium's GCM requests here. */
  chromiumArgs: string[];
  /** Each registration asked for: the subscriber's key (`sender`) and the token it was given. */
  registrations: Array<{ sender: string; token: string }>;
  stop(): Promise<void>;
}

/** AndroidCheckinResponse: stats_ok (1) true, android_id (7) and security_token (8) as fixed64. */
function checkinResponse(): Buffer {
  const fixed64 = (field: number) => Buffer.concat([Buffer.from([(field << 3) | 1]), randomBytes(8)]);
  return Buffer.concat([Buffer.from([0x08, 0x01]), fixed64(7), fixed64(8)]);
}

export function startGcmStandIn(): GcmStandIn {
  const registrations: GcmStandIn["registrations"] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && path === "/checkin") return new Response(new Uint8Array(checkinResponse()), { headers: { "content-type": "application/x-protobuf" } });
      if (req.method === "POST" && path === "/register") {
        const form = new URLSearchParams(await req.text());
        const token = `stand-in-${randomBytes(12).toString("hex")}`;
        registrations.push({ sender: form.get("sender") ?? "", token });
        return new Response(`token=${token}`);
      }
      return new Response("not here", { status: 404 });
    },
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    chromiumArgs: [`--gcm-checkin-url=${url}/checkin`, `--gcm-registration-url=${url}/register`, "--gcm-mcs-endpoint=https://127.0.0.1:1"],
    registrations,
    stop: () => server.stop(true),
  };
}
