"""Claude Code session transcripts (~/.claude/projects/**/*.jsonl)."""
