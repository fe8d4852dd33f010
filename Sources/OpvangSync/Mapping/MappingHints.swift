/// What an error tells the person who writes the mapping (SPEC §3): which mapping file, and which key in
/// it to add or change. Dutch, like every message in the report.
extension Mapping {
    /// A key path of the mapping file as it reads in a message: `"codes" → "role"`.
    static func keyPath(_ keys: [String]) -> String {
        keys.map(quoted).joined(separator: " → ")
    }

    /// `text` as a JSON string literal, so that it can be copied into the mapping file as it stands.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// The key path that names the source of `field` of `kind`.
    func fieldKeyPath(_ kind: EntityKind, _ field: String, part: Int? = nil) -> String {
        guard let part, (entities[kind]?.parts.count ?? 1) > 1 else {
            return Mapping.keyPath(["entities", kind.rawValue, "fields", field])
        }
        return Mapping.keyPath(["entities", kind.rawValue, "parts"]) + " (deel \(part + 1)) → " + Mapping.keyPath(["fields", field])
    }

    /// Why a code is unknown and where to add it. `code` is nil when the value may not be shown (a
    /// personal field): the message then points at the cell instead.
    func unknownCodeMessage(_ code: String?, table: CodeTable) -> String {
        let known = table.values.joined(separator: ", ")
        let place = "aan \(Mapping.keyPath(["codes", table.rawValue])) in de mapping \(path)"
        guard let code else {
            return "onbekende code; bekend zijn \(known) en de vertalingen in de mapping. Voeg de code zoals die in deze cel staat als sleutel toe \(place), met de bedoelde code als waarde"
        }
        let shown = Mapping.quoted(code)
        return "onbekende code \(shown); bekend zijn \(known) en de vertalingen in de mapping. Betekent \(shown) een van deze, voeg dan de sleutel \(shown) toe \(place), met de bedoelde code als waarde (bijvoorbeeld \(shown): \(Mapping.quoted(table.values[0])))"
    }
}
