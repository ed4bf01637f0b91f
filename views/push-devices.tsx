import type { PublicDevice } from "../src/push/subscriptions.ts";
import { HxForm, formatDate } from "./components.tsx";

/**
 * The person's devices that take Web Push (each browser where they turned notifications on from
 * the dashboard), with Remove: Pier stops sending to it at once.
 */
export function PushDevicesSection(props: { devices: PublicDevice[] }) {
  return (
    <section class="card" id="devices" aria-labelledby="devices-heading">
      <h2 id="devices-heading">Devices</h2>
      <p class="muted">
        Where Pier sends "needs you" as a push notification, even with Pier closed: each browser or phone where you turned notifications on from the{" "}
        <a href="/">dashboard</a>. Tapping one opens the session.
      </p>
      {props.devices.length === 0 ? (
        <p class="empty">No devices yet.</p>
      ) : (
        <ul class="list" aria-label="Your devices">
          {props.devices.map((device) => (
            <li class="list-row">
              <span class="list-title" safe>
                {device.name}
              </span>
              <span class="muted" safe>
                {`through ${device.service}, added ${formatDate(new Date(device.createdAt))}, ` +
                  (device.lastPushAt ? `last push ${formatDate(new Date(device.lastPushAt))}` : "no push yet")}
              </span>
              <HxForm action={`/tokens/devices/${device.id}/remove`} label={`Remove ${device.name}`} confirm="Remove this device? Pier stops sending it notifications.">
                <button type="submit" class="danger small">Remove</button>
              </HxForm>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
