CREATE TABLE `open_turns` (
	`session_id` text PRIMARY KEY NOT NULL,
	`ledger_mark` integer NOT NULL,
	`draft` text DEFAULT '' NOT NULL,
	`started_at` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `usage_in_flight` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text,
	`task_id` text,
	`user_id` text NOT NULL,
	`repo_id` text,
	`model` text NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`cache_write_tokens` integer NOT NULL,
	`cache_read_tokens` integer NOT NULL,
	`started_at` integer NOT NULL
);
