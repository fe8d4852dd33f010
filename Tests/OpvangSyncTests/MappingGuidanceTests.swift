import Foundation
import Testing
import TestSupport
@testable import OpvangSync

/// SPEC §3: an unknown code or a column the export lacks is an error that names the mapping file and the
/// key to add or change, so that whoever writes the mapping knows where to fix it.
@Suite struct MappingGuidanceTests {
    @Test func anUnknownCodeNamesTheMappingFileAndTheKeyToAdd() throws {
        var export = MiniExport()
        export["relaties.csv"][1] = "K1;O1;Oma"
        let state = try validate(export)
        let issue = try #require(state.issues.first { $0.code == "unknown-code" })
        #expect(issue.message.contains("mappings/flexkids-csv.json"), "\(issue.message)")
        #expect(issue.message.contains(#""codes" → "role""#), "\(issue.message)")
        #expect(issue.message.contains(#"de sleutel "Oma""#), "\(issue.message)")
        #expect(issue.message.contains("Ouder 1, Ouder 2, Verzorger"), "the canonical codes are listed: \(issue.message)")
    }

    @Test func anUnknownCodeInAMappingGivenOnTheCommandLineNamesThatFile() throws {
        var export = MiniExport()
        export["plaatsingen.csv"][1] = "P1;K1;G1;KDV;Halve weken;01-09-2025;;07:30-18:00;07:30-18:00;"
        let folder = try export.write(to: temporaryFolder("export"))
        let mapping = try Mapping(root: try JSONParser.parse(Array(BuiltInMapping.flexkidsCSV.text.utf8)), path: "/etc/opvangsync/ons-systeem.json")
        let state = try Validator(mapping: mapping).validate(CSVExportSource(directory: folder.path, mapping: mapping), expectedRows: [:])
        let issue = try #require(state.issues.first { $0.code == "unknown-code" })
        #expect(issue.message.contains("/etc/opvangsync/ons-systeem.json"), "\(issue.message)")
        #expect(issue.message.contains(#""codes" → "contractType""#), "\(issue.message)")
        #expect(issue.message.contains(#""Halve weken""#), "\(issue.message)")
    }

    @Test func aRequiredColumnMissingFromTheHeaderNamesTheMappingKeyThatReadsIt() throws {
        var export = MiniExport()
        export["relaties.csv"] = ["Kindnummer;Oudernummer;Relatie", "K1;O1;Ouder 1"]
        let error = #expect(throws: ExportFailure.self) { try validate(export) }
        #expect(error?.issue.code == "missing-column")
        #expect(error?.issue.message.contains("mappings/flexkids-csv.json") == true, "\(error?.issue.message ?? "")")
        #expect(error?.issue.message.contains(#""entities" → "relation" → "fields" → "role""#) == true, "\(error?.issue.message ?? "")")
    }
}
