/// The human report as Markdown, in Dutch, for customer service: the `ReportDocument` of a run, with every
/// piece of text from outside made inert.
public enum MarkdownReport {
    public static func render(_ report: RunReport) -> String {
        render(ReportContent.document(report))
    }

    /// The Markdown of a document already built (the web page is rendered from the same one).
    static func render(_ document: ReportDocument) -> String {
        var out: [String] = ["# " + inline(document.title), ""]
        for section in document.sections {
            out.append("## \(escape(section.title))")
            out.append("")
            for block in section.blocks { out += render(block, level: 3) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func render(_ block: ReportDocument.Block, level: Int) -> [String] {
        switch block {
        case .paragraph(let text):
            return [inline(text), ""]
        case .note(let text):
            return ["> " + inline(text), ""]
        case .list(let items):
            return items.map { "- " + inline($0) } + [""]
        case .facts(let facts):
            return ["| | |", "|---|---|"] + facts.map { "| \(escape($0.0)) | \(inline($0.1)) |" } + [""]
        case .table(let header, let numeric, let rows, _):
            let rule = header.indices.map { numeric.contains($0) ? "---:" : "---" }
            return ["| " + header.map(escape).joined(separator: " | ") + " |", "|" + rule.joined(separator: "|") + "|"]
                + rows.map { "| " + $0.map(inline).joined(separator: " | ") + " |" } + [""]
        case .subsection(let title, let blocks):
            return [String(repeating: "#", count: level) + " " + inline(title), ""] + blocks.flatMap { render($0, level: level + 1) }
        }
    }

    static func inline(_ text: ReportDocument.Text) -> String {
        text.map { piece in
            switch piece {
            case .text(let value): return escape(value)
            case .code(let value): return code(value)
            case .strong(let value): return value.isEmpty ? "" : "**\(escape(value))**"
            }
        }.joined()
    }

    /// What the run means, in one paragraph (the "Wat betekent dit?" of the report).
    static func explanation(_ report: RunReport) -> String { ReportContent.explanation(report) }

    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10),\(tenths % 10)%"
    }

    /// Text from outside (the export, the manifest, a mail server) made inert for Markdown: it renders as
    /// the same characters and nothing else. HTML (`<script>`), links (`[x](javascript:…)`), emphasis,
    /// code spans, table pipes, line breaks and control characters cannot change the document around it.
    static func escape(_ text: String) -> String {
        let out = TextSafety.isPlainASCII(text, avoiding: "<>&\\`*_[]|~") ? text : escapeCharacters(text)
        // No address from the data may become a link: renderers turn `https://…` and `www.…` into one.
        guard out.containsBytes("://") || out.containsBytes("www.") else { return out }
        return out.replacingOccurrences(of: "://", with: "&#58;//").replacingOccurrences(of: "www.", with: "www&#46;")
    }

    /// `text` with each character that Markdown reads as markup escaped, and control characters left out.
    private static func escapeCharacters(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\\", "`", "*", "_", "[", "]", "|", "~":
                out += "\\"
                out.unicodeScalars.append(scalar)
            case "\r", "\n", "\t": out += " "
            default:
                // Other control characters (NUL, ESC, the C1 range, the bidi marks and overrides) are left out.
                if TextSafety.isControl(scalar) { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A key, file name or code from outside as a code span, when it can be one safely; escaped text otherwise.
    static func code(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { scalar in
            scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "`" && scalar != "|" && scalar != "\\"
        }
        return plain && !text.isEmpty ? "`\(text)`" : escape(text)
    }
}
