ALTER TABLE `trigger_firings` ADD `issue_number` integer;--> statement-breakpoint
ALTER TABLE `trigger_firings` ADD `pr_told` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `trigger_firings` ADD `outcome_told` integer DEFAULT false NOT NULL;