CREATE TABLE `pods` (
	`repo_id` text PRIMARY KEY NOT NULL,
	`container_id` text,
	`image` text NOT NULL,
	`state` text NOT NULL,
	`last_active_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`repo_id` text NOT NULL,
	`user_id` text NOT NULL,
	`task_id` text,
	`title` text NOT NULL,
	`branch` text NOT NULL,
	`created_branch` integer NOT NULL,
	`base_ref` text NOT NULL,
	`base_sha` text,
	`worktree_path` text NOT NULL,
	`state` text NOT NULL,
	`step` text,
	`error` text,
	`pod_id` text,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`saved_commit` text,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_repo_idx` ON `sessions` (`repo_id`);--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_live_branch_idx` ON `sessions` (`repo_id`,`branch`) WHERE state IN ('provisioning', 'active');