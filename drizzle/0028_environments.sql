ALTER TABLE `repos` ADD `devcontainer_path` text;--> statement-breakpoint
ALTER TABLE `repos` ADD `setup_script` text;--> statement-breakpoint
ALTER TABLE `repos` ADD `cleanup_script` text;--> statement-breakpoint
ALTER TABLE `repos` ADD `warm_pods` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `pods` ADD `env_hash` text;--> statement-breakpoint
ALTER TABLE `pods` ADD `env_config` text;--> statement-breakpoint
ALTER TABLE `pods` ADD `created_commands_in` text;--> statement-breakpoint
ALTER TABLE `pods` ADD `start_commands_for` text;