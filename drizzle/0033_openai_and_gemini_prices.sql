-- The price table gains current OpenAI and Gemini models (USD per million tokens, their standard rates
-- for prompts under 270K and 200K tokens), so agents on those services are costed like Claude's. Neither
-- service charges for writing its cache: a cache write is priced as input. A price an admin set stays.
INSERT OR IGNORE INTO `model_prices` (`model`, `input_per_mtok`, `output_per_mtok`, `cache_write_per_mtok`, `cache_read_per_mtok`) VALUES
  ('gpt-5.5', 5, 30, 5, 0.5),
  ('gpt-5.4', 2.5, 15, 2.5, 0.25),
  ('gpt-5.4-mini', 0.75, 4.5, 0.75, 0.075),
  ('gpt-5.4-nano', 0.2, 1.25, 0.2, 0.02),
  ('gpt-5.3-codex', 1.75, 14, 1.75, 0.175),
  ('gpt-5.2', 1.75, 14, 1.75, 0.175),
  ('gpt-5.2-codex', 1.75, 14, 1.75, 0.175),
  ('gpt-5.1', 1.25, 10, 1.25, 0.125),
  ('gpt-5.1-codex', 1.25, 10, 1.25, 0.125),
  ('gpt-5', 1.25, 10, 1.25, 0.125),
  ('gpt-5-mini', 0.25, 2, 0.25, 0.025),
  ('gpt-4.1', 2, 8, 2, 0.5),
  ('gpt-4.1-mini', 0.4, 1.6, 0.4, 0.1),
  ('gemini-3.1-pro-preview', 2, 12, 2, 0.2),
  ('gemini-3-flash-preview', 0.5, 3, 0.5, 0.05),
  ('gemini-3.1-flash-lite-preview', 0.25, 1.5, 0.25, 0.025),
  ('gemini-2.5-pro', 1.25, 10, 1.25, 0.125),
  ('gemini-2.5-flash', 0.3, 2.5, 0.3, 0.03),
  ('gemini-2.5-flash-lite', 0.1, 0.4, 0.1, 0.01);
