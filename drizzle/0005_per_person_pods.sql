CREATE TABLE `legacy_clones` (
	`repo_id` text PRIMARY KEY NOT NULL,
	`path` text NOT NULL,
	`migrated_at` integer NOT NULL,
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_pods` (
	`repo_id` text NOT NULL,
	`user_id` text NOT NULL,
	`container_id` text,
	`image` text NOT NULL,
	`state` text NOT NULL,
	`last_active_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`repo_id`, `user_id`),
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- Rows of the per-repo pods are not copied: those containers are found by their labels and retired at start (src/pods/legacy-layout.ts).
DROP TABLE `pods`;--> statement-breakpoint
ALTER TABLE `__new_pods` RENAME TO `pods`;--> statement-breakpoint
PRAGMA foreign_keys=ON;