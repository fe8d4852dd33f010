import Foundation
import PortalStore

extension PortalRepository {
    /// Opens the portal for what follows every import, whatever became of it (old reports removed, the
    /// metrics file rewritten): as the run left it, without the migration, the owner's check or the schema
    /// check that an import or a listing does first. An import that failed before it migrated the file
    /// leaves it as it was.
    public convenience init(afterRunAt path: String) throws {
        self.init(asItIs: try Database(path: path))
    }

    /// Messages in the outbox still to be sent (`mail send` reports them as waiting).
    public func queuedMailCount() throws -> Int {
        try database.scalarInt("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") ?? 0
    }
}

/// The file given as the portal database belongs to another program (`PortalRepository(path:)` and
/// `readOnlyAt:` refuse it before writing a byte): the operator named the wrong file, which the command
/// line answers as a usage error.
public typealias ForeignDatabase = PortalStore.ForeignDatabase
