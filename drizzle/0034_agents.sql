CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`package` text,
	`version` text,
	`program` text,
	`command` text,
	`args` text NOT NULL,
	`service` text NOT NULL,
	`removed` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
