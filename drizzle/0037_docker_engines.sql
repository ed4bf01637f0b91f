CREATE TABLE `docker_engines` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`host` text NOT NULL,
	`tls` text,
	`capacity` integer NOT NULL,
	`labels` text NOT NULL,
	`draining` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `docker_engines_name_unique` ON `docker_engines` (`name`);--> statement-breakpoint
ALTER TABLE `repos` ADD `docker_engine` text;--> statement-breakpoint
ALTER TABLE `repos` ADD `docker_engine_labels` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `pods` ADD `docker_engine` text DEFAULT 'local' NOT NULL;