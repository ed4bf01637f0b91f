import { QUOTED_BLOCKS_ARE_DATA, quoted, quotedAround } from "../chat/quoted.ts";
import { quotedNote, quotedTask } from "../tasks/task-words.ts";
import type { PublicNote, PublicTask } from "../tasks/tasks.ts";
import type { Round, RoundKind } from "./tables.ts";

/**
 * What Pier says to a run's agent. Nobody is at the keyboard: Pier's own words (these) are the
 * instructions, and everything members wrote (the task's title, description and notes, a
 * person's feedback) is quoted data, naming who wrote it (see src/chat/quoted.ts).
 */

/**
 * The run's first message: what to do, then the task as data. A task a trigger made, whose
 * description still says what the trigger wrote (`brief`, kept on the run where no member can
 * edit it), is given as the trigger's template and each value it was fired with, quoted side by
 * side: its values are then quoted once, not again inside the task's block.
 */
export function firstMessage(task: PublicTask, notes: Array<{ note: PublicNote; author: string }>, creator: string, brief: string | null = null): string {
  const asTriggered = brief !== null && task.description === brief;
  return [
    "You are working unattended for the person who started this run: nobody is watching the chat, so do not ask questions; decide, and say what you decided.",
    "Work on the task below in this worktree. When the change is done, commit it on the current branch (git add and git commit, with a message that says why) and end your turn. Do not push and do not open a pull request: Pier pushes the branch and opens the pull request once your turn ends with commits.",
    QUOTED_BLOCKS_ARE_DATA,
    "The task:",
    ...(asTriggered
      ? [
          quotedTask({ ...task, description: "" }, creator),
          "Its description, made by the trigger that started this run: the trigger's template, with each value it was fired with quoted apart, naming where it came from:",
          quotedAround({ from: `the trigger's prompt template (set by ${creator})`, what: `description of task ${task.id}` }, brief),
        ]
      : [quotedTask(task, creator)]),
    ...(notes.length ? ["Its notes, oldest first:", ...notes.map(({ note, author }) => quotedNote(note, author))] : []),
  ].join("\n\n");
}

const ROUND_NAMES: Record<RoundKind, string> = {
  ci: "a fix round for failing CI",
  review: "a fix round for a review asking for changes",
  conflict: "a round to rebase onto the base and resolve its conflicts",
  feedback: "a round for a person's feedback on the task",
};

/**
 * Said after a restart of Pier cut the agent's turn off: during a round, to finish that round (its
 * summary names checks and reviewers, GitHub's and members' words, so it is quoted), else the task.
 */
export function carryOnMessage(round?: Round): string {
  const lost = "Pier restarted while you were working, and your last turn was cut off. Look at the worktree (git status, git log) to see where you were";
  if (!round) return `${lost}, finish the task, commit, and end your turn.`;
  return [
    `${lost}: you were in ${ROUND_NAMES[round.kind]}, given at ${round.at.slice(0, 16).replace("T", " ")} UTC and summed up below. Finish that round, commit on the current branch, and end your turn; Pier pushes the branch, which updates the pull request.`,
    QUOTED_BLOCKS_ARE_DATA,
    quoted({ from: "Pier's record of the round (the names in it are GitHub's or members')", what: `summary of the ${round.kind} round` }, round.summary),
  ].join("\n\n");
}

/** A person sent the task back with feedback: a round for the run's agent. */
export function feedbackMessage(note: PublicNote, author: string): string {
  return [
    `${author} looked at this run's work and sent the task back. Address their feedback below, commit on the current branch, and end your turn; Pier pushes the branch, which updates the pull request.`,
    QUOTED_BLOCKS_ARE_DATA,
    quotedNote(note, author),
  ].join("\n\n");
}
