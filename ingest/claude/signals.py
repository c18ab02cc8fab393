"""What Claude Code's own messages mean: harness agents, harness errors, the user's words.

Claude Code writes some of its own bookkeeping as if it were the agent's work: a cancelled sibling
call comes back as an error of that call, a user's rejection as an error result, a background-task
notification as a user message, and it runs agents of its own (prompt suggestions, compaction,
warm-ups). Read naively these look like loops, failures and prompts; every rule here was found in
the real transcripts of ../shared/corpus (docs/metrics.md names the case behind each).
"""

from __future__ import annotations

import re

# Agents Claude Code starts by itself, named in the agent id: agent-acompact-<hex>.jsonl,
# agent-aprompt_suggestion-<hex>.jsonl, agent-aside_question-<hex>.jsonl (the /btw side question).
_HARNESS_AGENT = re.compile(r"^a(compact|prompt_suggestion|side_question)-[0-9a-zA-Z]+$")
HARNESS_TYPES = {"compact": "compact", "prompt_suggestion": "prompt_suggestion", "side_question": "side_question"}

# tool_results.result_kind
CANCELLED = "cancelled"   # never ran: a parallel sibling failed first
REJECTED = "rejected"     # the user refused it (permission prompt, plan rejection, IDE diff view)
DENIED = "denied"         # Claude Code's permission rules refused it, no person involved
ERROR = "error"           # the tool ran (or was misused) and failed

_SIBLING = "Sibling tool call errored"
_REJECTION_PREFIXES = ("The user doesn't want to proceed", "The user doesn't want to take this action")
_REASON_MARK = "The user provided the following reason for the rejection:"
_DENIAL_MARKS = ("requires approval", "was blocked", "contains multiple operations", "requested permissions",
                 "haven't granted", "Permission to use")
# The IDE extension returns what the user typed in its diff view as the error text of the refused
# call (2.0.x: "please add transformer.js too first"). Nothing in the line says so; what tells it from
# a failure is that it is one line of words, not machine-shaped, and that it came back only after a
# person had time to type it (the real replies took 34-93 s; a shell error, a denial or a hook's
# output returns in seconds or spans several lines).
_SHAPED_TOOLS = frozenset({"Bash", "Edit", "MultiEdit", "Write", "NotebookEdit"})
_MACHINE_STARTS = ("Exit code", "<", "[", "Error", "error", "Command timed out", "Shell ", "InputValidationError")
USER_REPLY_MIN_SECONDS = 10.0

NOTIFICATION_PREFIX = "<task-notification>"


def harness_agent_type(agent_id: str | None) -> str | None:
    """`compact`, `prompt_suggestion` or `side_question` for Claude Code's own agents, else None."""
    if not agent_id:
        return None
    match = _HARNESS_AGENT.match(agent_id)
    return HARNESS_TYPES[match.group(1)] if match else None


def is_notification(text: str) -> bool:
    """A background task's completion notice, written as a user line: not a human prompt."""
    return text.startswith(NOTIFICATION_PREFIX)


def _major(version: str | None) -> int:
    head = (version or "").split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def _is_user_reply(tool: str | None, version: str | None, text: str, waited: float | None) -> bool:
    if tool not in _SHAPED_TOOLS or _major(version) < 2 or waited is None or waited < USER_REPLY_MIN_SECONDS:
        return False
    stripped = text.strip()
    return (" " in stripped and "\n" not in stripped and "\\n" not in stripped
            and not stripped.startswith(_MACHINE_STARTS + _REJECTION_PREFIXES)
            and not any(m in stripped for m in _DENIAL_MARKS))


def result_kind(tool: str | None, version: str | None, text: str, is_error: bool,
                waited: float | None = None) -> str | None:
    """Classify one tool result (None when it succeeded); `waited` = seconds since the call, if known."""
    if not is_error:
        return None
    if _SIBLING in text[:200]:
        return CANCELLED
    if text.startswith(_REJECTION_PREFIXES) or _is_user_reply(tool, version, text, waited):
        return REJECTED
    if any(mark in text[:300] for mark in _DENIAL_MARKS):
        return DENIED
    return ERROR


def rejection_reason(tool: str | None, version: str | None, text: str, waited: float | None = None) -> str | None:
    """The user's own words carried by a rejection (a stated reason or an IDE reply), else None."""
    if text.startswith(_REJECTION_PREFIXES):
        reason = text.split(_REASON_MARK, 1)[1].strip() if _REASON_MARK in text else ""
        return reason or None
    if _is_user_reply(tool, version, text, waited):
        return text.strip()
    return None
