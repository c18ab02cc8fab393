"""Text that fills tool results: source files, search hits, command output, MCP payloads.

Bulk text comes from a fixed pool of code-looking lines per language, sliced by a stable hash of
the file path, so the same file reads the same way every time and generation stays fast.
"""

from __future__ import annotations

import functools
import json
import random
import string
import zlib

_POOL_LINES = 2000

_TEMPLATES = {
    "python": (
        "def {name}({arg}: {Type}) -> {Type}:", '    """{Verb} the {noun} for {arg}."""', "    {name2} = {arg}.{field}",
        "    if {name2} is None:", "        raise ValueError(f\"missing {field}: {{{arg}!r}}\")", "    return {Type}({field}={name2})",
        "", "class {Type}({Base}):", "    {field}: {ptype}", "    {field2}: {ptype} = {default}", "import {module}",
        "from {module} import {Type}", "    for {item} in {arg}.{field}s:", "        total += {item}.{field2}",
        "    logger.info(\"{verb} %s\", {arg})", "@pytest.fixture", "def test_{name}_{verb}({arg}):",
        "    assert {name}({arg}) == {default}", "    with pytest.raises(ValueError):", "        {name}(None)",
    ),
    "go": (
        "func ({r} *{Type}) {Name}(ctx context.Context, {arg} {ptype}) error {{", "\t{name2}, err := {r}.{field}.Get(ctx, {arg})",
        "\tif err != nil {{", "\t\treturn fmt.Errorf(\"{verb} {noun}: %w\", err)", "\t}}", "\treturn nil", "}}", "",
        "type {Type} struct {{", "\t{Field} {ptype} `json:\"{field}\"`", "\t{Field2} *{Base}", "import \"{module}\"",
        "\tfor _, {item} := range {arg}.{Field}s {{", "\t\ttotal += {item}.{Field2}",
        "func Test{Name}(t *testing.T) {{", "\tgot := {name}({default})", "\tif got != want {{",
        "\t\tt.Fatalf(\"{name}() = %v, want %v\", got, want)",
    ),
    "typescript": (
        "export function {name}({arg}: {Type}): {Type} {{", "  const {name2} = {arg}.{field};", "  if (!{name2}) {{",
        "    throw new Error(`missing {field}`);", "  }}", "  return {{ ...{arg}, {field2}: {name2} }};", "}}", "",
        "export interface {Type} {{", "  {field}: {ptype};", "  {field2}?: {ptype};", "import {{ {Type} }} from './{module}';",
        "  for (const {item} of {arg}.{field}s) {{", "    total += {item}.{field2};", "describe('{name}', () => {{",
        "  it('{verb}s the {noun}', () => {{", "    expect({name}({default})).toEqual({default});", "  }});",
        "  const [{name2}, set{Name}] = useState<{ptype}>({default});",
    ),
}
_WORDS = {
    "name": ("load_invoice", "apply_refund", "reconcile", "parse_event", "render_cart", "fetch_rates", "sync_ledger",
             "validate_order", "build_manifest", "retry_job", "merge_config", "compute_totals"),
    "Type": ("Invoice", "Refund", "LedgerEntry", "Order", "CartItem", "RateTable", "JobSpec", "Manifest", "Config", "Account"),
    "Base": ("BaseModel", "Entity", "Record", "Handler"),
    "field": ("amount", "currency", "status", "items", "created_at", "owner_id", "retries", "region", "sku", "balance"),
    "ptype": ("int", "str", "Decimal", "string", "number", "bool", "float64", "time.Time"),
    "module": ("payments.models", "ledger", "utils/format", "config", "api/client", "store", "events"),
    "verb": ("load", "apply", "validate", "sync", "render", "retry", "merge"),
    "noun": ("invoice", "refund", "order", "cart", "ledger", "job", "config"),
    "item": ("entry", "line", "row", "item", "evt"),
    "default": ("0", "None", "''", "[]", "nil", "{}", "42"),
    "arg": ("order", "req", "cfg", "entry", "payload", "acct"),
    "r": ("s", "c", "h", "r"),
}


_DERIVED = {
    "name2": lambda w, rng: rng.choice(_WORDS["name"]).split("_")[-1],
    "field2": lambda w, rng: rng.choice(_WORDS["field"]),
    "Name": lambda w, rng: "".join(p.title() for p in w["name"].split("_")),
    "Field": lambda w, rng: w["field"].title().replace("_", ""),
    "Field2": lambda w, rng: w["field2"].title().replace("_", ""),
    "Verb": lambda w, rng: w["verb"].title(),
}


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _fill(template: str, rng: random.Random) -> str:
    needed = _fields(template)
    # Derived names lean on base words; draw those first, and only the ones the template uses.
    w = {k: rng.choice(_WORDS[k]) for k in ("name", "field", "verb")}
    w["field2"] = _DERIVED["field2"](w, rng)
    for key in needed:
        if key not in w:
            w[key] = _DERIVED[key](w, rng) if key in _DERIVED else rng.choice(_WORDS[key])
    return template.format(**w)


@functools.lru_cache(maxsize=None)
def code_pool(language: str) -> tuple[str, ...]:
    """A fixed pool of plausible source lines for `language` (same on every run)."""
    rng = random.Random(f"code-pool:{language}")
    templates = _TEMPLATES.get(language, _TEMPLATES["python"])
    return tuple(_fill(rng.choice(templates), rng) for _ in range(_POOL_LINES))


# Words a pool line may carry that an agent's new code renames (longest first: `created_at` before `at`).
_RENAMEABLE = tuple(sorted({w for key in ("name", "field", "arg", "item") for w in _WORDS[key]}, key=lambda w: (-len(w), w)))


def freshen(line: str, rng: random.Random) -> str:
    """A pool line as an agent writes it anew: its first name, field or variable numbered
    (`amount` -> `amount_417`), as in real new code, where most lines occur nowhere else in the
    repository; constant lines (a brace, a blank, `return nil`) stay the boilerplate they are."""
    for word in _RENAMEABLE:
        at = line.find(word)
        if at >= 0:
            return f"{line[:at + len(word)]}_{rng.randrange(1, 10_000)}{line[at + len(word):]}"
    return line


def file_lines(language: str, path: str, n_lines: int) -> list[str]:
    """The content of `path`: `n_lines` pool lines starting at an offset fixed by the path."""
    pool = code_pool(language)
    start = zlib.crc32(path.encode()) % (len(pool) - n_lines - 1)
    return list(pool[start : start + n_lines])


def numbered(lines: list[str], start: int, legacy: bool) -> str:
    """Read tool output: `cat -n` style (`     1→` in 2.0.x, `1<TAB>` in 2.1.x)."""
    if legacy:
        return "\n".join(f"{i:>6}\u2192{line}" for i, line in enumerate(lines, start))
    return "\n".join(f"{i}\t{line}" for i, line in enumerate(lines, start))


_EXT = {"python": ".py", "go": ".go", "typescript": ".ts"}
_STEMS = ("service", "models", "handlers", "client", "utils", "config", "store", "events", "api", "schema",
          "validators", "retry", "cache", "router", "format", "types")


def source_files(language: str, src_dirs: tuple[str, ...], cwd: str) -> list[str]:
    """Absolute paths of a repo's source files (deterministic per repo)."""
    rng = random.Random(f"files:{cwd}")
    ext = _EXT.get(language, ".py")
    files = []
    for directory in src_dirs:
        for stem in rng.sample(_STEMS, 7):
            prefix = "test_" if directory.startswith("test") and language == "python" else ""
            suffix = "_test" if language == "go" and rng.random() < 0.3 else ""
            files.append(f"{cwd}/{directory}/{prefix}{stem}{suffix}{ext}")
    return files


def grep_content(rng: random.Random, files: list[str], pattern: str, hits: int) -> str:
    """`Grep` in content mode: path:line:text lines."""
    out = []
    for _ in range(hits):
        path = rng.choice(files)
        out.append(f"{path}:{rng.randrange(1, 400)}:    {pattern}{rng.choice(_WORDS['field'])} = {rng.choice(_WORDS['default'])}")
    return "\n".join(out)


# -- command output ------------------------------------------------------------------------------
def test_pass_output(rng: random.Random, language: str) -> str:
    """A green test run."""
    n = rng.randrange(40, 400)
    secs = rng.uniform(0.8, 40)
    if language == "go":
        pkgs = "\n".join(f"ok  \tgithub.com/acme/{rng.choice(_WORDS['module']).replace('.', '/')}\t{rng.uniform(0.01, 3):.3f}s"
                         for _ in range(rng.randrange(3, 9)))
        return pkgs
    if language == "typescript":
        return (f"PASS  src/{rng.choice(_STEMS)}.test.ts\nPASS  src/{rng.choice(_STEMS)}.test.ts\n\n"
                f"Test Suites: {n // 10} passed, {n // 10} total\nTests:       {n} passed, {n} total\n"
                f"Snapshots:   0 total\nTime:        {secs:.3f} s\nRan all test suites.")
    width = min(n, 240)
    skipped = rng.randrange(0, 4)
    dots = "." * (width - skipped) + "s" * skipped
    return f"{dots}\n{n} passed, {rng.randrange(0, 4)} skipped in {secs:.2f}s"


def test_fail_output(rng: random.Random, language: str, test_name: str, error: str) -> str:
    """A red test run whose failure text is `error` (the loop plant repeats it verbatim)."""
    if language == "go":
        return f"--- FAIL: {test_name} (0.00s)\n    {error}\nFAIL\nexit status 1\nFAIL\tgithub.com/acme/pkg\t0.412s"
    if language == "typescript":
        return (f"FAIL  src/{test_name}.test.ts\n  \u25cf {test_name} \u203a handles empty input\n\n    {error}\n\n"
                "Test Suites: 1 failed, 11 passed, 12 total\nTests:       1 failed, 96 passed, 97 total")
    return (f"F\n=================================== FAILURES ===================================\n"
            f"_________________________________ {test_name} _________________________________\n\n"
            f"    def {test_name}():\n>       assert result == expected\nE       {error}\n\n"
            f"=========================== short test summary info ============================\n"
            f"FAILED tests/{test_name}.py::{test_name} - {error}\n1 failed, {rng.randrange(30, 300)} passed in 3.21s")


def git_status(files: list[str], cwd: str, branch: str) -> str:
    """`git status` listing modified files."""
    rel = [f.removeprefix(cwd + "/") for f in files]
    lines = "\n".join(f"\tmodified:   {r}" for r in rel)
    return (f"On branch {branch}\nChanges not staged for commit:\n  (use \"git add <file>...\" to update what will be committed)\n"
            f"{lines}\n\nno changes added to commit (use \"git add\" and/or \"git commit -a\")")


def git_commit_output(branch: str, sha: str, message: str, n_files: int, added: int, removed: int) -> str:
    """`git commit` stdout."""
    return f"[{branch} {sha}] {message}\n {n_files} files changed, {added} insertions(+), {removed} deletions(-)"


# -- MCP payloads --------------------------------------------------------------------------------
def mcp_payload(rng: random.Random, server: str, tool: str, target_bytes: int) -> str:
    """A JSON/YAML/markdown payload of about `target_bytes` bytes, shaped like the tool's output."""
    if tool == "browser_snapshot":
        return _snapshot(rng, target_bytes)
    if tool in ("query-docs", "resolve-library-id"):
        return _docs(rng, target_bytes)
    maker = _JSON_ITEMS.get(server, _github_item)
    items, size = [], 2
    while size < target_bytes:
        item = json.dumps(maker(rng, len(items)), separators=(",", ":"))
        items.append(item)
        size += len(item) + 1
    return "[" + ",".join(items) + "]"


def _github_item(rng: random.Random, i: int) -> dict:
    number = rng.randrange(100, 9999)
    return {
        "number": number, "title": f"{rng.choice(_WORDS['verb']).title()} {rng.choice(_WORDS['noun'])} {rng.choice(_WORDS['field'])} handling",
        "state": rng.choice(("open", "closed", "merged")), "user": {"login": rng.choice(("octocat", "dependabot[bot]", "mnovak", "pkim"))},
        "html_url": f"https://github.com/acme/repo/pull/{number}", "body": " ".join(rng.choices(_WORDS["noun"] + _WORDS["verb"], k=rng.randrange(20, 90))),
        "labels": [{"name": rng.choice(("bug", "chore", "feature", "p1"))}], "head": {"ref": f"feature/{number}", "sha": f"{rng.getrandbits(160):040x}"},
        "created_at": "2026-09-%02dT%02d:%02d:00Z" % (rng.randrange(1, 29), rng.randrange(24), rng.randrange(60)),
    }


def _jira_item(rng: random.Random, i: int) -> dict:
    key = f"{rng.choice(('PAY', 'PLAT', 'WEB', 'DATA', 'MOB'))}-{rng.randrange(100, 5000)}"
    return {
        "key": key, "fields": {"summary": f"{rng.choice(_WORDS['Type'])} {rng.choice(_WORDS['verb'])} fails for {rng.choice(_WORDS['field'])}",
                               "status": {"name": rng.choice(("To Do", "In Progress", "In Review", "Done"))},
                               "assignee": {"displayName": rng.choice(("Priya Patel", "Marco Rossi", None))},
                               "description": " ".join(rng.choices(_WORDS["noun"] + _WORDS["verb"], k=rng.randrange(30, 120))),
                               "priority": {"name": rng.choice(("Low", "Medium", "High"))}},
    }


def _sentry_item(rng: random.Random, i: int) -> dict:
    return {
        "id": str(rng.randrange(10**9, 10**10)), "title": f"{rng.choice(('KeyError', 'TimeoutError', 'TypeError'))}: '{rng.choice(_WORDS['field'])}'",
        "culprit": f"{rng.choice(_WORDS['module'])} in {rng.choice(_WORDS['name'])}", "count": rng.randrange(1, 90000),
        "stacktrace": [{"filename": f"{rng.choice(_STEMS)}.py", "lineno": rng.randrange(1, 500), "function": rng.choice(_WORDS["name"]),
                        "context_line": rng.choice(code_pool("python"))} for _ in range(rng.randrange(3, 9))],
    }


_JSON_ITEMS = {"github": _github_item, "jira": _jira_item, "sentry": _sentry_item}


def _snapshot(rng: random.Random, target_bytes: int) -> str:
    lines, size, ref = ["### Page state", "- Page URL: http://localhost:3000/checkout", "- Page Snapshot:", "```yaml"], 80, 1
    roles = ("generic", "button", "link", "listitem", "img", "heading", "textbox", "row", "cell")
    while size < target_bytes:
        depth = rng.randrange(1, 9)
        text = f"{'  ' * depth}- {rng.choice(roles)} \"{rng.choice(_WORDS['Type'])} {rng.choice(_WORDS['field'])}\" [ref=e{ref}]"
        lines.append(text)
        size += len(text) + 1
        ref += 1
    lines.append("```")
    return "\n".join(lines)


def _docs(rng: random.Random, target_bytes: int) -> str:
    parts, size = [], 0
    while size < target_bytes:
        block = (f"### {rng.choice(_WORDS['Type'])}.{rng.choice(_WORDS['name'])}\n\nSource: https://context7.com/acme/docs\n\n"
                 f"{' '.join(rng.choices(_WORDS['noun'] + _WORDS['verb'] + _WORDS['field'], k=40))}\n\n```\n"
                 + "\n".join(rng.choices(code_pool("typescript"), k=8)) + "\n```\n\n--------------------------------\n")
        parts.append(block)
        size += len(block)
    return "".join(parts)
