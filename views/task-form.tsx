import type { Repo } from "../src/repos/repos.ts";
import type { PublicTask } from "../src/tasks/tasks.ts";
import { Field, FormError, type FormState, HxForm, SelectField, TextArea } from "./components.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { PRIORITIES, PRIORITY_LABEL } from "./task-parts.tsx";

const PRIORITY_OPTIONS: Array<[string, string]> = PRIORITIES.map((priority) => [priority, PRIORITY_LABEL[priority]]);

/** What a task is about, when it is due and how urgent: the fields creating and editing share. */
export function TaskFields(props: { form: FormState }) {
  return (
    <>
      <Field form={props.form} name="title" label="Title" required />
      <TextArea form={props.form} name="description" label="Description" rows={6}
        hint="Markdown: **bold**, lists, `code`, links. What done looks like helps the agent and the verification report." />
      <SelectField form={props.form} name="priority" label="Priority" options={PRIORITY_OPTIONS} />
      <Field form={props.form} name="dueDate" label="Due date" type="date" hint="Optional." />
    </>
  );
}

export function NewTaskPage(props: { viewer: Viewer; runtime: "docker" | "local"; form: FormState; repos: Repo[]; tasks: PublicTask[] }) {
  const form = { ...props.form, values: { priority: "medium", ...props.form.values } };
  const repos: Array<[string, string]> = [["", "None"], ...props.repos.map((repo): [string, string] => [repo.id, repo.name])];
  const parents: Array<[string, string]> = [["", "None (a task of its own)"], ...props.tasks.map((task): [string, string] => [task.id, task.title])];
  return (
    <Layout title="New task" viewer={props.viewer} runtime={props.runtime} current="/tasks" styles={["/public/tasks.css"]}>
      <p class="crumbs">
        <a href="/tasks">Tasks</a> /
      </p>
      <h1>New task</h1>
      <section class="card">
        <HxForm action="/tasks" label="Create a task" class="task-form">
          <FormError form={form} />
          <TaskFields form={form} />
          <SelectField form={form} name="repoId" label="Repository" options={repos} hint="Optional: the repository the work happens in." />
          <SelectField form={form} name="parentId" label="Parent task" options={parents} hint="Optional: makes this a subtask, counted in its parent's progress." />
          <button type="submit" class="primary">
            Create task
          </button>
        </HxForm>
      </section>
    </Layout>
  );
}
