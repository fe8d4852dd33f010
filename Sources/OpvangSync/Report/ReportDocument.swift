/// The human report of a run as a document: a title, then sections of paragraphs, lists and tables. The
/// Markdown (`MarkdownReport`) and the web page (`HTMLReport`) are two renderings of the same document, so
/// they always say the same thing.
///
/// Everything here is plain text; each renderer escapes it for its own format. Text from outside (the
/// export, the manifest, a mail server) never becomes markup.
struct ReportDocument {
    /// A piece of running text.
    enum Inline: Equatable {
        case text(String)
        /// A key, file name or code: shown in a fixed-width font.
        case code(String)
        case strong(String)
    }

    typealias Text = [Inline]

    enum Block {
        case paragraph(Text)
        case list([Text])
        /// A table; `numeric` columns are right-aligned, `nowrap` columns (short values: a column name, a
        /// status) are never broken over lines.
        case table(header: [String], numeric: Set<Int>, rows: [[Text]], nowrap: Set<Int> = [])
        /// Two columns: what, and its value.
        case facts([(String, Text)])
        /// A highlighted remark (why a run stopped).
        case note(Text)
        case subsection(title: Text, blocks: [Block])
    }

    /// How the run went, for the colour of the summary.
    enum Tone: String { case good, attention, bad }

    struct Section {
        var title: String
        /// A stable anchor for the web page.
        var anchor: String
        var blocks: [Block]
    }

    var title: Text
    var tone: Tone
    /// The status in words, shown first.
    var status: String
    var sections: [Section]
}
