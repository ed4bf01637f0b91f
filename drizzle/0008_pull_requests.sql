CREATE TABLE `pull_requests` (
	`repo_id` text NOT NULL,
	`number` integer NOT NULL,
	`url` text NOT NULL,
	`title` text NOT NULL,
	`state` text NOT NULL,
	`head_branch` text NOT NULL,
	`head_sha` text NOT NULL,
	`base_branch` text NOT NULL,
	`ci_status` text NOT NULL,
	`checks_passed` integer NOT NULL,
	`checks_failed` integer NOT NULL,
	`checks_pending` integer NOT NULL,
	`failing_check_url` text,
	`review_status` text NOT NULL,
	`mergeable` integer,
	`updated_at` integer NOT NULL,
	`checked_at` integer,
	PRIMARY KEY(`repo_id`, `number`),
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `session_branches` (
	`session_id` text NOT NULL,
	`branch` text NOT NULL,
	PRIMARY KEY(`session_id`, `branch`),
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `session_pull_requests` (
	`session_id` text NOT NULL,
	`repo_id` text NOT NULL,
	`number` integer NOT NULL,
	`found_by` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`session_id`, `number`),
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
