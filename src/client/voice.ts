import { pressButton, setPressed } from "./dom.ts";

// The Web Speech API is not in TypeScript's DOM library; this is the part Pier uses.
interface SpeechRecognitionResultList {
  readonly length: number;
  [index: number]: { readonly length: number; [index: number]: { transcript: string } };
}

interface SpeechRecognition {
  lang: string;
  interimResults: boolean;
  onresult: ((event: { results: SpeechRecognitionResultList }) => void) | null;
  onend: (() => void) | null;
  start(): void;
  stop(): void;
}

type SpeechRecognitionConstructor = new () => SpeechRecognition;

function speechRecognition(): SpeechRecognitionConstructor | undefined {
  const speech = window as unknown as Record<string, SpeechRecognitionConstructor | undefined>;
  return speech.SpeechRecognition ?? speech.webkitSpeechRecognition;
}

/**
 * A microphone button that dictates into `input` (after what is typed there already), or null
 * where the browser has no speech recognition: then there is no button at all.
 */
export function voiceButton(input: HTMLInputElement): HTMLButtonElement | null {
  const Recognition = speechRecognition();
  if (!Recognition) return null;
  let listening: SpeechRecognition | null = null;

  const start = () => {
    const typed = input.value.trimEnd();
    const recognition = new Recognition();
    recognition.lang = navigator.language;
    // Interim results show the words as they are heard, not only at the end.
    recognition.interimResults = true;
    recognition.onresult = (event) => {
      const heard = Array.from({ length: event.results.length }, (_, i) => event.results[i]?.[0]?.transcript ?? "").join("");
      input.value = typed ? `${typed} ${heard}` : heard;
    };
    recognition.onend = () => {
      listening = null;
      setPressed(button, false);
    };
    recognition.start();
    listening = recognition;
    setPressed(button, true);
  };

  const button = pressButton("🎤", "Voice input", () => (listening ? listening.stop() : start()));
  setPressed(button, false);
  return button;
}
