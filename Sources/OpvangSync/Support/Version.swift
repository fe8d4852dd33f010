/// The version of opvangsync, printed by `--version` and written into every report. `make deb` reads it
/// from this line, so the package's version and the binary's are the same.
public let opvangsyncVersion = "1.0.0"
