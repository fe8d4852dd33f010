import PortalStore

extension PortalWriter {
    /// The content hashes after the run (`HashUpdate`): what the next run compares the export's rows and files with.
    func writeHashes(_ update: HashUpdate, runID: String) throws {
        // The key the hashes were made with: stored when the portal has none (or none that reads as a key) by a
        // full or incremental run, which hashes every row it stores a hash for. A scoped run does not store one:
        // the portal's other hashes are not under it, and the next nightly run, finding no key, is a full one
        // that hashes every row again. A key that differs was stored after this run read it, which the run lock
        // rules out: nothing is written.
        try database.execute(PortalSchema.rowHashKeyTable)
        let stored = try RowHash.Key.stored(in: database)
        if stored == nil {
            if update.basis != nil {
                try database.run("INSERT OR REPLACE INTO row_hash_key (id, key) VALUES (1, ?)", [.text(update.key.hex)])
            }
        } else if stored != update.key {
            throw DatabaseError(code: 1, message: "the portal's row hash key changed while this run read the export", sql: nil,
                                path: database.path)
        }
        try inBatches("INSERT OR REPLACE INTO record_hashes (entity, key, hash) VALUES ", columns: 3) { rows in
            for (kind, list) in update.upserts {
                for (key, hash) in list {
                    try rows.add([.text(kind.rawValue), .text(key), .integer(Int64(bitPattern: hash))])
                }
            }
        }
        for (kind, keys) in update.deletes {
            for key in keys.sorted() {
                try database.run("DELETE FROM record_hashes WHERE entity = ? AND key = ?", [.text(kind.rawValue), .text(key)])
            }
        }
        for kind in update.clearedFiles.sorted(by: { $0.rawValue < $1.rawValue }) {
            try database.run("DELETE FROM applied_files WHERE entity = ?", [.text(kind.rawValue)])
        }
        for file in update.cleanFiles {
            try database.run("INSERT OR REPLACE INTO applied_files (entity, name, sha256, rows, run_id, issues) VALUES (?, ?, ?, ?, ?, ?)",
                             [.text(file.kind.rawValue), .text(file.name), .text(file.sha256), .integer(Int64(file.rows)), .text(runID),
                              file.warnings.map(SQLValue.text) ?? .null])
        }
        if let basis = update.basis {
            try database.run("INSERT OR REPLACE INTO import_basis (id, basis, as_of, run_id) VALUES (1, ?, ?, ?)",
                             [.text(basis.text), .text(basis.asOf.iso), .text(runID)])
        }
    }

    /// A purged record's stored values differ from its row in the export: its hash goes, so that the row is
    /// read (and kept purged, or brought back) every night rather than passed over as applied.
    /// Its file is then no longer "as applied" either: the next run reads it.
    func forgetHash(_ kind: EntityKind, where condition: String, _ values: [SQLValue]) throws {
        try database.run("DELETE FROM applied_files WHERE entity = ?", [.text(kind.rawValue)])
        try database.run("DELETE FROM record_hashes WHERE entity = ? AND key IN (SELECT key FROM \(kind.schema.table) WHERE \(condition))",
                         [.text(kind.rawValue)] + values)
    }
}
