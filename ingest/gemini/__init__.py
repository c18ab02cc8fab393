"""Gemini CLI chat sessions (~/.gemini/tmp/<hash>/chats/session-*.json)."""
