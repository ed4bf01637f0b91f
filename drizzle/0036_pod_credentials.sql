CREATE TABLE `pod_credentials` (
	`repo_id` text NOT NULL,
	`user_id` text NOT NULL,
	`credential_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`repo_id`, `user_id`),
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pod_credentials_credential_hash_unique` ON `pod_credentials` (`credential_hash`);