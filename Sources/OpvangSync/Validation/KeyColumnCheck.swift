/// Whether a key column holds citizen service numbers (SPEC §4 "Data minimisation").
///
/// A BSN used as the planning system's key would be stored in the portal as every record's key, so such a
/// column is refused as a whole rather than scrubbed value by value (scrubbing a key destroys it). About one
/// in eleven 9-digit numbers passes the 11-proef by chance; a column of BSNs passes on every value. So more
/// than half passing is refused, and a share well above chance is a warning.
struct KeyColumnCheck {
    /// The share of 9-digit values passing the 11-proef above which the run is refused.
    static let refusedShare = 0.5
    /// The share above which the report warns: about three times what chance gives.
    static let warnedShare = 0.25
    /// Below this many 9-digit values a share says too little to refuse a run on (one value passes by
    /// chance one time in eleven; two of three by chance, one time in 45); such a column is warned about.
    static let minimumForRefusal = 3

    private(set) var nineDigitValues = 0
    private(set) var passing = 0

    /// Counts one key value as written in the export.
    mutating func count(_ text: String) {
        count(BSN.keyEvidence(text))
    }

    /// Counts one key value by what `BSN.keyEvidence` found in it.
    mutating func count(_ evidence: BSN.KeyEvidence) {
        guard evidence.nineDigits else { return }
        nineDigitValues += 1
        if evidence.passes { passing += 1 }
    }

    /// The issue this column calls for, if any: an error (`bsn-key-column`, the run stops before anything
    /// is applied) or a warning. `column` is the export's own name for the column.
    func issue(file: String, column: String) -> Issue? {
        guard passing > 0 else { return nil }
        let share = Double(passing) / Double(nineDigitValues)
        let counted = "\(passing) van de \(nineDigitValues) nummers van negen cijfers voldoen aan de elfproef; bij toeval is dat ongeveer 1 op 11"
        if share > KeyColumnCheck.refusedShare, nineDigitValues >= KeyColumnCheck.minimumForRefusal {
            return Issue(.error, "bsn-key-column", file: file, field: column, message:
                "de sleutelkolom \"\(column)\" lijkt burgerservicenummers te bevatten (\(counted)); een BSN mag niet in het portaal komen, dus er is niets verwerkt. Laat de mapping een ander nummer als sleutel gebruiken")
        }
        guard share > KeyColumnCheck.warnedShare else { return nil }
        return Issue(.warning, "bsn-key-column", file: file, field: column, message:
            "de sleutelkolom \"\(column)\" bevat opvallend veel nummers die aan de elfproef voldoen (\(counted)); controleer of het planningssysteem hier geen burgerservicenummers gebruikt")
    }
}

extension KeyColumnCheck {
    /// The identifier fields of `kind` (its keys and its references to other records) that are watched.
    static func watchedFields(of kind: EntityKind) -> [Int] {
        kind.schema.fields.indices.filter { kind.schema.fields[$0].type == .identifier }
    }
}
