ALTER TABLE `repos` ADD `max_concurrent_runs` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `brief` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `slot_wanted_at` integer;