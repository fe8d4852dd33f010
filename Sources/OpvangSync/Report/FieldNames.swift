/// The names people know a field by: the export's own column names (`Maandag`, `E-mail 2`), taken from the
/// mapping, instead of the canonical names the code uses (`monday`, `email2`).
public enum FieldNames {
    /// Entity → canonical field → the column (CSV header or JSON key) the mapping reads it from.
    public static func columns(of mapping: Mapping) -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for (kind, source) in mapping.entities {
            var fields: [String: String] = [:]
            for (index, column) in source.columns.enumerated() {
                if let column { fields[kind.schema.fields[index].name] = column }
            }
            result[kind.rawValue] = fields
        }
        return result
    }

    /// The columns of the default export (SPEC §2): the names for a field the mapping of a run does not
    /// name (a report written before the names were kept, a field that mapping leaves out).
    static let standard: [String: [String: String]] = {
        guard let mapping = try? BuiltInMapping.flexkidsCSV.mapping() else { return [:] }
        return columns(of: mapping)
    }()

    /// The name of `field` of `entity`: the column in `columns` (a report's), else the default export's,
    /// else the canonical name.
    public static func label(_ entity: String, _ field: String, in columns: [String: [String: String]]? = nil) -> String {
        columns?[entity]?[field] ?? standard[entity]?[field] ?? field
    }

    /// The login address's column as the export names it: the account rules say `E-mail` or `E-mail 2`
    /// (the canonical `email` and `email2`).
    public static func emailColumn(_ column: String?, in columns: [String: [String: String]]? = nil) -> String? {
        switch column {
        case "E-mail": return label("parent", "email", in: columns)
        case "E-mail 2": return label("parent", "email2", in: columns)
        default: return column
        }
    }

    /// A stored value as people read it: a date `jjjj-mm-dd` as `dd-mm-jjjj`, anything else as stored.
    public static func display(_ entity: String, _ field: String, _ value: String?) -> String? {
        guard let value, let kind = EntityKind(rawValue: entity), let index = kind.schema.fieldIndex(field),
              kind.schema.fields[index].type == .date, let day = Day(iso: value) else { return value }
        return day.dutch
    }
}
