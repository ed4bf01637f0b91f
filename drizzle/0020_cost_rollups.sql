CREATE TABLE `cost_days` (
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`day` integer NOT NULL,
	`user_id` text NOT NULL,
	`responses` integer NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`cache_write_tokens` integer NOT NULL,
	`cache_read_tokens` integer NOT NULL,
	`cost_usd` real NOT NULL,
	PRIMARY KEY(`dimension`, `day`, `key`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `cost_days_by_key_idx` ON `cost_days` (`dimension`,`key`,`day`,`user_id`,`cost_usd`,`input_tokens`,`output_tokens`,`cache_read_tokens`,`cache_write_tokens`);--> statement-breakpoint
CREATE TABLE `cost_totals` (
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`user_id` text NOT NULL,
	`responses` integer NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`cache_write_tokens` integer NOT NULL,
	`cache_read_tokens` integer NOT NULL,
	`cost_usd` real NOT NULL,
	PRIMARY KEY(`dimension`, `key`, `user_id`)
);
