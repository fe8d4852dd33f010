/// The human report as one self-contained web page (SPEC §7): the same `ReportDocument` as the Markdown,
/// for people who never open a Markdown file.
///
/// - Self-contained: the style is inline, there is no script, and nothing is loaded from elsewhere; a
///   Content-Security-Policy says so to the browser as well, so even a mistake in escaping could not run
///   or fetch anything.
/// - Safe: every piece of text is HTML-escaped, control and bidi characters left out.
/// - Printable: an A4 print style, table rows never split across pages, table headers repeated.
public enum HTMLReport {
    public static func render(_ report: RunReport) -> String {
        render(report, ReportContent.document(report))
    }

    /// The web page of a document already built (the Markdown is rendered from the same one).
    static func render(_ report: RunReport, _ document: ReportDocument) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="nl">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>\(inline(document.title, plain: true))</title>
            <style>\(style)</style>
            </head>
            <body>
            <header class="kop \(document.tone.rawValue)">
            <h1>\(inline(document.title))</h1>
            <p class="status">\(escape(document.status))</p>
            </header>
            <nav aria-label="Inhoud"><ol>

            """
        for section in document.sections {
            out += "<li><a href=\"#\(section.anchor)\">\(escape(section.title))</a></li>\n"
        }
        out += "</ol></nav>\n<main>\n"
        for section in document.sections {
            out += "<section id=\"\(section.anchor)\"\(section.anchor == "technisch" ? " class=\"technisch\"" : "")>\n"
            out += "<h2>\(escape(section.title))</h2>\n"
            for block in section.blocks { out += render(block, level: 3) }
            out += "</section>\n"
        }
        out += "</main>\n<footer>Gemaakt door opvangsync \(escape(report.version ?? "")) op \(escape(report.host ?? "")). Dit rapport bevat persoonsgegevens: deel het niet buiten de organisatie.</footer>\n</body>\n</html>\n"
        return out
    }

    static func render(_ block: ReportDocument.Block, level: Int) -> String {
        switch block {
        case .paragraph(let text):
            return "<p>\(inline(text))</p>\n"
        case .note(let text):
            return "<p class=\"let-op\">\(inline(text))</p>\n"
        case .list(let items):
            return "<ul>\n" + items.map { "<li>\(inline($0))</li>\n" }.joined() + "</ul>\n"
        case .facts(let facts):
            return "<table class=\"gegevens\">\n<tbody>\n"
                + facts.map { "<tr><th scope=\"row\">\(escape($0.0))</th><td>\(inline($0.1))</td></tr>\n" }.joined()
                + "</tbody>\n</table>\n"
        case .table(let header, let numeric, let rows, let nowrap):
            func cell(_ index: Int) -> String {
                numeric.contains(index) ? " class=\"getal\"" : nowrap.contains(index) ? " class=\"kort\"" : ""
            }
            var html = "<table>\n<thead><tr>"
            for (index, name) in header.enumerated() { html += "<th scope=\"col\"\(cell(index))>\(escape(name))</th>" }
            html += "</tr></thead>\n<tbody>\n"
            for row in rows {
                html += "<tr>"
                for (index, text) in row.enumerated() { html += "<td\(cell(index))>\(inline(text))</td>" }
                html += "</tr>\n"
            }
            return html + "</tbody>\n</table>\n"
        case .subsection(let title, let blocks):
            let tag = "h\(min(level, 6))"
            return "<div class=\"deel\"><\(tag)>\(inline(title))</\(tag)>\n" + blocks.map { render($0, level: level + 1) }.joined() + "</div>\n"
        }
    }

    static func inline(_ text: ReportDocument.Text, plain: Bool = false) -> String {
        text.map { piece in
            switch piece {
            case .text(let value): return escape(value)
            case .code(let value): return plain ? escape(value) : "<code>\(escape(value))</code>"
            case .strong(let value): return plain ? escape(value) : "<strong>\(escape(value))</strong>"
            }
        }.joined()
    }

    /// Text made inert for HTML, in element content and in quoted attribute values alike: `<`, `>`, `&`,
    /// `"` and `'` as character references; control characters and the bidi marks and overrides (which
    /// could make a name read as something else) left out; line breaks and tabs as spaces.
    public static func escape(_ text: String) -> String {
        if TextSafety.isPlainASCII(text, avoiding: "<>&\"'") { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\r", "\n", "\t": out += " "
            default:
                if TextSafety.isControl(scalar) { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One style sheet for screen and paper. On paper: A4, no navigation, rows and headings kept whole,
    /// table headers repeated on each page, colours kept only where they carry meaning.
    static let style = """

        :root { --inkt: #1d1d1b; --grijs: #5f6368; --lijn: #d0d4d9; --vlak: #f3f5f7; --goed: #1e7b34; --let: #9a6700; --fout: #b3261e; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; font: 15px/1.5 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--inkt); background: #fff; }
        header.kop { border-left: .5rem solid var(--grijs); padding: .5rem 1rem; margin-bottom: 1rem; background: var(--vlak); }
        header.kop.good { border-color: var(--goed); }
        header.kop.attention { border-color: var(--let); }
        header.kop.bad { border-color: var(--fout); }
        h1 { font-size: 1.6rem; margin: 0; }
        .status { font-size: 1.2rem; font-weight: bold; margin: .25rem 0 0; }
        .good .status { color: var(--goed); }
        .attention .status { color: var(--let); }
        .bad .status { color: var(--fout); }
        h2 { font-size: 1.25rem; border-bottom: 2px solid var(--lijn); padding-bottom: .2rem; margin: 2rem 0 .75rem; }
        h3, h4, h5, h6 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
        nav ol { columns: 2; margin: 0 0 1rem; padding-left: 1.5rem; }
        nav a { color: #0b57d0; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
        th, td { border: 1px solid var(--lijn); padding: .3rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
        thead th { background: var(--vlak); }
        table.gegevens { width: auto; min-width: 50%; }
        table.gegevens th { background: var(--vlak); font-weight: normal; white-space: nowrap; }
        .getal { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; width: 1%; }
        td code, .kort { white-space: nowrap; }
        code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: .88em; background: var(--vlak); padding: 0 .2em; border-radius: 3px; }
        .let-op { border-left: .3rem solid var(--fout); background: #fdecea; padding: .5rem .75rem; }
        section.technisch { color: var(--grijs); }
        footer { margin-top: 2rem; border-top: 1px solid var(--lijn); padding-top: .5rem; color: var(--grijs); font-size: .85rem; }
        @page { size: A4; margin: 15mm 12mm 15mm 12mm; }
        @media print {
          body { max-width: none; padding: 0; font-size: 10pt; }
          nav { display: none; }
          a { color: inherit; text-decoration: none; }
          header.kop, thead th, table.gegevens th, code, .let-op { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
          thead { display: table-header-group; }
          tr, th, td, li, .let-op, table.gegevens { break-inside: avoid; page-break-inside: avoid; }
          section.technisch { break-before: page; page-break-before: always; }
        }

        """
}
