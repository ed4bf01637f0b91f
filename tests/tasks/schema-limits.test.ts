/**
 * A limit is written once, in the schema: the JSON Schema the model is shown for a task tool and
 * the one a route reads carry it, and a value past it is refused in the task's own words by the
 * route and by the tool alike (the words the domain has always used).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Actor } from "../../src/auth/actor.ts";
import { findUser } from "../../src/auth/users.ts";
import { NewTaskInput } from "../../src/tasks/tasks.ts";
import { taskTools } from "../../src/tools/registry.ts";
import { type TestPier, closeForGood, json, setUpAdmin, startTestPier } from "../support/pier.ts";
import { apiError } from "../support/sessions.ts";

const TITLE_RULE = "Title must be 1–200 characters without control characters.";

describe("limits in the schema", () => {
  let pier: TestPier;
  let admin: string;

  beforeAll(async () => {
    pier = await startTestPier();
    admin = await setUpAdmin(pier);
  }, 60_000);

  afterAll(() => closeForGood(pier));

  test("the route's schema carries the title's limit, and a title past it is refused with the task's sentence", async () => {
    const shown = JSON.parse(JSON.stringify(NewTaskInput));
    expect(shown.properties.title).toMatchObject({ type: "string", minLength: 1, maxLength: 200, pattern: "^[^\\x00-\\x1f\\x7f]*$" });

    const tooLong = await pier.fetch("/api/tasks", json({ title: "x".repeat(201) }, { cookie: admin }));
    expect(await apiError(tooLong)).toEqual({ status: 400, code: "invalid_title", message: TITLE_RULE });
    const bell = await pier.fetch("/api/tasks", json({ title: "Ring\u0007" }, { cookie: admin }));
    expect(await apiError(bell)).toEqual({ status: 400, code: "invalid_title", message: TITLE_RULE });
    // The spaces around a title are not part of it, as before: 200 characters inside them fit.
    const padded = await pier.fetch("/api/tasks", json({ title: `  ${"y".repeat(200)}  ` }, { cookie: admin }));
    expect(padded.status).toBe(201);
    expect(((await padded.json()) as { title: string }).title).toBe("y".repeat(200));
    const count = pier.pier.db.$client.query("SELECT count(*) AS n FROM tasks").get() as { n: number };
    expect(count.n).toBe(1);
  });

  test("the model is shown the same limits for its task tools, and is refused past them in the same words", async () => {
    const definitions = JSON.parse(JSON.stringify(taskTools.definitions())) as Array<{ name: string; input_schema: { properties: Record<string, Record<string, unknown>> } }>;
    const subtask = definitions.find((d) => d.name === "create_subtask")!.input_schema;
    expect(subtask.properties.title).toMatchObject({ type: "string", maxLength: 200, pattern: "^[^\\x00-\\x1f\\x7f]*$" });
    expect(subtask.properties.description).toMatchObject({ type: "string", maxLength: 100_000 });
    const note = definitions.find((d) => d.name === "add_task_note")!.input_schema;
    expect(note.properties.body).toMatchObject({ type: "string", minLength: 1, maxLength: 20_000 });

    const { id } = pier.pier.db.$client.query("SELECT id FROM users").get() as { id: string };
    const agent: Actor = { kind: "agent", user: findUser(pier.pier.db, id)!, sessionId: "no-such-session" };
    const ctx = { actor: agent, tasks: pier.pier.tasks };
    expect(await taskTools.run("create_subtask", { title: "x".repeat(201) }, ctx)).toEqual({ output: TITLE_RULE, isError: true });
    expect(await taskTools.run("add_task_note", { body: " ".repeat(3) }, ctx)).toEqual({ output: "A note must be 1–20000 characters.", isError: true });
    // Within the limits the call reaches the tool, which finds no task linked to this session.
    expect((await taskTools.run("create_subtask", { title: "  fits  " }, ctx)).output).toContain("No task is linked to this session");
  });
});
