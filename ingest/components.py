"""Which component a tool call belongs to: the naming every report and chart uses.

builtin:<Tool> | mcp:<server> | plugin:<plugin> | skill:<name> | subagent:<type>
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
DEFAULT_SUBAGENT_TYPE = "general-purpose"


@dataclass(frozen=True, slots=True)
class Component:
    component: str
    kind: str
    plugin: str | None = None
    subagent_type: str | None = None
    skill_name: str | None = None


def split_plugin_server(rest: str) -> tuple[str, str]:
    """`<plugin>_<server>` is ambiguous when names hold `_`; plugins usually repeat their name
    as the server (`context7_context7`), so prefer the split where both halves match."""
    positions = [i for i, ch in enumerate(rest) if ch == "_"]
    for i in positions:
        if rest[:i] == rest[i + 1 :]:
            return rest[:i], rest[i + 1 :]
    if positions:
        return rest[: positions[0]], rest[positions[0] + 1 :]
    return rest, rest


# A session calls a few dozen tools, each thousands of times: a tool name's component is worked out
# once (Components are frozen, so one can be shared).
@lru_cache(maxsize=1024)
def mcp_component(tool_name: str, prefix: str = "mcp__") -> Component | None:
    """`mcp__<server>__<tool>` and `mcp__plugin_<plugin>_<server>__<tool>`."""
    if not tool_name.startswith(prefix):
        return None
    server = tool_name[len(prefix):].split("__", 1)[0]
    if server.startswith("plugin_"):
        plugin, _ = split_plugin_server(server[len("plugin_"):])
        return Component(f"plugin:{plugin}", "plugin", plugin=plugin)
    return Component(f"mcp:{server}", "mcp")


def namespaced(name: str, kind: str) -> Component:
    """`<plugin>:<thing>` belongs to the plugin; a bare name is its own skill or subagent."""
    plugin, sep, _ = name.partition(":")
    if sep and plugin:
        return Component(
            f"plugin:{plugin}", "plugin", plugin=plugin,
            subagent_type=name if kind == "subagent" else None,
            skill_name=name if kind == "skill" else None,
        )
    return Component(
        f"{kind}:{name}", kind,
        subagent_type=name if kind == "subagent" else None,
        skill_name=name if kind == "skill" else None,
    )


def claude_component(tool_name: str, tool_input: dict[str, Any] | None, attribution_plugin: str | None = None) -> Component:
    """Classify one Claude Code tool_use."""
    found = mcp_component(tool_name)
    if found:
        return found
    tool_input = tool_input or {}
    if tool_name in SUBAGENT_TOOLS:
        subagent_type = tool_input.get("subagent_type")
        if not isinstance(subagent_type, str) or not subagent_type:
            subagent_type = DEFAULT_SUBAGENT_TYPE
        return namespaced(subagent_type, "subagent")
    if tool_name == "Skill":
        skill = tool_input.get("skill") or tool_input.get("command")
        if isinstance(skill, str) and skill:
            return namespaced(skill.lstrip("/"), "skill")
    if tool_name == "SlashCommand":
        command = tool_input.get("command")
        if isinstance(command, str) and ":" in command.split(" ", 1)[0]:
            return namespaced(command.split(" ", 1)[0].lstrip("/"), "skill")
    return _builtin(tool_name, attribution_plugin or None)


@lru_cache(maxsize=1024)
def _builtin(tool_name: str, plugin: str | None) -> Component:
    return Component(f"builtin:{tool_name}", "builtin", plugin=plugin)


def shell_or_mcp_component(name: str, shell_tools: frozenset[str]) -> Component:
    """How Codex and Gemini name tools: builtin:shell for every shell flavour, mcp:<server> for MCP
    tools (`mcp__<server>__<tool>`, or `<server>__<tool>` in older builds), builtin:<name> otherwise."""
    found = mcp_component(name)
    if found:
        return found
    if name in shell_tools:
        return Component("builtin:shell", "builtin")
    if "__" in name:
        return Component(f"mcp:{name.split('__', 1)[0]}", "mcp")
    return Component(f"builtin:{name}", "builtin")
