"""OpenAI Codex CLI rollouts (~/.codex/sessions/**/rollout-*.jsonl)."""
