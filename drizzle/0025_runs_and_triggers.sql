CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`repo_id` text NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text,
	`attempt` integer NOT NULL,
	`batch_id` text NOT NULL,
	`engine` text NOT NULL,
	`model` text,
	`agent` text,
	`state` text NOT NULL,
	`reason` text,
	`rounds` text DEFAULT '[]' NOT NULL,
	`pr_number` integer,
	`pr_url` text,
	`budget_usd` real NOT NULL,
	`auto_merge` integer NOT NULL,
	`paused` integer DEFAULT false NOT NULL,
	`trigger_id` text,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runs_task_idx` ON `runs` (`task_id`);--> statement-breakpoint
CREATE INDEX `runs_state_idx` ON `runs` (`state`);--> statement-breakpoint
CREATE INDEX `runs_created_idx` ON `runs` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_session_idx` ON `runs` (`session_id`);--> statement-breakpoint
CREATE TABLE `trigger_firings` (
	`id` text PRIMARY KEY NOT NULL,
	`trigger_id` text NOT NULL,
	`outcome` text NOT NULL,
	`reason` text,
	`run_id` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`trigger_id`) REFERENCES `triggers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `trigger_firings_trigger_idx` ON `trigger_firings` (`trigger_id`,`at`);--> statement-breakpoint
CREATE TABLE `triggers` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`repo_id` text NOT NULL,
	`owner_id` text NOT NULL,
	`prompt_template` text NOT NULL,
	`cron` text,
	`label` text,
	`mention` text,
	`allowed_logins` text DEFAULT '[]' NOT NULL,
	`engine` text,
	`model` text,
	`budget_usd` real,
	`daily_budget_usd` real,
	`max_concurrent` integer,
	`secret_hash` text,
	`enabled` integer NOT NULL,
	`last_fired_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `sessions` ADD `origin` text DEFAULT 'person' NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `run_id` text;