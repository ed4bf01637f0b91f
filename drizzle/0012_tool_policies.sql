CREATE TABLE `global_tool_policy` (
	`id` integer PRIMARY KEY NOT NULL,
	`mode` text NOT NULL,
	`allowed` text NOT NULL,
	`denied` text NOT NULL,
	`ask` text NOT NULL,
	`updated_by` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`updated_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE TABLE `repo_tool_policies` (
	`repo_id` text PRIMARY KEY NOT NULL,
	`mode` text NOT NULL,
	`allowed` text NOT NULL,
	`denied` text NOT NULL,
	`ask` text NOT NULL,
	`updated_by` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`updated_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE TABLE `session_tool_grants` (
	`session_id` text NOT NULL,
	`tool` text NOT NULL,
	`granted_by` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`session_id`, `tool`),
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`granted_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
ALTER TABLE `sessions` ADD `attention` text;