import Foundation
import OpvangSync

let usage = """
    Usage: exportgen [--children N] [--seed S] [--locations N] [--groups-per-location N] [--as-of jjjj-mm-dd]
                     [--format csv|json] [--encoding windows-1252|utf-8] [--next-night] --out DIR
           exportgen broken --out DIR

    Writes a synthetic export of the planning system, deterministic for a given seed.
    `broken` writes one folder per realistic fault, each with EXPECTED.json saying what a run must report.
    """

func value(_ name: String, in words: [String]) -> String? {
    guard let index = words.firstIndex(of: "--\(name)"), index + 1 < words.count else { return nil }
    return words[index + 1]
}

func generatorOptions(_ words: [String]) -> GeneratorOptions {
    var options = GeneratorOptions()
    if let text = value("children", in: words), let number = Int(text) { options.children = number }
    if let text = value("seed", in: words), let number = UInt64(text) { options.seed = number }
    if let text = value("locations", in: words), let number = Int(text) { options.locations = number }
    if let text = value("groups-per-location", in: words), let number = Int(text) { options.groupsPerLocation = number }
    if let text = value("as-of", in: words), let day = Day(iso: text) { options.asOf = day }
    return options
}

func metadata(_ options: GeneratorOptions, nextNight: Bool) -> ExportWriter.Metadata {
    let night = options.asOf.adding(days: nextNight ? 0 : -1)
    return ExportWriter.Metadata(organisationID: options.organisationID, organisationName: options.organisationName,
                                 portalURL: options.portalURL, exportedAt: "\(night.iso)T23:40:00+01:00")
}

let words = Array(CommandLine.arguments.dropFirst())
guard let out = value("out", in: words) else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}
do {
    if words.first == "broken" {
        try BrokenExports.write(to: out)
    } else {
        let options = generatorOptions(words)
        var generator = Generator(options: options)
        var tables = generator.generate()
        let nextNight = words.contains("--next-night")
        if nextNight { generator.nextNight(&tables) }
        let meta = metadata(options, nextNight: nextNight)
        if value("format", in: words) == "json" {
            try ExportWriter.writeJSON(tables, to: out, metadata: meta)
        } else {
            let encoding = ExportWriter.Encoding(rawValue: value("encoding", in: words) ?? "windows-1252") ?? .windows1252
            try ExportWriter.writeCSV(tables, order: Generator.fileOrder, to: out, encoding: encoding, metadata: meta)
        }
    }
} catch {
    FileHandle.standardError.write(Data("exportgen: \(error)\n".utf8))
    exit(1)
}
