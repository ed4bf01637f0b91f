ALTER TABLE `sessions` ADD `agent` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `acp_session_id` text;