/// The numbers behind the rules of SPEC §4 and §5; every one has a working default.
public struct Rules: Sendable, Equatable {
    public var inviteDaysBeforeStart = 42
    public var activationValidDays = 14
    public var attendanceHorizonDays = 28
    public var maxRemovalFraction = 0.10
    /// A location is held as it was when the export would end more than this share of its active
    /// placements or children (SPEC §5); the rest of the export is applied.
    public var maxRemovalFractionPerLocation = 0.5
    public var maxRejectedFraction = 0.05
    public var maxExportAgeHours = 36.0

    public init() {}
}
