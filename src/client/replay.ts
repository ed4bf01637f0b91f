// The replay player on a session's output page: plays the session's terminal recording (an
// asciicast file) with play/pause, speed, a seek bar and a search over the printed text.
// Bundled into public/vendor/replay.js.

import type { Terminal } from "@xterm/xterm";
import { type Cast, type Match, type Transcript, parseCast, searchTranscript, transcriptOf } from "./asciicast.ts";
import { debounce, el } from "./dom.ts";
import { Player } from "./player.ts";
import { openTerminal } from "./xterm-setup.ts";

declare global {
  interface Window {
    /** For the browser tests. */
    pierReplay?: { term: Terminal; state(): { playing: boolean; time: number; duration: number } };
  }
}

const SPEEDS = [0.5, 1, 2, 4, 8];
/** More matches than this are not listed; the summary says so. */
const MAX_MATCHES = 200;

const placeholder = document.querySelector<HTMLElement>("#replay[data-recording]");
if (placeholder) void startReplay(placeholder, placeholder.dataset.recording ?? "");

async function startReplay(host: HTMLElement, url: string): Promise<void> {
  host.textContent = "Loading the recording…";
  let cast: Cast;
  try {
    cast = await loadCast(url);
  } catch (error) {
    host.textContent = (error as Error).message;
    return;
  }
  const screen = el("div", { class: "replay-screen" });
  host.replaceChildren(screen);
  const term = openTerminal(screen, { cols: cast.cols, rows: cast.rows, disableStdin: true, cursorBlink: false });
  const player = new Player(term, cast);
  host.append(playerControls(player), searchPanel(cast, player));
  window.pierReplay = { term, state: () => ({ playing: player.playing, time: player.time, duration: player.duration }) };
}

async function loadCast(url: string): Promise<Cast> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`The recording could not be loaded (HTTP ${response.status}).`);
  const text = await response.text();
  try {
    return parseCast(text);
  } catch {
    throw new Error("The recording could not be read.");
  }
}

function playerControls(player: Player): HTMLElement {
  const play = el("button", { type: "button", class: "replay-play" });
  const seek = el("input", { type: "range", "aria-label": "Seek", min: "0", max: String(player.duration), step: "any", value: "0" });
  const clock = el("span", { class: "replay-time" });
  const speed = el(
    "select",
    { "aria-label": "Speed" },
    ...SPEEDS.map((value) => el("option", { value: String(value), selected: value === 1 }, `${value}×`)),
  );

  play.addEventListener("click", () => (player.playing ? player.pause() : player.play()));
  seek.addEventListener("input", seekOncePerFrame(player, seek));
  speed.addEventListener("change", () => {
    player.speed = Number(speed.value);
  });
  player.onChange = () => {
    play.textContent = player.playing ? "❚❚" : "▶";
    play.setAttribute("aria-label", player.playing ? "Pause" : "Play");
    seek.value = String(player.time);
    seek.setAttribute("aria-valuetext", `${formatTime(player.time)} of ${formatTime(player.duration)}`);
    clock.textContent = `${formatTime(player.time)} / ${formatTime(player.duration)}`;
  };
  player.onChange();
  return el("div", { class: "replay-controls" }, play, seek, clock, el("label", { class: "replay-speed" }, "Speed ", speed));
}

/**
 * A range input fires for every pixel dragged, and going back means redrawing from the start;
 * this seeks at most once per animation frame, to the latest position.
 */
function seekOncePerFrame(player: Player, seek: HTMLInputElement): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      player.seek(Number(seek.value));
    });
  };
}

function searchPanel(cast: Cast, player: Player): HTMLElement {
  // Built at the first search: a long recording makes a long text.
  let transcript: Transcript | undefined;
  const input = el("input", { type: "search", "aria-label": "Search output", placeholder: "Search the output" });
  const summary = el("p", { class: "replay-summary", role: "status" });
  const list = el("ol", { class: "replay-matches", "aria-label": "Matches" });

  const search = () => {
    transcript ??= transcriptOf(cast.events);
    const matches = searchTranscript(transcript, input.value, MAX_MATCHES + 1);
    summary.textContent = input.value ? matchSummary(matches.length) : "";
    list.replaceChildren(...matches.slice(0, MAX_MATCHES).map((match) => el("li", {}, matchButton(match, player))));
  };
  input.addEventListener("input", debounce(search, 200));
  return el("div", { class: "replay-search" }, input, summary, list);
}

function matchSummary(count: number): string {
  if (count > MAX_MATCHES) return `The first ${MAX_MATCHES} matches:`;
  if (count === 0) return "No matches.";
  return count === 1 ? "1 match:" : `${count} matches:`;
}

/** A match in the list: its time and line; choosing it shows the screen at that moment. */
function matchButton(match: Match, player: Player): HTMLButtonElement {
  const button = el(
    "button",
    { type: "button" },
    el("span", { class: "replay-match-time" }, formatTime(match.time)),
    el("span", { class: "replay-match-line" }, match.line),
  );
  button.addEventListener("click", () => player.seek(match.time));
  return button;
}

/** 75.4 → "1:15"; 3725 → "1:02:05". */
function formatTime(seconds: number): string {
  const whole = Math.floor(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor(whole / 60) % 60;
  const rest = String(whole % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}
