CREATE TABLE `chat_items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`kind` text NOT NULL,
	`data` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `chat_items_session_idx` ON `chat_items` (`session_id`,`id`);--> statement-breakpoint
CREATE TABLE `cost_ledger` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`user_id` text NOT NULL,
	`repo_id` text NOT NULL,
	`model` text NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`cache_write_tokens` integer NOT NULL,
	`cache_read_tokens` integer NOT NULL,
	`cost_usd` real NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cost_ledger_session_idx` ON `cost_ledger` (`session_id`);--> statement-breakpoint
CREATE INDEX `cost_ledger_created_idx` ON `cost_ledger` (`created_at`);--> statement-breakpoint
CREATE TABLE `model_prices` (
	`model` text PRIMARY KEY NOT NULL,
	`input_per_mtok` real NOT NULL,
	`output_per_mtok` real NOT NULL,
	`cache_write_per_mtok` real NOT NULL,
	`cache_read_per_mtok` real NOT NULL
);
--> statement-breakpoint
ALTER TABLE `sessions` ADD `model` text;--> statement-breakpoint
-- The price table starts with current Claude models (USD per million tokens); edit it in settings.
INSERT INTO `model_prices` (`model`, `input_per_mtok`, `output_per_mtok`, `cache_write_per_mtok`, `cache_read_per_mtok`) VALUES
  ('claude-opus-4-6', 5, 25, 6.25, 0.5),
  ('claude-opus-4-5', 5, 25, 6.25, 0.5),
  ('claude-opus-4-1', 15, 75, 18.75, 1.5),
  ('claude-sonnet-4-6', 3, 15, 3.75, 0.3),
  ('claude-sonnet-4-5', 3, 15, 3.75, 0.3),
  ('claude-haiku-4-5', 1, 5, 1.25, 0.1);
