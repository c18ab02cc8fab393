"""A tool's component, worked out once per name, is the same whatever was asked before."""

from __future__ import annotations

from ingest.components import Component, claude_component, shell_or_mcp_component


def test_a_builtin_tool_keeps_the_plugin_its_line_is_attributed_to_and_only_that():
    assert claude_component("Bash", {}, "superpowers") == Component("builtin:Bash", "builtin", plugin="superpowers")
    assert claude_component("Bash", {}, None) == Component("builtin:Bash", "builtin")
    assert claude_component("Bash", {}, "") == Component("builtin:Bash", "builtin")
    assert claude_component("Bash", {}, "other").plugin == "other"


def test_mcp_names_resolve_the_same_for_every_agent_asking():
    plugin = Component("plugin:context7", "plugin", plugin="context7")
    assert claude_component("mcp__plugin_context7_context7__resolve", None) == plugin
    assert shell_or_mcp_component("mcp__plugin_context7_context7__resolve", frozenset({"shell"})) == plugin
    assert claude_component("mcp__github__create_issue", {}, "p") == Component("mcp:github", "mcp")
    assert shell_or_mcp_component("shell", frozenset({"shell"})) == Component("builtin:shell", "builtin")
