import Foundation
import PortalStore

extension PortalWriter {
    /// Report retention: the copies of the reports kept in the runs rows of runs that started before
    /// `cutoff` go, in one transaction. The rows themselves stay (`opvangsync runs` keeps them).
    func releaseKeptReports(startedBefore cutoff: String) throws {
        try database.inTransaction {
            try database.run("UPDATE runs SET report_json = NULL WHERE started_at < ? AND report_json IS NOT NULL", [.text(cutoff)])
        }
    }
}
