ALTER TABLE `sessions` ADD `engine` text DEFAULT 'pier' NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `claude_session_id` text;