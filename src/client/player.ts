import type { Terminal } from "@xterm/xterm";
import type { Cast } from "./asciicast.ts";

/** A pause in the recording longer than this (seconds) plays as this long. */
const IDLE_LIMIT = 2;
/** A longer frame (the tab was in the background) counts as this long, so playback does not leap. */
const LONGEST_FRAME = 0.25;

/** Plays a recording into a terminal: play, pause, speed and seek, on the recording's own clock. */
export class Player {
  playing = false;
  speed = 1;
  /** Seconds into the recording. */
  time = 0;
  /** Called whenever `time` or `playing` change. */
  onChange: () => void = () => {};
  /** The first event not yet written to the terminal. */
  private next = 0;
  private lastFrame = 0;

  constructor(
    private readonly term: Terminal,
    private readonly cast: Cast,
  ) {}

  get duration(): number {
    return this.cast.duration;
  }

  play(): void {
    if (this.playing) return;
    if (this.time >= this.duration) this.seek(0);
    this.playing = true;
    this.lastFrame = performance.now();
    requestAnimationFrame(this.frame);
    this.onChange();
  }

  pause(): void {
    this.playing = false;
    this.onChange();
  }

  /** Shows the screen as it was at `time`: writes what is missing, or starts over to go back. */
  seek(time: number): void {
    this.time = Math.min(Math.max(time, 0), this.duration);
    const lastWritten = this.cast.events[this.next - 1];
    if (lastWritten && lastWritten.time > this.time) this.rewind();
    this.writeUntil(this.time);
    this.onChange();
  }

  private frame = (now: number): void => {
    if (!this.playing) return;
    const elapsed = Math.min((now - this.lastFrame) / 1000, LONGEST_FRAME) * this.speed;
    this.lastFrame = now;
    this.time = this.skipIdle(Math.min(this.time + elapsed, this.duration));
    this.writeUntil(this.time);
    if (this.time >= this.duration) this.playing = false;
    else requestAnimationFrame(this.frame);
    this.onChange();
  };

  /** Once IDLE_LIMIT into a longer pause, jumps to the pause's end. */
  private skipIdle(time: number): number {
    const upcoming = this.cast.events[this.next];
    const pauseStart = this.cast.events[this.next - 1]?.time ?? 0;
    return upcoming && time > pauseStart + IDLE_LIMIT ? Math.max(time, upcoming.time) : time;
  }

  /** Writes the events up to `time` that are not on screen yet, output in one go. */
  private writeUntil(time: number): void {
    let output = "";
    for (let event = this.cast.events[this.next]; event && event.time <= time; event = this.cast.events[++this.next]) {
      if (event.type === "output") {
        output += event.text;
      } else {
        this.term.write(output);
        output = "";
        this.resizeInOrder(event.cols, event.rows);
      }
    }
    if (output) this.term.write(output);
  }

  /** Starts over from a blank screen of the recording's first size. */
  private rewind(): void {
    // ESC c is a full reset; sent through write() it stays in order with output still queued.
    this.term.write("\x1bc");
    this.resizeInOrder(this.cast.cols, this.cast.rows);
    this.next = 0;
  }

  /** term.write() is queued and term.resize() is not: resize once everything written before is drawn. */
  private resizeInOrder(cols: number, rows: number): void {
    this.term.write("", () => this.term.resize(cols, rows));
  }
}
