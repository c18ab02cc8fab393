-- Outcomes in git: what sessions wrote, what git says happened to it, and the links between them.
-- No PRIMARY KEY or sequence here (a lake backend refuses them): writers insert only rows whose
-- natural key (named in each comment) is absent. No code is stored: line hashes, paths, metadata.

-- Session side (ingest). One row per (tool_use_id, file_path, line_hash): the non-blank lines a
-- successful edit added (Claude Edit/MultiEdit/Write/NotebookEdit, Codex apply_patch, Gemini
-- write_file/replace), normalised (' '.join(line.split())) and hashed like short_hash.
CREATE TABLE edit_lines (
    tool_use_id     VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    session_id      VARCHAR,
    file_path       VARCHAR NOT NULL,            -- as the agent named it (absolute for Claude)
    line_hash       VARCHAR NOT NULL,
    lines           INTEGER NOT NULL,            -- times the edit added this line
    run_id          BIGINT NOT NULL
);

-- What shell output printed about commits (key evidence_key = tool_use_id:ordinal, or the
-- session/ghost commit for Codex): `[branch sha7] subject`, pushes, PR URLs, the HEAD a Codex
-- session started on (session_head) and its ghost snapshots' parents (ghost_snapshot).
CREATE TABLE commit_evidence (
    evidence_key    VARCHAR NOT NULL,
    tool_use_id     VARCHAR,
    source          VARCHAR NOT NULL,
    session_id      VARCHAR,
    ts              TIMESTAMP,                   -- when the output came back: the link time
    kind            VARCHAR NOT NULL,            -- commit | push | pr | session_head | ghost_snapshot
    sha             VARCHAR,                     -- as printed (often 7 hex)
    branch          VARCHAR,
    subject         VARCHAR,
    detail          VARCHAR,                     -- push range, PR URL, repository URL, ghost commit
    dir             VARCHAR,                     -- where the command ran (cd prefix, else cwd)
    run_id          BIGINT NOT NULL
);

-- Git side (ingest/git). One row per scanned repository (key repo_id = hash of its git dir).
CREATE TABLE git_repos (
    repo_id         VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,            -- the git dir scanned
    name            VARCHAR NOT NULL,            -- folder name without .git
    default_branch  VARCHAR,                     -- refs/heads/main, refs/remotes/origin/main, ...
    head_sha        VARCHAR,                     -- tip of the default branch
    head_at         TIMESTAMP,                   -- its committer date
    commits         BIGINT NOT NULL DEFAULT 0,
    scanned_at      TIMESTAMP NOT NULL,
    run_id          BIGINT NOT NULL
);

-- Branch tips at the last scan (key repo_id, ref): what the next scan compares against.
CREATE TABLE git_refs (
    repo_id         VARCHAR NOT NULL,
    ref             VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    run_id          BIGINT NOT NULL
);

-- Every commit ever seen (key repo_id, sha); kept when history is rewritten (reachable = false).
CREATE TABLE git_commits (
    repo_id         VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    parents         VARCHAR NOT NULL,            -- space-separated, first parent first
    author_name     VARCHAR,
    author_email    VARCHAR,
    authored_at     TIMESTAMP NOT NULL,
    committer_name  VARCHAR,
    committer_email VARCHAR,
    committed_at    TIMESTAMP NOT NULL,
    subject         VARCHAR,
    trailers        VARCHAR,                     -- "Key: value" lines of the message's trailer block
    agent           VARCHAR,                     -- the coding agent a trailer or "Generated with" names
    files           INTEGER NOT NULL,
    lines_added     INTEGER NOT NULL,            -- first-parent diff (empty tree for a root), no renames
    lines_removed   INTEGER NOT NULL,
    nonblank_added  INTEGER NOT NULL DEFAULT 0,  -- added lines not blank once normalised (git_added_lines rows)
    landed          BOOLEAN NOT NULL DEFAULT FALSE,   -- reachable from the default branch
    mainline        BOOLEAN NOT NULL DEFAULT FALSE,   -- on the default branch's first-parent chain
    reachable       BOOLEAN NOT NULL DEFAULT TRUE,    -- reachable from some branch
    run_id          BIGINT NOT NULL
);

-- Files of a commit (key repo_id, sha, path), as `git diff --numstat --no-renames <first parent>`.
CREATE TABLE git_commit_files (
    repo_id         VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    lines_added     INTEGER NOT NULL,
    lines_removed   INTEGER NOT NULL,
    is_binary       BOOLEAN NOT NULL DEFAULT FALSE,
    run_id          BIGINT NOT NULL
);

-- Every path a commit of the repository touched (key repo_id, path), with its file name: what a
-- session's edited paths are matched against to find the repository root they lie in.
CREATE TABLE git_paths (
    repo_id         VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    base            VARCHAR NOT NULL,            -- the file name (after the last /)
    run_id          BIGINT NOT NULL
);

-- Non-blank added lines of a commit (key repo_id, sha, path, line_no), hashed as edit_lines.
CREATE TABLE git_added_lines (
    repo_id         VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    line_no         INTEGER NOT NULL,            -- in the commit's version of the file
    line_hash       VARCHAR NOT NULL,
    run_id          BIGINT NOT NULL
);

-- In how many commits of the repository each line (hash) was added (key repo_id, line_hash): a line
-- many commits add (a brace, an import) is boilerplate, no evidence that one commit carries another's work.
CREATE TABLE git_line_df (
    repo_id         VARCHAR NOT NULL,
    line_hash       VARCHAR NOT NULL,
    commits         BIGINT NOT NULL
);

-- Branches other than the default that contain a commit the default branch does not
-- (key repo_id, branch, sha). A landed commit's branch is the default branch (git_repos).
CREATE TABLE git_branch_commits (
    repo_id         VARCHAR NOT NULL,
    branch          VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    run_id          BIGINT NOT NULL
);

-- `git blame --porcelain <snapshot> -- <path>` as ranges of consecutive lines from one origin
-- (key repo_id, snapshot, path, final_start). A snapshot's blame never changes: blamed once.
CREATE TABLE git_blame (
    repo_id         VARCHAR NOT NULL,
    snapshot        VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    orig_sha        VARCHAR NOT NULL,
    orig_path       VARCHAR NOT NULL,
    orig_start      INTEGER NOT NULL,
    final_start     INTEGER NOT NULL,
    lines           INTEGER NOT NULL,
    run_id          BIGINT NOT NULL
);

-- Every (snapshot, path) blamed (key repo_id, snapshot, path), failures included: never redone.
CREATE TABLE git_blamed (
    repo_id         VARCHAR NOT NULL,
    snapshot        VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,            -- ok | absent (no such file then) | failed: <git's reason>
    run_id          BIGINT NOT NULL
);

-- The optional mapping file: sessions whose working directory starts with `prefix` worked in the
-- repository named `repo` (its name or path); for sessions no commit evidence maps.
CREATE TABLE git_path_map (
    prefix          VARCHAR NOT NULL,
    repo            VARCHAR NOT NULL,
    run_id          BIGINT NOT NULL              -- the scan that loaded the file
);

-- Derived (analytics/refresh.py GIT_STEPS, analytics/sql/derive_git_*.sql). A refresh derives again
-- only the sessions with new log rows and those a scan may have changed (derive_git_touched.sql).

-- Where a session worked: repository and the laptop path of its root there.
CREATE TABLE session_repos (
    session_id      VARCHAR NOT NULL,
    repo_id         VARCHAR NOT NULL,
    root            VARCHAR NOT NULL,
    mapped_by       VARCHAR NOT NULL             -- commit evidence | mapping file | path match
);

-- Session -> commit links, with the evidence and how sure each is.
CREATE TABLE git_links (
    session_id      VARCHAR NOT NULL,
    repo_id         VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,            -- the commit counted: the landed copy when there is one
    printed_sha     VARCHAR,                     -- what the session printed, space-separated (NULL for signal 3)
    signal          INTEGER NOT NULL,            -- 1 printed sha | 2 rewritten copy | 3 line overlap
    confidence      DOUBLE NOT NULL,
    linked_at       TIMESTAMP NOT NULL,          -- tool result time (signals 1, 2) or author time (3)
    evidence        VARCHAR NOT NULL,
    landed          BOOLEAN NOT NULL,            -- the commit's branch state when the link was derived:
    reachable       BOOLEAN NOT NULL             -- a change sends the session to be derived again
);

-- What each session claims of its linked commits: its k-th copy of a line (hash) at a path of the
-- commit, and the edit that wrote it. Which physical line is whose is settled per commit in
-- commit_agent_lines (an earlier link takes copies first).
CREATE TABLE git_claims (
    session_id      VARCHAR NOT NULL,
    repo_id         VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    line_hash       VARCHAR NOT NULL,
    copy_no         INTEGER NOT NULL,
    tool_use_id     VARCHAR NOT NULL,
    linked_at       TIMESTAMP NOT NULL
);

-- One row per agent-written line found in a linked commit: which edit wrote it, whether it is
-- still there 7 and 30 days after the commit and at the head (NULL: that day has not come yet).
CREATE TABLE commit_agent_lines (
    session_id      VARCHAR NOT NULL,
    repo_id         VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    line_no         INTEGER NOT NULL,
    tool_use_id     VARCHAR NOT NULL,
    landed          BOOLEAN NOT NULL,
    alive_7d        BOOLEAN,
    alive_30d       BOOLEAN,
    alive_head      BOOLEAN
);

-- Per successful edit (within a mapped repository root, else repo_id NULL): lines written and
-- what became of them. Turn, request and day come from the tool call.
CREATE TABLE edit_outcomes (
    tool_use_id     VARCHAR NOT NULL,
    session_id      VARCHAR NOT NULL,
    repo_id         VARCHAR,
    ts              TIMESTAMP NOT NULL,
    lines_written   INTEGER NOT NULL,
    lines_committed INTEGER NOT NULL,
    lines_landed    INTEGER NOT NULL,
    lines_due_7d    INTEGER NOT NULL,            -- landed lines whose 7-day snapshot exists
    lines_alive_7d  INTEGER NOT NULL,
    lines_due_30d   INTEGER NOT NULL,
    lines_alive_30d INTEGER NOT NULL,
    lines_alive_head INTEGER NOT NULL
);

-- Per session and turn (turn_no from request_facts; 0 for edits of no known request): the lines
-- its edits wrote and what became of them. What the cost-weighted shares (spend in turns that
-- landed) read.
CREATE TABLE git_turns (
    session_id      VARCHAR NOT NULL,
    turn_no         INTEGER NOT NULL,
    lines_written   BIGINT NOT NULL,
    lines_committed BIGINT NOT NULL,
    lines_landed    BIGINT NOT NULL,
    lines_alive_head BIGINT NOT NULL
);

-- Snapshots to blame: for every landed linked commit with agent lines, the default branch's first
-- first-parent commit at or after commit time + 7 and + 30 days, and its head.
CREATE TABLE git_blame_plan (
    repo_id         VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    horizon         VARCHAR NOT NULL,            -- 7d | 30d | head
    snapshot        VARCHAR NOT NULL,
    path            VARCHAR NOT NULL
);
