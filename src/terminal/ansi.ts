/** Escape sequences a terminal interprets: CSI, OSC (up to BEL or ST), and two-byte ones. */
const SEQUENCES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Terminal output as the text a person reads, without escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(SEQUENCES, "");
}
