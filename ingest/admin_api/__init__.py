"""Anthropic Admin API Claude Code usage report, saved as JSON files."""
