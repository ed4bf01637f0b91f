import { describe, expect, test } from "bun:test";
import { parseClientMessage as chatMessage } from "../../src/chat/client-messages.ts";
import { MAX_MESSAGE_CHARS } from "../../src/chat/protocol.ts";
import { parseClientMessage as terminalMessage } from "../../src/terminal/client-messages.ts";

// The sockets' messages are read with schemas; each refusal keeps the sentence its protocol has always sent.

describe("the chat socket's client messages", () => {
  test("good messages read as themselves, with only the fields their type names", () => {
    expect(chatMessage('{"type":"message","text":"hi","extra":1}')).toEqual({ type: "message", text: "hi" });
    expect(chatMessage({ type: "interrupt", text: "ignored" })).toEqual({ type: "interrupt" });
    expect(chatMessage({ type: "approval", id: "c1", allow: true })).toEqual({ type: "approval", id: "c1", allow: true });
    expect(chatMessage({ type: "approval", id: "c1", allow: false, scope: "session" })).toEqual({ type: "approval", id: "c1", allow: false, scope: "session" });
  });

  test("bad ones are refused in the protocol's words", () => {
    expect(chatMessage("not json")).toStartWith("Messages must be JSON:");
    expect(chatMessage([1])).toBe("Unknown message type undefined; use message, interrupt or approval.");
    expect(chatMessage({ type: "toString" })).toBe('Unknown message type "toString"; use message, interrupt or approval.');
    expect(chatMessage({ type: "message", text: " \n " })).toBe("A message needs text.");
    expect(chatMessage({ type: "message", text: 5 })).toBe("A message needs text.");
    expect(chatMessage({ type: "message", text: "x".repeat(MAX_MESSAGE_CHARS + 1) })).toBe(`A message may be at most ${MAX_MESSAGE_CHARS} characters.`);
    expect(chatMessage({ type: "approval", id: "", allow: true })).toBe("An approval needs the id of the approval_request it answers.");
    expect(chatMessage({ type: "approval", id: "c1", allow: "yes" })).toBe("An approval needs allow: true or false.");
    expect(chatMessage({ type: "approval", id: "c1", allow: true, scope: null })).toBe('An approval\'s scope is "once" or "session".');
  });
});

describe("the terminal socket's client messages", () => {
  test("good messages read as themselves", () => {
    expect(terminalMessage('{"type":"input","data":"ls\\r"}')).toEqual({ type: "input", data: "ls\r" });
    expect(terminalMessage({ type: "resize", cols: 80, rows: 24, x: 1 })).toEqual({ type: "resize", cols: 80, rows: 24 });
  });

  test("bad ones are refused in the protocol's words", () => {
    expect(terminalMessage("{")).toStartWith("Messages must be JSON:");
    expect(terminalMessage("3")).toBe("Messages must be JSON objects with a type.");
    expect(terminalMessage({ type: "paste" })).toBe('Unknown message type "paste"; use input or resize.');
    expect(terminalMessage({ type: "input" })).toBe("An input message needs data as a string.");
    for (const size of [{ cols: 0, rows: 24 }, { cols: 80.5, rows: 24 }, { cols: 80, rows: 1001 }, { cols: 80 }]) {
      expect(terminalMessage({ type: "resize", ...size })).toBe("A resize needs whole numbers cols and rows from 1 to 1000.");
    }
  });
});
