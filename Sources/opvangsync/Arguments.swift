/// Parsed command-line words: positionals, `--flag`, `--option VALUE` and `--option=VALUE`.
///
/// Every option a command accepts is declared, so a typo such as `--dryrun` is a usage error, not a
/// silently ignored word.
struct Arguments {
    var positionals: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    struct Invalid: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    init(_ words: [String], options: Set<String>, flags allowedFlags: Set<String>) throws {
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            guard word.hasPrefix("--"), word.count > 2 else {
                positionals.append(word)
                continue
            }
            var name = String(word.dropFirst(2))
            var inline: String?
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if allowedFlags.contains(name) {
                guard inline == nil else { throw Invalid(message: "--\(name) takes no value") }
                flags.insert(name)
            } else if options.contains(name) {
                if let inline {
                    values[name] = inline
                } else {
                    guard index < words.count else { throw Invalid(message: "--\(name) needs a value") }
                    values[name] = words[index]
                    index += 1
                }
            } else {
                let known = (options.map { "--\($0) VALUE" } + allowedFlags.map { "--\($0)" }).sorted()
                throw Invalid(message: "unknown option --\(name); this command takes: \(known.joined(separator: ", "))")
            }
        }
    }

    func value(_ name: String) -> String? { values[name] }
    func flag(_ name: String) -> Bool { flags.contains(name) }
}
