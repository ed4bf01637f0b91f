CREATE TABLE `pod_moves` (
	`repo_id` text NOT NULL,
	`user_id` text NOT NULL,
	`from_engine` text NOT NULL,
	`to_engine` text NOT NULL,
	`image` text NOT NULL,
	`step` text NOT NULL,
	`started_at` integer NOT NULL,
	PRIMARY KEY(`repo_id`, `user_id`),
	FOREIGN KEY (`repo_id`) REFERENCES `repos`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
