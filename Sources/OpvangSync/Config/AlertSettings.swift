/// `alerts` (SPEC §6): a mail to the people who must act when a run did not apply its export.
public struct AlertSettings: Sendable, Equatable {
    /// Recipients; no alert is sent when empty.
    public var to: [String] = []
    /// Also alert when a run applied but rejected rows (exit 4).
    public var onRejected = false

    public init() {}
}
