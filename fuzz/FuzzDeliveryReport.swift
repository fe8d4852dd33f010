// libFuzzer target: the reader of delivery status notifications (fuzz/run.sh). Whatever a bounce mailbox
// holds, reading it ends, and what is kept of a report is one printable line of bounded length.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeliveryReport(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let report = try? DeliveryReport.parse(bytes) else { return 0 }
    func printable(_ text: String, limit: Int) -> Bool {
        text.utf8.count <= limit && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
    }
    precondition(!report.recipients.isEmpty && report.recipients.count <= 100, "recipients")
    for recipient in report.recipients {
        for address in [recipient.finalRecipient, recipient.originalRecipient].compactMap({ $0 }) {
            precondition(printable(address, limit: 254) && !address.contains(" ") && address.contains("@"), "an address")
        }
        if let diagnostic = recipient.diagnostic { precondition(printable(diagnostic, limit: 300), "a diagnostic") }
        if let status = recipient.status { precondition(DeliveryReport.isEnhancedCode(status), "a status") }
    }
    if let id = report.originalMessageID { precondition(printable(id, limit: 250) && !id.contains(" "), "a Message-ID") }
    for address in report.deliveredTo { precondition(printable(address, limit: 254), "a delivered-to address") }
    return 0
}
