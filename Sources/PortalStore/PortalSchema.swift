/// The portal database schema, one migration per version. Documented in `docs/schema.md`.
///
/// Columns marked "portal-owned" there are written by the portal (parents, staff) and never by an import.
public enum PortalSchema {
    /// `PRAGMA application_id` of a portal database ("OPVS"): a file without it that holds tables is
    /// someone else's and is never modified (SPEC §5 "Trust boundary").
    public static let applicationID: Int32 = 0x4F50_5653
    /// The tables by which a portal made before the mark was set is still recognised (and then marked), with
    /// the summary its first migration recorded under `schema_migrations`.
    public static let legacyTables: [String: String] = [
        "schema_migrations": migrations[0].summary, "runs": "", "organisation": "", "children": "", "parents": "",
    ]

    /// Columns every imported entity table has besides its fields.
    /// The last day of care of an ended placement (its end date) or a vanished one (the day it vanished), as
    /// the index `placements_last_day` holds it: a query must spell it the same way to use the index.
    public static let placementLastDay = "CASE status WHEN 'vanished' THEN status_since ELSE end_date END"

    static let lifecycle = """
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'ended', 'vanished')),
        status_since TEXT NOT NULL,
        created_run TEXT NOT NULL,
        updated_run TEXT NOT NULL
        """

    /// The table of the portal's secret for row hashes (migration 14). A run that stores hashes makes it again
    /// when it was dropped: what it holds is made anew then, like a key that is missing or damaged.
    public static let rowHashKeyTable = """
        CREATE TABLE IF NOT EXISTS row_hash_key (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            key TEXT NOT NULL
        )
        """

    public static let migrations: [Migration] = [
        Migration(version: 1, summary: "runs, imported entities, change log, portal-owned accounts and consents", sql: """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                organisation TEXT NOT NULL,
                mode TEXT NOT NULL,
                status TEXT NOT NULL,
                as_of TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                export_path TEXT,
                export_fingerprint TEXT,
                exported_at TEXT,
                operator TEXT NOT NULL,
                reason TEXT,
                options TEXT NOT NULL DEFAULT '{}',
                summary TEXT NOT NULL DEFAULT '{}',
                report_path TEXT,
                exit_code INTEGER NOT NULL
            );
            CREATE INDEX runs_by_export ON runs (export_fingerprint, status);

            CREATE TABLE locations (
                key TEXT PRIMARY KEY,
                code TEXT NOT NULL, name TEXT NOT NULL, address TEXT, postcode TEXT, city TEXT, phone TEXT,
                email TEXT, lrk_number TEXT,
                \(lifecycle)
            );
            CREATE TABLE groups (
                key TEXT PRIMARY KEY,
                code TEXT NOT NULL, location_code TEXT NOT NULL, name TEXT NOT NULL, care_type TEXT NOT NULL,
                capacity INTEGER,
                \(lifecycle)
            );
            CREATE TABLE staff (
                key TEXT PRIMARY KEY,
                number TEXT NOT NULL, first_name TEXT, infix TEXT, last_name TEXT, email TEXT, role TEXT,
                group_codes TEXT,
                \(lifecycle)
            );
            CREATE TABLE children (
                key TEXT PRIMARY KEY,
                number TEXT NOT NULL, first_name TEXT, infix TEXT, last_name TEXT, birth_date TEXT, gender TEXT,
                mentor TEXT,
                \(lifecycle)
            );
            CREATE TABLE parents (
                key TEXT PRIMARY KEY,
                number TEXT NOT NULL, first_name TEXT, infix TEXT, last_name TEXT, email TEXT, email2 TEXT,
                phone TEXT, mobile TEXT, address TEXT, postcode TEXT, city TEXT,
                \(lifecycle)
            );
            CREATE TABLE relations (
                key TEXT PRIMARY KEY,
                child_number TEXT NOT NULL, parent_number TEXT NOT NULL, role TEXT NOT NULL,
                \(lifecycle)
            );
            CREATE INDEX relations_by_child ON relations (child_number);
            CREATE INDEX relations_by_parent ON relations (parent_number);
            CREATE TABLE placements (
                key TEXT PRIMARY KEY,
                number TEXT NOT NULL, child_number TEXT NOT NULL, group_code TEXT NOT NULL, care_type TEXT NOT NULL,
                contract_type TEXT NOT NULL, start_date TEXT NOT NULL, end_date TEXT,
                monday TEXT, tuesday TEXT, wednesday TEXT, thursday TEXT, friday TEXT, saturday TEXT, sunday TEXT,
                weeks TEXT NOT NULL DEFAULT 'alle',
                \(lifecycle)
            );
            CREATE INDEX placements_by_child ON placements (child_number);
            CREATE INDEX placements_by_group ON placements (group_code);
            CREATE TABLE deviations (
                key TEXT PRIMARY KEY,
                child_number TEXT NOT NULL, group_code TEXT NOT NULL, date TEXT NOT NULL, kind TEXT NOT NULL,
                from_time TEXT, to_time TEXT, description TEXT,
                \(lifecycle)
            );
            CREATE INDEX deviations_by_group_date ON deviations (group_code, date);
            CREATE TABLE calendar (
                key TEXT PRIMARY KEY,
                from_date TEXT NOT NULL, to_date TEXT NOT NULL, kind TEXT NOT NULL, location_code TEXT,
                description TEXT,
                \(lifecycle)
            );

            CREATE TABLE change_log (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs (id),
                entity TEXT NOT NULL,
                key TEXT NOT NULL,
                action TEXT NOT NULL,
                changes TEXT NOT NULL DEFAULT '[]',
                as_of TEXT NOT NULL
            );
            CREATE INDEX change_log_by_record ON change_log (entity, key);
            CREATE INDEX change_log_by_run ON change_log (run_id);

            CREATE TABLE accounts (
                parent_number TEXT PRIMARY KEY,
                username TEXT UNIQUE,
                password_hash TEXT,
                activated_at TEXT,
                terms_accepted_at TEXT,
                notification_settings TEXT
            );
            CREATE TABLE consents (
                child_number TEXT NOT NULL,
                kind TEXT NOT NULL,
                granted INTEGER NOT NULL,
                set_at TEXT NOT NULL,
                PRIMARY KEY (child_number, kind)
            );
            """),
            Migration(version: 2, summary: "parent accounts: members, state per parent, invitations, mail outbox", sql: """
            ALTER TABLE accounts ADD COLUMN email_column TEXT;
            ALTER TABLE accounts ADD COLUMN disabled_at TEXT;
            ALTER TABLE accounts ADD COLUMN created_run TEXT;
            ALTER TABLE accounts ADD COLUMN updated_run TEXT;

            CREATE TABLE account_members (
                parent_number TEXT PRIMARY KEY,
                account TEXT NOT NULL REFERENCES accounts (parent_number),
                since_run TEXT NOT NULL
            );
            CREATE INDEX account_members_by_account ON account_members (account);

            CREATE TABLE account_state (
                parent_number TEXT PRIMARY KEY,
                state TEXT NOT NULL CHECK (state IN ('account', 'member', 'no-email', 'conflict', 'not-eligible')),
                email_column TEXT,
                detail TEXT,
                run_id TEXT NOT NULL
            );

            CREATE TABLE invitations (
                id INTEGER PRIMARY KEY,
                account TEXT NOT NULL REFERENCES accounts (parent_number),
                address TEXT NOT NULL,
                token_hash TEXT UNIQUE,
                created_at TEXT NOT NULL,
                sent_at TEXT,
                expires_at TEXT,
                used_at TEXT,
                revoked_at TEXT,
                revoked_reason TEXT,
                run_id TEXT
            );
            CREATE UNIQUE INDEX invitations_one_open ON invitations (account, address)
                WHERE revoked_at IS NULL AND used_at IS NULL;

            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                message_id TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL CHECK (kind IN ('invitation', 'resend', 'address-change-old', 'address-change-new')),
                account TEXT,
                invitation_id INTEGER REFERENCES invitations (id),
                recipient TEXT NOT NULL,
                data TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'failed', 'bounced', 'cancelled')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT NOT NULL,
                last_error TEXT,
                queued_at TEXT NOT NULL,
                sent_at TEXT,
                run_id TEXT,
                reported_run TEXT
            );
            CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

            CREATE TABLE organisation (
                id TEXT PRIMARY KEY,
                name TEXT,
                portal_url TEXT NOT NULL,
                updated_run TEXT NOT NULL
            );
            """),
            Migration(version: 3, summary: "attendance lists per group and day", sql: """
            CREATE TABLE attendance (
                group_code TEXT NOT NULL,
                date TEXT NOT NULL,
                child_number TEXT NOT NULL,
                start_time TEXT,
                end_time TEXT,
                absent INTEGER NOT NULL DEFAULT 0,
                reason TEXT,
                source TEXT NOT NULL,
                run_id TEXT NOT NULL,
                PRIMARY KEY (group_code, date, child_number)
            ) WITHOUT ROWID;

            CREATE TABLE attendance_days (
                group_code TEXT NOT NULL,
                date TEXT NOT NULL,
                closed_reason TEXT,
                run_id TEXT NOT NULL,
                PRIMARY KEY (group_code, date)
            ) WITHOUT ROWID;
            """),
            Migration(version: 4, summary: "access windows after care ends, and purge markers for retention", sql: """
            CREATE TABLE access_windows (
                parent_number TEXT NOT NULL,
                child_number TEXT NOT NULL,
                last_end TEXT NOT NULL,
                photos_until TEXT NOT NULL,
                documents_until TEXT,
                run_id TEXT NOT NULL,
                PRIMARY KEY (parent_number, child_number)
            ) WITHOUT ROWID;
            CREATE INDEX access_windows_by_child ON access_windows (child_number);
            ALTER TABLE children ADD COLUMN purged_at TEXT;
            ALTER TABLE parents ADD COLUMN purged_at TEXT;
            """),
            Migration(version: 5, summary: "purged children and parents found without reading every row", sql: """
            CREATE INDEX children_purged ON children (key) WHERE purged_at IS NOT NULL;
            CREATE INDEX parents_purged ON parents (key) WHERE purged_at IS NOT NULL;
            """),
            Migration(version: 6, summary: "one organisation per portal; each run keeps its report", sql: """
            CREATE TRIGGER organisation_is_one BEFORE INSERT ON organisation
            WHEN EXISTS (SELECT 1 FROM organisation WHERE id <> NEW.id)
            BEGIN SELECT RAISE(ABORT, 'this portal belongs to another organisation'); END;
            ALTER TABLE runs ADD COLUMN report_json TEXT;
            """),
            Migration(version: 7, summary: "part-day absences on the attendance list", sql: """
            ALTER TABLE attendance ADD COLUMN absent_from TEXT;
            ALTER TABLE attendance ADD COLUMN absent_until TEXT;
            """),
            Migration(version: 8, summary: "content hashes of the export's rows and files, for runs that read only what changed", sql: """
            CREATE TABLE record_hashes (
                entity TEXT NOT NULL,
                key TEXT NOT NULL,
                hash INTEGER NOT NULL,
                PRIMARY KEY (entity, key)
            ) WITHOUT ROWID;
            CREATE TABLE applied_files (
                entity TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                rows INTEGER NOT NULL,
                run_id TEXT NOT NULL
            );
            CREATE TABLE import_basis (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                basis TEXT NOT NULL,
                as_of TEXT NOT NULL,
                run_id TEXT NOT NULL
            );
            CREATE TABLE attendance_flags (
                group_code TEXT PRIMARY KEY,
                run_id TEXT NOT NULL
            );
            CREATE INDEX placements_start ON placements (start_date) WHERE status = 'active';
            CREATE INDEX placements_end ON placements (end_date) WHERE status = 'active';
            CREATE INDEX access_windows_photos ON access_windows (photos_until);
            CREATE INDEX access_windows_documents ON access_windows (documents_until);
            """),
            Migration(version: 9, summary: "where a school-holiday day on the attendance list comes from", sql: """
            ALTER TABLE attendance_days ADD COLUMN school_holiday TEXT;
            """),
            Migration(version: 10, summary: "delivery reports that come back later, and who did what to an account", sql: """
            ALTER TABLE outbox ADD COLUMN return_tag TEXT;
            CREATE UNIQUE INDEX outbox_by_return_tag ON outbox (return_tag) WHERE return_tag IS NOT NULL;
            ALTER TABLE outbox ADD COLUMN bounce_status TEXT;
            ALTER TABLE outbox ADD COLUMN bounce_diagnostic TEXT;
            ALTER TABLE outbox ADD COLUMN bounced_at TEXT;
            ALTER TABLE outbox ADD COLUMN delay_status TEXT;
            ALTER TABLE outbox ADD COLUMN delay_diagnostic TEXT;
            ALTER TABLE outbox ADD COLUMN delayed_at TEXT;

            CREATE TABLE delivery_reports (
                sha256 TEXT PRIMARY KEY,
                processed_at TEXT NOT NULL,
                source TEXT NOT NULL,
                outbox_id INTEGER REFERENCES outbox (id),
                action TEXT NOT NULL CHECK (action IN ('bounced', 'delayed', 'delivered', 'unmatched')),
                status TEXT,
                diagnostic TEXT
            );

            CREATE TABLE account_events (
                id INTEGER PRIMARY KEY,
                parent_number TEXT NOT NULL,
                at TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('resend', 'bounce', 'delay')),
                operator TEXT,
                reason TEXT,
                address TEXT,
                detail TEXT
            );
            CREATE INDEX account_events_by_parent ON account_events (parent_number);
            """),
            Migration(version: 11, summary: "the warnings of an applied file, repeated while it stays the same", sql: """
            ALTER TABLE applied_files ADD COLUMN issues TEXT;
            """),
            Migration(version: 12, summary: "the standing account problems of each parent, reported every night until solved", sql: """
            CREATE TABLE standing_issues (
                parent_number TEXT NOT NULL,
                position INTEGER NOT NULL,
                severity TEXT NOT NULL CHECK (severity IN ('warning', 'error')),
                code TEXT NOT NULL,
                message TEXT NOT NULL,
                run_id TEXT NOT NULL,
                PRIMARY KEY (parent_number, position)
            ) WITHOUT ROWID;
            """),
            Migration(version: 13, summary: "indexes for what a nightly run asks of the portal, so that a quiet night reads no whole table", sql: """
            CREATE INDEX invitations_open_by_expiry ON invitations (expires_at) WHERE revoked_at IS NULL AND used_at IS NULL;
            CREATE INDEX parents_by_email ON parents (lower(email));
            CREATE INDEX parents_by_email2 ON parents (lower(email2));
            CREATE INDEX accounts_by_username ON accounts (lower(username));
            CREATE INDEX account_state_by_state ON account_state (state);
            CREATE INDEX children_by_status ON children (status);
            CREATE INDEX parents_by_status ON parents (status);
            CREATE INDEX placements_by_status ON placements (status);
            """),
            Migration(version: 14, summary: "the portal's own secret for the content hashes of the export's rows", sql: """
            \(rowHashKeyTable);
            """),
            Migration(version: 15, summary: "the last day of care of each ended or vanished placement, the deviations by child and the members of shared accounts, for what a nightly run finds by date, by purge and after an account moved", sql: """
            CREATE INDEX placements_last_day ON placements (\(placementLastDay)) WHERE status IN ('ended', 'vanished');
            CREATE INDEX deviations_by_child ON deviations (child_number);
            CREATE INDEX account_members_shared ON account_members (parent_number) WHERE parent_number <> account;
            """),
    ]
}
