"""The state store's schema as an ordered list of migrations.

Each migration runs in its own transaction and bumps `PRAGMA user_version`; a database newer
than this code is refused rather than misread. Add a migration at the end; never edit one that
has shipped.

Tables are named by the side they describe: `teams_*` hold raw Graph objects exactly as read
(the `raw` JSON column) plus the columns later stages query; `slack_*` hold what we learned of
the Slack workspace; `ledger` is the import's exactly-once record: an intent is written before
each Slack call and its result (the ts) after it, so a call whose outcome is unknown is looked
for in Slack rather than repeated.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "initial schema: raw Teams objects, checkpoints, ledger, warnings, runs",
        """
        CREATE TABLE runs (
            id            INTEGER PRIMARY KEY,
            command       TEXT NOT NULL,
            started_at    TEXT NOT NULL,
            ended_at      TEXT,
            status        TEXT NOT NULL DEFAULT 'running'
                          CHECK (status IN ('running', 'ok', 'partial', 'failed', 'interrupted',
                                            'stopped')),
            exit_code     INTEGER,
            pid           INTEGER NOT NULL,
            host          TEXT NOT NULL,
            summary       TEXT           -- JSON written at the end of the run
        );

        CREATE TABLE teams_users (
            id              TEXT PRIMARY KEY,
            display_name    TEXT,
            mail            TEXT,
            user_principal_name TEXT,
            user_type       TEXT,
            account_enabled INTEGER,
            raw             TEXT NOT NULL,
            fetched_at      TEXT NOT NULL
        );

        CREATE TABLE teams_teams (
            id            TEXT PRIMARY KEY,
            display_name  TEXT,
            visibility    TEXT,
            is_archived   INTEGER NOT NULL DEFAULT 0,
            created_at    TEXT,
            raw           TEXT NOT NULL,
            fetched_at    TEXT NOT NULL
        );

        CREATE TABLE teams_team_members (
            team_id       TEXT NOT NULL,
            membership_id TEXT NOT NULL,
            user_id       TEXT,
            roles         TEXT NOT NULL DEFAULT '[]',   -- JSON list
            raw           TEXT NOT NULL,
            fetched_at    TEXT NOT NULL,
            PRIMARY KEY (team_id, membership_id)
        );
        CREATE INDEX teams_team_members_user ON teams_team_members (user_id);

        CREATE TABLE teams_channels (
            id              TEXT PRIMARY KEY,
            team_id         TEXT NOT NULL,
            display_name    TEXT,
            membership_type TEXT,
            description     TEXT,
            created_at      TEXT,
            raw             TEXT NOT NULL,
            fetched_at      TEXT NOT NULL
        );
        CREATE INDEX teams_channels_team ON teams_channels (team_id);

        CREATE TABLE teams_channel_members (
            channel_id    TEXT NOT NULL,
            membership_id TEXT NOT NULL,
            user_id       TEXT,
            roles         TEXT NOT NULL DEFAULT '[]',
            raw           TEXT NOT NULL,
            fetched_at    TEXT NOT NULL,
            PRIMARY KEY (channel_id, membership_id)
        );

        -- Message ids are unique only within a channel or reply thread (learn chatmessage resource),
        -- so the key includes the thread: thread_id = replyToId for a reply, the id for a root.
        CREATE TABLE teams_messages (
            channel_id        TEXT NOT NULL,
            thread_id         TEXT NOT NULL,
            id                TEXT NOT NULL,
            team_id           TEXT NOT NULL,
            reply_to_id       TEXT,
            message_type      TEXT,
            from_user_id      TEXT,
            created_at        TEXT,
            last_modified_at  TEXT,
            last_edited_at    TEXT,
            deleted           INTEGER NOT NULL DEFAULT 0,  -- deletedDateTime set, or body emptied
            raw               TEXT NOT NULL,
            version           INTEGER NOT NULL DEFAULT 1,  -- bumped when a newer copy replaces it
            fetched_at        TEXT NOT NULL,
            PRIMARY KEY (channel_id, thread_id, id)
        );
        CREATE INDEX teams_messages_order ON teams_messages (channel_id, created_at, id);
        CREATE INDEX teams_messages_id ON teams_messages (id);
        CREATE INDEX teams_messages_modified ON teams_messages (team_id, last_modified_at);

        -- Inline images (hostedContents) and referenced files, downloaded content-addressed.
        CREATE TABLE teams_files (
            channel_id    TEXT NOT NULL,
            message_id    TEXT NOT NULL,
            source        TEXT NOT NULL CHECK (source IN ('hosted', 'reference')),
            source_id     TEXT NOT NULL,    -- hostedContent id or attachment id
            name          TEXT,
            url           TEXT,
            size          INTEGER,
            mime_type     TEXT,
            sha256        TEXT,             -- NULL until downloaded
            status        TEXT NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'downloaded', 'missing', 'too_large',
                                            'forbidden')),
            fetched_at    TEXT NOT NULL,
            PRIMARY KEY (channel_id, message_id, source, source_id)
        );

        CREATE TABLE export_checkpoints (
            scope       TEXT PRIMARY KEY,   -- e.g. 'users', 'team:<id>', 'channel:<id>'
            next_link   TEXT,               -- @odata.nextLink to resume from, exactly as given
            watermark   TEXT,               -- end of the last window read completely
            window_end  TEXT,               -- end of the window being read (while in progress)
            status      TEXT NOT NULL CHECK (status IN ('in_progress', 'complete')),
            run_id      INTEGER REFERENCES runs (id),
            updated_at  TEXT NOT NULL
        );

        -- One row per Slack side effect the import intends (create channel, post part N of a
        -- message, upload a file, ...): its intent before the call, the Slack ts after it.
        CREATE TABLE ledger (
            key           TEXT PRIMARY KEY,
            kind          TEXT NOT NULL,
            teams_id      TEXT,
            slack_channel TEXT,
            slack_ts      TEXT,
            state         TEXT NOT NULL
                          CHECK (state IN ('intent', 'in_doubt', 'done', 'failed', 'skipped')),
            reason        TEXT,
            attempts      INTEGER NOT NULL DEFAULT 0,
            run_id        INTEGER REFERENCES runs (id),
            updated_at    TEXT NOT NULL
        );
        CREATE INDEX ledger_state ON ledger (state, kind);

        CREATE TABLE warnings (
            id          INTEGER PRIMARY KEY,
            run_id      INTEGER REFERENCES runs (id),
            stage       TEXT NOT NULL,      -- export | plan | run | verify
            kind        TEXT NOT NULL,      -- short machine-readable category
            subject     TEXT,               -- the Teams/Slack id it concerns
            message     TEXT NOT NULL,
            created_at  TEXT NOT NULL
        );
        CREATE INDEX warnings_kind ON warnings (stage, kind);
        """,
    ),
    (
        "the Slack directory: users and channels as users.list / conversations.list gave them",
        """
        -- A snapshot of the workspace taken by `migrate plan` (replaced whole each time).
        CREATE TABLE slack_users (
            id                  TEXT PRIMARY KEY,
            name                TEXT,
            email               TEXT,              -- profile.email, as Slack gives it
            deleted             INTEGER NOT NULL DEFAULT 0,
            is_bot              INTEGER NOT NULL DEFAULT 0,
            is_restricted       INTEGER NOT NULL DEFAULT 0,
            is_ultra_restricted INTEGER NOT NULL DEFAULT 0,
            raw                 TEXT NOT NULL,
            fetched_at          TEXT NOT NULL
        );
        CREATE INDEX slack_users_email ON slack_users (email COLLATE NOCASE);

        CREATE TABLE slack_channels (
            id            TEXT PRIMARY KEY,
            name          TEXT NOT NULL,
            is_private    INTEGER NOT NULL DEFAULT 0,
            is_archived   INTEGER NOT NULL DEFAULT 0,
            raw           TEXT NOT NULL,
            fetched_at    TEXT NOT NULL
        );
        CREATE INDEX slack_channels_name ON slack_channels (name);
        """,
    ),
    (
        "ledger: when the last call was attempted, and the Slack file id of an upload",
        """
        -- intent_at narrows the look-up of an in-doubt post to the channel's recent history;
        -- slack_file lets an in-doubt upload be found by its file id in the thread.
        ALTER TABLE ledger ADD COLUMN intent_at TEXT;
        ALTER TABLE ledger ADD COLUMN slack_file TEXT;
        CREATE INDEX ledger_channel ON ledger (kind, slack_channel);
        """,
    ),
    (
        "ledger: a hash of the text each post carries, so a sync can tell edits apart",
        """
        ALTER TABLE ledger ADD COLUMN content_hash TEXT;
        CREATE INDEX ledger_teams_id ON ledger (teams_id);
        """,
    ),
    (
        "1:1, group and meeting chats: the chats and their members; their messages go to "
        "teams_messages with channel_id = the chat id and team_id = ''",
        """
        CREATE TABLE teams_chats (
            id            TEXT PRIMARY KEY,
            chat_type     TEXT,              -- oneOnOne | group | meeting
            topic         TEXT,
            created_at    TEXT,
            raw           TEXT NOT NULL,
            fetched_at    TEXT NOT NULL
        );

        CREATE TABLE teams_chat_members (
            chat_id       TEXT NOT NULL,
            membership_id TEXT NOT NULL,
            user_id       TEXT,
            raw           TEXT NOT NULL,
            fetched_at    TEXT NOT NULL,
            PRIMARY KEY (chat_id, membership_id)
        );
        CREATE INDEX teams_chat_members_user ON teams_chat_members (user_id);
        """,
    ),
    (
        "import bundles: which conversation and which post each bundle carried, with its ts",
        """
        -- One row per conversation a bundle carries: where Slack's importer puts it.
        CREATE TABLE bundle_conversations (
            teams_id      TEXT PRIMARY KEY,    -- Teams channel or chat id
            kind          TEXT NOT NULL CHECK (kind IN ('channel', 'group', 'mpim', 'dm')),
            name          TEXT NOT NULL,       -- channel / mpim name, or the DM's id
            bundle_id     TEXT NOT NULL,       -- the conversation's id inside the bundle
            members       TEXT NOT NULL,       -- JSON list of Teams user ids
            slack_channel TEXT,                -- the imported conversation, once confirmed
            confirmed_at  TEXT
        );

        -- One row per post a bundle carries (the ledger key a post made through the API
        -- would have): once confirmed in Slack the ledger gets it as done with this ts.
        CREATE TABLE bundle_items (
            key           TEXT PRIMARY KEY,
            teams_id      TEXT NOT NULL,       -- the conversation
            message_id    TEXT NOT NULL,
            ts            TEXT NOT NULL,
            text_hash     TEXT NOT NULL,
            bundle        TEXT NOT NULL,       -- the ZIP's file name
            generation    INTEGER NOT NULL     -- which `migrate bundle` wrote it (1, 2, …)
        );
        CREATE INDEX bundle_items_conversation ON bundle_items (teams_id, ts);
        """,
    ),
    (
        "slack_users: what matching and the plan look up, without parsing raw",
        """
        -- email_key is the email as matching compares it (trimmed, lower case: Python's, which
        -- folds more than SQLite's NOCASE); the plan looks people up by it and by id, one at
        -- a time, instead of holding a workspace of 350,000 people in memory.
        ALTER TABLE slack_users ADD COLUMN email_key TEXT;
        ALTER TABLE slack_users ADD COLUMN real_name TEXT;
        ALTER TABLE slack_users ADD COLUMN display_name TEXT;
        ALTER TABLE slack_users ADD COLUMN image_72 TEXT;
        UPDATE slack_users SET
            email_key = NULLIF(lower(trim(email)), ''),
            real_name = COALESCE(NULLIF(json_extract(raw, '$.real_name'), ''),
                                 NULLIF(json_extract(raw, '$.profile.real_name'), '')),
            display_name = NULLIF(json_extract(raw, '$.profile.display_name'), ''),
            image_72 = NULLIF(json_extract(raw, '$.profile.image_72'), '');
        CREATE INDEX slack_users_email_key ON slack_users (email_key);
        """,
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)
